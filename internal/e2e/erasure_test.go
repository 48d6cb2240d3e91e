package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacy-pipeline/dsr/internal/devstack"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// checkErasureReceipt checks the receipt of the demo subject's completed
// delete request against the snapshot taken before it: a source for each of
// the registry's, the counts, every removed version, the retained invoices
// with their reason and until-date, and no identity value anywhere in it.
func checkErasureReceipt(t *testing.T, requestID string, before snapshot) {
	t.Helper()
	l, ok, err := stack.App.Receipts().ReceiptOf(context.Background(), requestID)
	if err != nil || !ok {
		t.Fatalf("receipt of %s: %v, %v", requestID, ok, err)
	}
	if erasure.Hash(l.Body) != l.Hash {
		t.Fatal("the receipt does not match its hash")
	}
	body := string(l.Body)
	for _, secret := range []string{devstack.DemoSubject, devstack.DemoSubjectUserID, "Jane", "example.com"} {
		if strings.Contains(body, secret) {
			t.Errorf("the receipt holds %q:\n%s", secret, body)
		}
	}
	r, err := l.Open()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]erasure.Outcome{}
	for _, o := range r.Sources {
		got[o.SourceID] = o
	}
	heldVersions := 0
	for v, b := range before.versions {
		if mentionsSubject(b) && strings.HasPrefix(v, "demo-archive/profiles/") {
			heldVersions++
		}
	}
	versionsRemoved := 0
	for _, k := range got["profile-history"].Touched {
		if k.Action == erasure.ActionVersionDeleted && k.Version != "" && strings.HasPrefix(k.Key, "hmac-sha256:") {
			versionsRemoved++
		}
	}
	if versionsRemoved != heldVersions {
		t.Errorf("the receipt lists %d removed versions; %d held the subject", versionsRemoved, heldVersions)
	}
	checks := []struct {
		source string
		ok     bool
	}{
		{"users", got["users"].Mode == "delete" && got["users"].Deleted == 1 && len(got["users"].Touched) == 1},
		{"orders", got["orders"].Deleted == 2},
		{"reviews", got["reviews"].Mode == "anonymize" && got["reviews"].Anonymized == 2 && strings.Join(got["reviews"].Fields, ",") == "email,author_name"},
		{"invoices", got["invoices"].Mode == "retain" && got["invoices"].Retained == 2 && got["invoices"].Deleted == 0 &&
			got["invoices"].Retention != nil && got["invoices"].Retention.Until == "2031-06-30" &&
			got["invoices"].Retention.Citation == "Companies Act 2006, s. 388(4)(b)" && len(got["invoices"].Touched) == 0},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("receipt for %s: %+v", c.source, got[c.source])
		}
	}
	if len(r.Sources) != len(stack.App.Registry().Sources) {
		t.Errorf("the receipt covers %d sources, the registry has %d", len(r.Sources), len(stack.App.Registry().Sources))
	}
	if _, err := verifyStoredChain(t); err != nil {
		t.Errorf("after the delete request: %v", err)
	}
}

// verifyStoredChain walks the stored chain as privacyctl receipts verify does.
func verifyStoredChain(t *testing.T) (int64, error) {
	t.Helper()
	var v erasure.Verifier
	err := stack.App.Receipts().Walk(context.Background(), v.Next)
	var b *erasure.Break
	if err != nil && !errors.As(err, &b) {
		t.Fatal(err)
	}
	return v.Count(), err
}

// TestReceiptChain: receipts appended at the same moment each become a
// link of one chain (none is lost, none forks it), and a receipt changed in
// the table afterwards is named by the verification.
func TestReceiptChain(t *testing.T) {
	ctx := context.Background()
	receipts := stack.App.Receipts()
	const n = 6
	ids := make([]string, n)
	seqs := make([]int64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		ids[i] = request.NewID(time.Now())
		wg.Go(func() {
			rec := erasure.Receipt{RequestID: ids[i], IssuedAt: time.Now().UTC(), Sources: []erasure.Outcome{{SourceID: "users", Mode: "delete", Records: i, Deleted: i}}}
			l, err := receipts.Append(ctx, ids[i], func(prev erasure.Link) (erasure.Link, error) { return erasure.Seal(rec, prev) })
			seqs[i], errs[i] = l.Seq, err
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("append %d: %v", i, errs[i])
		}
		if seen[seqs[i]] {
			t.Fatalf("two receipts got number %d", seqs[i])
		}
		seen[seqs[i]] = true
		if l, ok, err := receipts.ReceiptOf(ctx, ids[i]); err != nil || !ok || l.Seq != seqs[i] {
			t.Fatalf("receipt of %s: %+v %v %v", ids[i], l, ok, err)
		}
	}
	count, err := verifyStoredChain(t)
	if err != nil || count < n {
		t.Fatalf("chain of %d after concurrent appends: %v", count, err)
	}
	// A second append for a request that has a receipt returns that one.
	again, err := receipts.Append(ctx, ids[0], func(prev erasure.Link) (erasure.Link, error) {
		return erasure.Seal(erasure.Receipt{RequestID: ids[0]}, prev)
	})
	if err != nil || again.Seq != seqs[0] {
		t.Fatalf("second append: %+v %v", again, err)
	}

	// Someone with access to the table makes a receipt say less was deleted.
	ddb := dynamodb.NewFromConfig(stack.AWS)
	table := stack.App.Config().RequestsTable
	victim := seqs[n/2]
	key := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "receipt-chain"},
		"sk": &types.AttributeValueMemberS{Value: fmt.Sprintf("%012d", victim)},
	}
	item, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil || item.Item == nil {
		t.Fatalf("stored receipt %d: %v", victim, err)
	}
	original := item.Item["body"].(*types.AttributeValueMemberS).Value
	forged := strings.Replace(original, `"records":`+fmt.Sprint(n/2), `"records":99`, 1)
	if forged == original {
		t.Fatal("the forgery changed nothing: the test would prove nothing")
	}
	setBody := func(body string) {
		t.Helper()
		_, err := ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: key,
			UpdateExpression:          aws.String("SET body = :b"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":b": &types.AttributeValueMemberS{Value: body}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	setBody(forged)
	_, err = verifyStoredChain(t)
	setBody(original)
	var b *erasure.Break
	if !errors.As(err, &b) || b.Seq != victim || !strings.Contains(b.Problem, "does not match its hash") {
		t.Fatalf("a forged receipt %d: verification says %v", victim, err)
	}
	if _, err := verifyStoredChain(t); err != nil {
		t.Fatalf("restored: %v", err)
	}
}
