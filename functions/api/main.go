// Command api serves the HTTP API behind API Gateway (HTTP API, payload v2).
package main

import (
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/privacy-pipeline/dsr/internal/app"
)

func main() {
	app.Run(func(a *app.App) any { return httpadapter.NewV2(a.API()).ProxyWithContext })
}
