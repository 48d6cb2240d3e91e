// Command resolve-identities is the workflow task of the same name, run as a Lambda function.
package main

import (
	"github.com/privacy-pipeline/dsr/internal/app"
	"github.com/privacy-pipeline/dsr/internal/app/s3sources"
)

func main() {
	// Resolving asks the sources, S3 ones among them, for the subject's
	// identities, and counts the objects of S3 sources to find large ones.
	app.RunWith(app.Extras{S3Sources: s3sources.New}, func(a *app.App) any { return a.ResolveIdentities() })
}
