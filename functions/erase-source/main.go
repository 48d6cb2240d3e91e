// Command erase-source is the workflow task of the same name, run as a Lambda function.
package main

import (
	"github.com/privacy-pipeline/dsr/internal/app"
	"github.com/privacy-pipeline/dsr/internal/app/receiptkey"
	"github.com/privacy-pipeline/dsr/internal/app/s3sources"
)

func main() {
	// Erasing changes the sources, S3 ones among them, and hashes the keys
	// it touched for the receipt.
	app.RunWith(app.Extras{S3Sources: s3sources.New, ReceiptKeys: receiptkey.New}, func(a *app.App) any { return a.EraseSource() })
}
