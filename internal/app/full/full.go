// Package full wires the App with every extra, for the processes that do
// what every function does: the local stack, privacyctl and the end-to-end
// test of a deployed stack. A Lambda main takes only the extras its
// function uses (see app.Extras).
package full

import (
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/privacy-pipeline/dsr/internal/app"
	"github.com/privacy-pipeline/dsr/internal/app/receiptkey"
	"github.com/privacy-pipeline/dsr/internal/app/s3sources"
)

// New wires an App with every extra (see app.New).
func New(cfg app.Config, awsCfg aws.Config, log *slog.Logger) (*app.App, error) {
	return app.New(cfg, awsCfg, log, app.Extras{S3Sources: s3sources.New, ReceiptKeys: receiptkey.New})
}
