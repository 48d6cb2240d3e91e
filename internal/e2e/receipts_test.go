package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/erasure"
)

// TestLargeReceipt: a subject found in tens of thousands of objects or items
// gets an outcome and a receipt listing every one of them, though that is
// far more than a DynamoDB item holds (400 KB), and the chain still holds.
func TestLargeReceipt(t *testing.T) {
	ctx := context.Background()
	receipts := stack.App.Receipts()
	requestID := fmt.Sprintf("dsr-%s-largereceipt%d", time.Now().UTC().Format("20060102"), time.Now().UnixNano()%1e6)
	touched := func(n int) []erasure.Touched {
		out := make([]erasure.Touched, n)
		for i := range out {
			b := make([]byte, 32)
			_, _ = rand.Read(b)
			out[i] = erasure.Touched{Key: "hmac-sha256:" + hex.EncodeToString(b), Action: erasure.ActionRewritten}
		}
		return out
	}
	const perRun = 25_000
	first, second := touched(perRun), touched(perRun)
	// An outcome is put whole, as the journal adds it up after each
	// attempt: the second replaces the first, in more chunks.
	for _, part := range [][]erasure.Touched{first, slices.Concat(first, second)} {
		o := erasure.Outcome{SourceID: "clickstream", Kind: "s3", Mode: "delete", Records: len(part), Deleted: len(part), Touched: part}
		if err := receipts.PutOutcome(ctx, requestID, o); err != nil {
			t.Fatalf("storing an outcome of %d keys: %v", len(part), err)
		}
	}
	outcomes, err := receipts.Outcomes(ctx, requestID)
	if err != nil {
		t.Fatal(err)
	}
	if len(outcomes) != 1 || outcomes[0].Deleted != 2*perRun || !slices.Equal(outcomes[0].Touched, slices.Concat(first, second)) {
		t.Fatalf("read back %d outcomes; want one with all %d keys in order", len(outcomes), 2*perRun)
	}

	l, err := receipts.Append(ctx, requestID, func(prev erasure.Link) (erasure.Link, error) {
		return erasure.Seal(erasure.Receipt{RequestID: requestID, IssuedAt: time.Now().UTC(), Sources: outcomes}, prev)
	})
	if err != nil {
		t.Fatalf("appending a receipt of %d bytes: %v", len(l.Body), err)
	}
	if len(l.Body) < 2_000_000 {
		t.Fatalf("the receipt is %d bytes: the test would prove little", len(l.Body))
	}
	got, ok, err := receipts.ReceiptOf(ctx, requestID)
	if err != nil || !ok || got.Hash != l.Hash || string(got.Body) != string(l.Body) {
		t.Fatalf("read back the receipt: %v %v, same bytes %v", ok, err, string(got.Body) == string(l.Body))
	}
	head, _, err := receipts.Head(ctx)
	if err != nil || head.Seq < l.Seq {
		t.Fatalf("head %d, %v; want at least %d", head.Seq, err, l.Seq)
	}
	if _, err := verifyStoredChain(t); err != nil {
		t.Fatal(err)
	}
}
