// Command finish-large-source is the workflow task of the same name, run as a Lambda function.
package main

import (
	"github.com/privacy-pipeline/dsr/internal/app"
	"github.com/privacy-pipeline/dsr/internal/app/receiptkey"
)

func main() {
	// Finishing a large source hashes, for the receipt, the keys its
	// objects' tasks touched.
	app.RunWith(app.Extras{ReceiptKeys: receiptkey.New}, func(a *app.App) any { return a.FinishLargeSource() })
}
