// Command inbound handles mail to the privacy inbox: the SES receipt rule
// stores each message in the raw-mail bucket and invokes this function,
// which makes it a request or leaves it to an operator.
package main

import "github.com/privacy-pipeline/dsr/internal/app"

func main() { app.Run(func(a *app.App) any { return a.Inbound() }) }
