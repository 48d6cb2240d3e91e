package e2e

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/privacy-pipeline/dsr/internal/devstack"
	"github.com/privacy-pipeline/dsr/internal/erasure"
)

// mentionsMessy is the test's own notion of what holds the demo's messy
// subject: his user id as a string, his address in any letter case.
func mentionsMessy(s string) bool {
	return strings.Contains(s, `"`+devstack.DemoMessyUserID+`"`) || strings.Contains(strings.ToLower(s), devstack.DemoMessySubject)
}

// lineOf returns the number of the first line of an object that holds
// fragment, or 0.
func lineOf(t *testing.T, key, fragment string) int {
	t.Helper()
	for i, line := range strings.Split(objectBody(t, key), "\n") {
		if strings.Contains(line, fragment) {
			return i + 1
		}
	}
	return 0
}

func objectBody(t *testing.T, key string) string {
	t.Helper()
	s3c := s3.NewFromConfig(stack.AWS, func(o *s3.Options) { o.UsePathStyle = true })
	out, err := s3c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("demo-events"), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDamagedDataStopsForAnOperator: the demo's messy subject has a line of
// the analytics events cut off in the middle, and his address in the copy
// field of someone else's support ticket. Erasing him erases what can be
// read, then waits for an operator at exactly those two places (named by
// object and line, never by content), tells the subject nothing until both
// are resolved, and the receipt records what the operator found. Everyone
// else's bytes stay as they were.
func TestDamagedDataStopsForAnOperator(t *testing.T) {
	ctx := context.Background()
	const waiting = "Wait for an operator to resolve the findings"
	const cut = `"user_id":"` + devstack.DemoMessyUserID + `","event":"page_vi`
	before := takeSnapshot(t)
	if !mentionsMessy(before.objects["demo-events/events/2026-11-03.jsonl"]) {
		t.Fatal("the demo data does not hold the messy subject: the test would prove nothing")
	}
	r := submitFor(t, "delete", devstack.DemoMessySubject)
	confirm(t, devstack.DemoMessySubject, r.ID)
	eventually(t, "operator review", 30*time.Second, func() bool { return storedRequest(t, r.ID).Review.TaskToken != "" })
	approve(t, r.ID)
	eventually(t, "erasure waiting on findings", 60*time.Second, func() bool { return executionState(t, r.ID) == waiting })

	fs, err := stack.App.Operator().ListFindings(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	type place struct{ source, key, reason, field string }
	var got []place
	for _, f := range fs {
		if !f.Blocking || !f.Open() {
			t.Errorf("finding %+v is not open and blocking", f)
		}
		got = append(got, place{f.SourceID, f.Key, f.Reason, f.Field})
	}
	slices.SortFunc(got, func(a, b place) int { return strings.Compare(a.source, b.source) })
	want := []place{
		{"events", "events/2026-11-03.jsonl", erasure.FindingUnparseable, ""},
		{"support", "support/tickets.jsonl", erasure.FindingUnmatched, "cc"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("findings %+v, want %+v", got, want)
	}
	// Each names the line as the object now is, where the operator looks.
	for _, f := range fs {
		fragment := map[string]string{"events": cut, "support": "Max.Muster@"}[f.SourceID]
		if line := lineOf(t, f.Key, fragment); f.Line != line {
			t.Errorf("%s: finding names line %d; the place is on line %d", f.SourceID, f.Line, line)
		}
	}
	if status(t, r.StatusURL) != "in_progress" || hasMail(t, r.ID, "Your data has been deleted") {
		t.Fatal("the subject was told before the findings were resolved")
	}
	mailTo(t, "privacy-team@example.com", r.ID, "Erasure waits for you")

	// The operator erases the cut-off line by hand, finds that the ticket
	// is someone else's, and says so.
	s3c := s3.NewFromConfig(stack.AWS, func(o *s3.Options) { o.UsePathStyle = true })
	var kept []string
	for _, line := range strings.SplitAfter(objectBody(t, "events/2026-11-03.jsonl"), "\n") {
		if !strings.Contains(line, cut) {
			kept = append(kept, line)
		}
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("demo-events"), Key: aws.String("events/2026-11-03.jsonl"),
		Body: strings.NewReader(strings.Join(kept, ""))}); err != nil {
		t.Fatal(err)
	}
	byID := map[string]string{}
	for _, f := range fs {
		byID[f.SourceID] = f.ID
	}
	if err := stack.App.Operator().Resolve(ctx, r.ID, []string{byID["events"]}, erasure.ResolvedErased, "e2e", "removed the cut-off line"); err != nil {
		t.Fatal(err)
	}
	if executionState(t, r.ID) != waiting {
		t.Fatal("the workflow went on with a finding open")
	}
	if err := stack.App.Operator().Resolve(ctx, r.ID, []string{byID["support"]}, erasure.ResolvedNotSubject, "e2e", ""); err != nil {
		t.Fatal(err)
	}
	waitCompleted(t, r)
	checkHistory(t, r.ID)
	mailTo(t, devstack.DemoMessySubject, r.ID, "Your data has been deleted")

	l, ok, err := stack.App.Receipts().ReceiptOf(ctx, r.ID)
	if err != nil || !ok {
		t.Fatalf("receipt: %v %v", ok, err)
	}
	rec, err := l.Open()
	if err != nil {
		t.Fatal(err)
	}
	resolutions := map[string]string{}
	for _, o := range rec.Sources {
		for _, f := range o.Findings {
			resolutions[o.SourceID] = f.Resolution + " by " + f.ResolvedBy
			if !strings.HasPrefix(f.Key, "hmac-sha256:") || f.Note != "" {
				t.Errorf("receipt finding %+v: the key must be hashed, the note left out", f)
			}
		}
	}
	if resolutions["events"] != "erased_by_hand by operator:e2e" || resolutions["support"] != "not_subject by operator:e2e" {
		t.Errorf("receipt findings %v", resolutions)
	}
	if strings.Contains(string(l.Body), "events/2026-11-03") || strings.Contains(string(l.Body), "removed the cut-off line") {
		t.Error("the receipt holds an object key or an operator's note in clear")
	}

	// Everyone else's bytes are as they were: his lines are gone, John's
	// ticket with him in copy stays, as the operator decided.
	after := takeSnapshot(t)
	for key, body := range before.objects {
		var want strings.Builder
		for _, line := range strings.SplitAfter(body, "\n") {
			if !mentionsMessy(line) || strings.Contains(line, `"ticket_id":"t-5"`) {
				want.WriteString(line)
			}
		}
		if key == "demo-events/events/2026-11-03.jsonl" || strings.HasPrefix(key, "demo-events/support/") || strings.HasPrefix(key, "demo-events/loyalty/") {
			if after.objects[key] != want.String() {
				t.Errorf("%s after erasure:\n got %q\nwant %q", key, after.objects[key], want.String())
			}
		}
	}
	for table, items := range after.items {
		for _, item := range items {
			if mentionsMessy(item) {
				t.Errorf("table %s still holds the subject: %s", table, item)
			}
		}
	}
}
