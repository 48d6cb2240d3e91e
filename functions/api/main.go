// Command api serves the HTTP API behind API Gateway (HTTP API, payload v2).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/privacy-pipeline/dsr/internal/app"
)

func main() {
	a, err := app.FromEnv(context.Background())
	if err != nil {
		slog.Error("start-up failed", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(httpadapter.NewV2(a.API()).ProxyWithContext)
}
