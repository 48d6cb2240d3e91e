package kmsmac

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/privacy-pipeline/dsr/internal/apperr"
)

// fakeKMS signs with a key of its own, as KMS would, and counts its calls.
type fakeKMS struct {
	key   []byte
	calls int
	fail  error
}

func (f *fakeKMS) GenerateMac(_ context.Context, in *kms.GenerateMacInput, _ ...func(*kms.Options)) (*kms.GenerateMacOutput, error) {
	f.calls++
	if f.fail != nil {
		return nil, f.fail
	}
	if *in.KeyId != "alias/receipts" || in.MacAlgorithm != "HMAC_SHA_256" {
		return nil, errors.New("NotFoundException")
	}
	m := hmac.New(sha256.New, f.key)
	m.Write(in.Message)
	return &kms.GenerateMacOutput{Mac: m.Sum(nil)}, nil
}

func TestHashKey(t *testing.T) {
	ctx := context.Background()
	f := &fakeKMS{key: []byte("key one")}
	h := New(f, "alias/receipts")
	a1, err := h.HashKey(ctx, "profiles/u-1001.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := h.HashKey(ctx, "profiles/u-1001.jsonl")
	b, _ := h.HashKey(ctx, "profiles/u-1002.jsonl")
	other, _ := New(&fakeKMS{key: []byte("key two")}, "alias/receipts").HashKey(ctx, "profiles/u-1001.jsonl")
	switch {
	case a1 != a2:
		t.Error("the same key hashes differently")
	case a1 == b:
		t.Error("two keys hash the same")
	case a1 == other:
		t.Error("another KMS key gives the same hash: the hash is not keyed")
	case !strings.HasPrefix(a1, Prefix) || len(a1) != len(Prefix)+64 || strings.Contains(a1, "u-1001"):
		t.Errorf("hash %q", a1)
	}
	if f.calls != 1 {
		t.Errorf("KMS asked %d times, want once per process", f.calls)
	}
}

func TestHashKeyUnavailable(t *testing.T) {
	f := &fakeKMS{fail: errors.New("AccessDeniedException: secret detail")}
	_, err := New(f, "alias/receipts").HashKey(context.Background(), "k")
	if !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("err %v, want Unavailable", err)
	}
	if _, err := New(f, "").HashKey(context.Background(), "k"); !apperr.Is(err, apperr.Internal) {
		t.Fatalf("no key id: err %v, want Internal", err)
	}
	f.fail = nil
	f.key = []byte("k")
	h := New(f, "alias/receipts")
	f.fail = errors.New("ThrottlingException")
	if _, err := h.HashKey(context.Background(), "k"); err == nil {
		t.Fatal("no error")
	}
	f.fail = nil
	if _, err := h.HashKey(context.Background(), "k"); err != nil {
		t.Fatalf("a failure is not remembered: %v", err)
	}
}
