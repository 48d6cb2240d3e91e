// Command collect-source is the workflow task of the same name, run as a Lambda function.
package main

import (
	"github.com/privacy-pipeline/dsr/internal/app"
	"github.com/privacy-pipeline/dsr/internal/app/s3sources"
)

func main() {
	// Collecting reads the sources, S3 ones among them.
	app.RunWith(app.Extras{S3Sources: s3sources.New}, func(a *app.App) any { return a.CollectSource() })
}
