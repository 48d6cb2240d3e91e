// Command resolve-identities is the workflow task of the same name, run as a Lambda function.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/privacy-pipeline/dsr/internal/app"
)

func main() {
	a, err := app.FromEnv(context.Background())
	if err != nil {
		slog.Error("start-up failed", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(a.ResolveIdentities())
}
