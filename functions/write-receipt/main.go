// Command write-receipt is the workflow task of the same name, run as a Lambda function.
package main

import (
	"github.com/privacy-pipeline/dsr/internal/app"
	"github.com/privacy-pipeline/dsr/internal/app/receiptkey"
)

func main() {
	// The receipt lists what could not be erased, and the owners' notes on
	// manual sources, by keyed hashes.
	app.RunWith(app.Extras{ReceiptKeys: receiptkey.New}, func(a *app.App) any { return a.WriteReceipt() })
}
