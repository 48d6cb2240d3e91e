// Package kmsmac hashes keys for erasure receipts with a secret that only
// KMS can make: an HMAC key in KMS never leaves it, and the hashing secret
// is that key's MAC of a fixed label, asked for once per process. Without
// access to the KMS key, nobody can tell which key (an email, a user id) a
// receipt's hash stands for, even by trying every likely value.
package kmsmac

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
)

// API is the part of the KMS client the hasher uses.
type API interface {
	GenerateMac(context.Context, *kms.GenerateMacInput, ...func(*kms.Options)) (*kms.GenerateMacOutput, error)
}

// label is what the KMS key signs to make the hashing secret. Changing it
// changes every hash, so it carries a version.
const label = "privacy-pipeline erasure receipt key hashes v1"

// Prefix names the hash in a receipt.
const Prefix = "hmac-sha256:"

// Hasher hashes keys with the secret derived from a KMS HMAC key.
type Hasher struct {
	api   API
	keyID string

	mu     sync.Mutex
	secret []byte
}

// New returns a hasher on the KMS key with the given id, ARN or alias.
func New(api API, keyID string) *Hasher { return &Hasher{api: api, keyID: keyID} }

// HashKey returns the keyed hash of key.
func (h *Hasher) HashKey(ctx context.Context, key string) (string, error) {
	secret, err := h.derive(ctx)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(key))
	return Prefix + hex.EncodeToString(mac.Sum(nil)), nil
}

func (h *Hasher) derive(ctx context.Context) ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.secret != nil {
		return h.secret, nil
	}
	if h.keyID == "" {
		return nil, apperr.E(apperr.Internal, "No KMS key for receipt hashes is configured (RECEIPT_KEY_ID).")
	}
	out, err := h.api.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: &h.keyID, Message: []byte(label), MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, "The key for receipt hashes is unavailable.", err)
	}
	h.secret = out.Mac
	return h.secret, nil
}
