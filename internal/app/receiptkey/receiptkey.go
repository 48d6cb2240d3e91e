// Package receiptkey gives the App the hasher of the keys erasure receipts
// list, on the receipt key in KMS (internal/kmsmac). It is a package of its
// own so that only the mains of the functions that hash keys import it, and
// link the KMS client (see app.Extras).
package receiptkey

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/privacy-pipeline/dsr/internal/kmsmac"
	"github.com/privacy-pipeline/dsr/internal/workflow"
)

// New returns the hasher on the KMS key of the given id, ARN or alias.
func New(awsCfg aws.Config, keyID string) workflow.KeyHasher {
	return kmsmac.New(kms.NewFromConfig(awsCfg), keyID)
}
