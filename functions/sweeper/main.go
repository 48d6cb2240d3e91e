// Command sweeper starts, on a schedule, the workflows of requests that were
// stored without one, and flags for an operator those it cannot start.
package main

import "github.com/privacy-pipeline/dsr/internal/app"

func main() { app.Run(func(a *app.App) any { return a.Sweep() }) }
