// Command deadline-report publishes, on a schedule, the number of open
// requests and of those due within three days, for the stack's alarm.
package main

import "github.com/privacy-pipeline/dsr/internal/app"

func main() { app.Run(func(a *app.App) any { return a.DeadlineReport() }) }
