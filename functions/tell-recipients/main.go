// Command tell-recipients is the workflow task of the same name, run as a Lambda function.
package main

import "github.com/privacy-pipeline/dsr/internal/app"

func main() { app.Run(func(a *app.App) any { return a.TellRecipients() }) }
