package app

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/workflow"
)

// S3Sources reads and erases the subject's data in S3 sources: a source
// whole, or one object of a large one.
type S3Sources interface {
	workflow.SourceAdapter
	workflow.ObjectSource
}

// Extras are the components that only some functions use and that link
// much: the reader of S3 sources links the Parquet library and five
// compression codecs, the receipt key the KMS client. Their packages
// (internal/app/s3sources, internal/app/receiptkey) give their
// constructors, and a function's binary carries them only if its main
// imports them; internal/app/full gives both, for the processes that do
// everything. Without one, the tasks that need it fail, saying so.
type Extras struct {
	// S3Sources makes the reader of S3 sources on the App's S3 client.
	S3Sources func(*s3.Client) S3Sources
	// ReceiptKeys makes the hasher of the keys erasure receipts list, on
	// the KMS key of the given id, ARN or alias.
	ReceiptKeys func(awsCfg aws.Config, keyID string) workflow.KeyHasher
}

// missing stands in for an extra the function was built without: the task
// that reaches it fails, naming it, rather than going on without it (with
// no S3 source large, or receipts that list no keys).
type missing string

func (m missing) err() error {
	return apperr.E(apperr.Internal, "This function is built without "+string(m)+".")
}

func (m missing) Find(context.Context, *registry.Source, map[string][]string) ([]map[string]any, []erasure.Finding, error) {
	return nil, nil, m.err()
}

func (m missing) Erase(context.Context, *registry.Source, map[string][]string, bool, erasure.Journal) (erasure.Result, error) {
	return erasure.Result{}, m.err()
}

func (m missing) Applied(context.Context, *registry.Source, map[string][]string, erasure.Step) (bool, error) {
	return false, m.err()
}

func (m missing) Oversized(context.Context, *registry.Source, int, int64) (bool, error) {
	return false, m.err()
}

func (m missing) FindInObject(context.Context, *registry.Source, map[string][]string, string) ([]map[string]any, []erasure.Finding, error) {
	return nil, nil, m.err()
}

func (m missing) EraseInObject(context.Context, *registry.Source, map[string][]string, string, bool, erasure.Journal) (erasure.Result, error) {
	return erasure.Result{}, m.err()
}

func (m missing) HashKey(context.Context, string) (string, error) { return "", m.err() }
