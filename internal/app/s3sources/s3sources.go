// Package s3sources gives the App its reader of S3 sources (internal/s3src:
// JSON lines, CSV and Parquet objects, plain or compressed). It is a
// package of its own because the Parquet library and the compression
// codecs it links are a large part of a binary: only the mains of the
// functions that read or erase S3 sources import it (see app.Extras).
package s3sources

import (
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/privacy-pipeline/dsr/internal/app"
	"github.com/privacy-pipeline/dsr/internal/s3src"
)

// New returns the reader of S3 sources on the App's S3 client.
func New(client *s3.Client) app.S3Sources { return s3src.New(client) }
