package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/privacy-pipeline/dsr/internal/devstack"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/operator"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/resources"
	"github.com/privacy-pipeline/dsr/internal/sfnflow"
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
	anchors, _ := stack.App.Anchors()
	all, _, err := anchors.All(context.Background())
	if err != nil || !slices.Contains(all, erasure.Anchor{Seq: l.Seq, Hash: l.Hash}) {
		t.Errorf("receipt %d is not anchored (%v)", l.Seq, err)
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
		// One item read by its whole key; the sessions beside it, by a sort key prefix.
		{"preferences", got["preferences"].Deleted == 1 && len(got["preferences"].Touched) == 1},
		{"sessions", got["sessions"].Deleted == 2},
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
	// The CRM (a manual source) does not know her: it was not asked. The
	// help desk (a webhook source) erased her chats and attested it.
	if n := len(stack.App.Registry().Automated()); len(r.Sources) != n+1 || r.Sources[n].SourceID != "chat" || r.Sources[n].Attestation == nil ||
		r.Sources[n].Attestation.By != "webhook:chat" || r.Sources[n].Attestation.What != "erased" {
		t.Errorf("the receipt covers %d sources, the registry has %d it erases itself and the help desk: %+v", len(r.Sources), n, r.Sources[len(r.Sources)-1])
	}
	if _, err := verifyStoredChain(t); err != nil {
		t.Errorf("after the delete request: %v", err)
	}
}

// verifyStoredChain walks the stored chain as privacyctl receipts verify does.
func verifyStoredChain(t *testing.T) (int64, error) {
	t.Helper()
	var v erasure.Verifier
	anchors, ok := stack.App.Anchors()
	if !ok {
		t.Fatal("the local stack has no receipt anchors")
	}
	all, strangers, err := anchors.All(context.Background())
	if err != nil || strangers != 0 {
		t.Fatal(strangers, err)
	}
	v.Expect(all)
	err = stack.App.Receipts().Walk(context.Background(), v.Next)
	if err == nil {
		err = v.Done()
	}
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
	table := stack.App.Config().ReceiptsTable
	victim := seqs[n/2]
	key := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "receipt-chain"},
		"sk": &types.AttributeValueMemberS{Value: fmt.Sprintf("%012d", victim)},
	}
	item, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil || item.Item == nil {
		t.Fatalf("stored receipt %d: %v", victim, err)
	}
	// The body is stored gzip-compressed, in one chunk for a receipt this small.
	packed := item.Item["body_z"].(*types.AttributeValueMemberB).Value
	zr, err := gzip.NewReader(bytes.NewReader(packed))
	if err != nil {
		t.Fatal(err)
	}
	original, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	forged := strings.Replace(string(original), `"records":`+fmt.Sprint(n/2), `"records":99`, 1)
	if forged == string(original) {
		t.Fatal("the forgery changed nothing: the test would prove nothing")
	}
	setBody := func(body []byte) {
		t.Helper()
		_, err := ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: key,
			UpdateExpression:          aws.String("SET body_z = :b"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":b": &types.AttributeValueMemberB{Value: body}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	setBody(gzipped(t, forged))
	_, err = verifyStoredChain(t)
	setBody(packed)
	var b *erasure.Break
	if !errors.As(err, &b) || b.Seq != victim || !strings.Contains(b.Problem, "does not match its hash") {
		t.Fatalf("a forged receipt %d: verification says %v", victim, err)
	}
	if _, err := verifyStoredChain(t); err != nil {
		t.Fatalf("restored: %v", err)
	}

	// The receipt task anchors each receipt it writes; the test anchors the
	// newest of those it appended itself. Someone then removes that receipt
	// from the table: the chain left holds together, the anchor shows it.
	anchors, _ := stack.App.Anchors()
	head, _, err := receipts.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := anchors.Put(ctx, erasure.Anchor{Seq: head.Seq, Hash: head.Hash}); err != nil {
		t.Fatal(err)
	}
	headKey := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "receipt-chain"},
		"sk": &types.AttributeValueMemberS{Value: fmt.Sprintf("%012d", head.Seq)},
	}
	stored, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: headKey, ConsistentRead: aws.Bool(true)})
	if err != nil || stored.Item == nil {
		t.Fatalf("newest receipt %d: %v", head.Seq, err)
	}
	if _, err := ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &table, Key: headKey}); err != nil {
		t.Fatal(err)
	}
	restore := func() {
		if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: stored.Item}); err != nil {
			t.Fatal(err)
		}
	}
	truncated := func(when string) {
		t.Helper()
		_, err := verifyStoredChain(t)
		if !errors.As(err, &b) || b.Seq != head.Seq || !strings.Contains(b.Problem, "newer receipts were removed") {
			restore()
			t.Fatalf("%s: verification says %v, want receipt %d missing", when, err, head.Seq)
		}
	}
	truncated("the newest receipt removed")
	// Deleting the anchor only hides it behind a delete marker; its locked
	// version cannot be deleted.
	s3c := s3.NewFromConfig(stack.AWS, func(o *s3.Options) { o.UsePathStyle = true })
	bucket := stack.App.Config().ReceiptAnchorsBucket
	anchorKey := fmt.Sprintf("anchors/%012d-%s", head.Seq, head.Hash)
	if _, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &anchorKey}); err != nil {
		t.Fatal(err)
	}
	truncated("the anchor hidden by a delete marker")
	versions, err := s3c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &bucket, Prefix: &anchorKey})
	if err != nil || len(versions.Versions) == 0 {
		t.Fatalf("versions of the anchor: %v", err)
	}
	_, err = s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &anchorKey, VersionId: versions.Versions[0].VersionId})
	if err == nil {
		restore()
		t.Fatal("a locked anchor version was deleted")
	}
	truncated("after a refused delete of the anchor's version")
	restore()
	if _, err := verifyStoredChain(t); err != nil {
		t.Fatalf("restored: %v", err)
	}
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// submitDryRun submits a delete request that only reports what it would do.
func submitDryRun(t *testing.T, email string) receipt {
	t.Helper()
	body := fmt.Sprintf(`{"type":"delete","email":%q,"jurisdiction":"EU","dry_run":true}`, email)
	resp, err := http.Post(stack.APIURL+"/v1/requests", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r receipt
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("submit: HTTP %d %v", resp.StatusCode, err)
	}
	return r
}

// sameSnapshot reports every difference between two snapshots.
func sameSnapshot(t *testing.T, before, after snapshot) {
	t.Helper()
	if fmt.Sprint(before.items) != fmt.Sprint(after.items) {
		t.Errorf("tables changed:\n got %v\nwant %v", after.items, before.items)
	}
	for _, pair := range [][2]map[string]string{{before.objects, after.objects}, {before.versions, after.versions}} {
		if len(pair[0]) != len(pair[1]) {
			t.Errorf("%d objects or versions, then %d", len(pair[0]), len(pair[1]))
		}
		for k, b := range pair[0] {
			if pair[1][k] != b {
				t.Errorf("%s changed:\n got %q\nwant %q", k, pair[1][k], b)
			}
		}
	}
}

// TestDryRunDelete: the operator's dry run of a verified delete request and
// a request flagged dry_run both say what erasure would do in every source,
// and neither changes a byte of any table, object or object version.
func TestDryRunDelete(t *testing.T) {
	ctx := context.Background()
	const email = "ana.lima@example.org"
	before := takeSnapshot(t)
	r := submitDryRun(t, email)
	confirm(t, email, r.ID)
	eventually(t, "operator review", 30*time.Second, func() bool { return storedRequest(t, r.ID).Review.TaskToken != "" })

	// privacyctl erase --dry-run ID, on the request waiting for review.
	plan, err := stack.App.PlanErasure(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	planned := map[string]erasure.Outcome{}
	for _, o := range plan {
		planned[o.SourceID] = o
		if !o.DryRun {
			t.Errorf("%s: not marked a dry run", o.SourceID)
		}
	}
	want := map[string][3]int{ // deleted, anonymized, retained
		"users": {1, 0, 0}, "orders": {1, 0, 0}, "events": {3, 0, 0}, "support": {1, 0, 0}, "newsletter": {1, 0, 0},
		"profile-history": {1, 0, 0}, "reviews": {0, 1, 0}, "invoices": {0, 0, 0}, "preferences": {1, 0, 0}, "sessions": {1, 0, 0},
	}
	for src, w := range want {
		if o := planned[src]; [3]int{o.Deleted, o.Anonymized, o.Retained} != w {
			t.Errorf("plan for %s: %+v, want deleted/anonymized/retained %v", src, o, w)
		}
	}
	var versions int
	for _, k := range planned["profile-history"].Touched {
		if k.Action == erasure.ActionVersionDeleted {
			versions++
		}
	}
	if versions != 1 { // the current export, which the erasure would replace and then remove
		t.Errorf("the plan removes %d versions of the profile history, want 1", versions)
	}
	sameSnapshot(t, before, takeSnapshot(t))

	// The request itself runs the whole workflow as a dry run.
	approve(t, r.ID)
	waitCompleted(t, r)
	checkHistory(t, r.ID)
	m := mailTo(t, email, r.ID, "Dry run of your deletion request")
	reg := stack.App.Registry()
	for _, w := range []string{"nothing was deleted or changed", "- " + reg.Source("users").Description + " (1 record): would be deleted.",
		"- " + reg.Source("reviews").Description + " (1 record): email, author_name would be removed"} {
		if !strings.Contains(m.Text, w) {
			t.Errorf("mail lacks %q:\n%s", w, m.Text)
		}
	}
	l, ok, err := stack.App.Receipts().ReceiptOf(ctx, r.ID)
	if err != nil || !ok {
		t.Fatalf("receipt: %v %v", ok, err)
	}
	rec, _ := l.Open()
	if !rec.DryRun {
		t.Error("the receipt of a dry run is not marked so")
	}
	for _, o := range rec.Sources {
		if p := planned[o.SourceID]; o.Deleted != p.Deleted || o.Anonymized != p.Anonymized || o.Retained != p.Retained || len(o.Touched) != len(p.Touched) {
			t.Errorf("%s: the request's dry run says %+v, the operator's %+v", o.SourceID, o, p)
		}
	}
	sameSnapshot(t, before, takeSnapshot(t))
}

// executionState is the last state a request's workflow entered. (moto lists
// the history oldest first even when asked for ReverseOrder: read it all.)
func executionState(t *testing.T, requestID string) string {
	t.Helper()
	c := sfn.NewFromConfig(stack.AWS)
	arn := sfnflow.ExecutionARN(devstack.StateMachineARN(stack.Region, resources.RequestWorkflow), requestID)
	hist, err := c.GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ExecutionArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	last := ""
	for _, ev := range hist.Events {
		if ev.StateEnteredEventDetails != nil {
			last = aws.ToString(ev.StateEnteredEventDetails.Name)
		}
	}
	return last
}

func executionStatus(t *testing.T, sm resources.StateMachine, requestID string) string {
	t.Helper()
	arn := sfnflow.ExecutionARN(devstack.StateMachineARN(stack.Region, sm), requestID)
	out, err := sfn.NewFromConfig(stack.AWS).DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	return string(out.Status)
}

// TestLegalHold: a request on legal hold waits before erasure, in a state
// an operator reads in the console, while its deadline watch runs on; the
// subject's data stays until the hold is released, then goes. A held
// request can be denied instead.
func TestLegalHold(t *testing.T) {
	ctx := context.Background()
	const email = "li.wei@example.net"
	const held = "Wait while a legal hold blocks erasure"
	users := func() int {
		n := 0
		for _, item := range takeSnapshot(t).items["demo-users"] {
			if strings.Contains(item, email) {
				n++
			}
		}
		return n
	}
	if users() != 1 {
		t.Fatal("the demo data has no account for the subject: the test would prove nothing")
	}
	r := submitFor(t, "delete", email)
	confirm(t, email, r.ID)
	eventually(t, "operator review", 30*time.Second, func() bool { return storedRequest(t, r.ID).Review.TaskToken != "" })
	if err := stack.App.Operator().Hold(ctx, r.ID, "e2e", "Litigation hold: case 2026-117"); err != nil {
		t.Fatal(err)
	}
	approve(t, r.ID)
	eventually(t, "erasure waiting on the hold", 30*time.Second, func() bool {
		return storedRequest(t, r.ID).Hold.TaskToken != "" && executionState(t, r.ID) == held
	})
	if users() != 1 || status(t, r.StatusURL) != "in_progress" {
		t.Fatal("erasure went ahead on hold")
	}
	if got := executionStatus(t, resources.DeadlineWatch, r.ID); got != "RUNNING" {
		t.Fatalf("the deadline watch is %s while the request is held", got)
	}
	if rows, err := stack.App.Reports().List(ctx, operator.Filter{}); err == nil {
		for _, row := range rows {
			if row.ID == r.ID && row.WaitsFor != "the release of a legal hold" {
				t.Errorf("list says it waits for %q", row.WaitsFor)
			}
		}
	}
	if err := stack.App.Operator().Release(ctx, r.ID, "e2e"); err != nil {
		t.Fatal(err)
	}
	waitCompleted(t, r)
	checkHistory(t, r.ID)
	if users() != 0 {
		t.Fatal("the released request did not erase")
	}
	mailTo(t, email, r.ID, "Your data has been deleted")
	var actions []string
	events, _ := stack.App.Store().Events(ctx, r.ID)
	for _, ev := range events {
		actions = append(actions, ev.Actor+" "+ev.Action)
	}
	for _, want := range []string{"operator:e2e legal_hold_placed", "system erasure_waits_on_hold", "operator:e2e legal_hold_released"} {
		if !slices.Contains(actions, want) {
			t.Errorf("the audit log lacks %q: %v", want, actions)
		}
	}

	const other = "held.then.denied@example.com"
	d := submitFor(t, "delete", other)
	confirm(t, other, d.ID)
	eventually(t, "operator review", 30*time.Second, func() bool { return storedRequest(t, d.ID).Review.TaskToken != "" })
	if err := stack.App.Operator().Hold(ctx, d.ID, "e2e", "An authority ordered the data kept."); err != nil {
		t.Fatal(err)
	}
	approve(t, d.ID)
	eventually(t, "erasure waiting on the hold", 30*time.Second, func() bool { return storedRequest(t, d.ID).Hold.TaskToken != "" })
	reason := "The data is subject to a court order to preserve it."
	if err := stack.App.Operator().Deny(ctx, d.ID, "e2e", []string{reason}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "status denied", 30*time.Second, func() bool { return status(t, d.StatusURL) == "denied" })
	if m := mailTo(t, other, d.ID, "was refused"); !strings.Contains(m.Text, reason) {
		t.Errorf("denial:\n%s", m.Text)
	}
	checkExecution(t, resources.RequestWorkflow, d.ID, "SUCCEEDED")
}
