package e2e

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/privacy-pipeline/dsr/internal/resources"
	"github.com/privacy-pipeline/dsr/internal/sfnflow"
)

// Sizes of the generated click stream: more objects than one task reads
// (workflow.DefaultLargeMinObjects), with the subject in every 37th.
const (
	largeObjects = 1100
	largeEvery   = 37
	largeBucket  = "demo-events"
	largePrefix  = "clickstream/generated/"
	// largeLimit bounds each request: about half a minute on a busy
	// two-core machine, a margin for a busier one.
	largeLimit = 3 * time.Minute
)

// TestLargeSource: an S3 source with more objects than one task reads is
// worked by a Distributed Map, object by object, for access and for erasure.
// The package holds exactly the subject's rows; erasure rewrites exactly the
// objects that held them, each without her rows and with every other byte,
// and leaves every other object untouched (same ETag). It runs after the
// demo subject's tests (files run in name order) and removes what it made.
func TestLargeSource(t *testing.T) {
	ctx := context.Background()
	const email, userID = "big.data@example.com", "u-2001"
	s3c := s3.NewFromConfig(stack.AWS, func(o *s3.Options) { o.UsePathStyle = true })
	ddb := dynamodb.NewFromConfig(stack.AWS)

	start := time.Now()
	objects, want := clickstream(userID)
	putAll(t, s3c, objects)
	t.Cleanup(func() { deleteAll(s3c, objects) })
	_, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("demo-users"), Item: map[string]types.AttributeValue{
		"user_id": &types.AttributeValueMemberS{Value: userID}, "email": &types.AttributeValueMemberS{Value: email},
		"name": &types.AttributeValueMemberS{Value: "Big Data"}, "plan": &types.AttributeValueMemberS{Value: "free"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	before := etags(t, s3c)
	t.Logf("generated %d objects, %d of them with %d of the subject's rows: %s", len(objects), len(want), countRows(want), time.Since(start).Round(time.Millisecond))

	// Access.
	start = time.Now()
	r := submitFor(t, "access", email)
	confirm(t, email, r.ID)
	waitCompletedWithin(t, r, largeLimit)
	t.Logf("access request over %d objects: %s", len(before), time.Since(start).Round(time.Millisecond))
	checkExecution(t, resources.RequestWorkflow, r.ID, "SUCCEEDED")
	checkDistributed(t, r.ID, userID)
	files := download(t, mailTo(t, email, r.ID, "Your data is ready"))
	var got []map[string]any
	if err := json.Unmarshal(files["json/clickstream.json"], &got); err != nil {
		t.Fatal(err)
	}
	var wantRows []string
	for _, lines := range want {
		wantRows = append(wantRows, lines...)
	}
	gotRows := make([]string, len(got))
	for i, row := range got {
		gotRows[i] = fmt.Sprintf(`{"seq":%v,"target":%q,"user_id":%q}`, row["seq"], row["target"], row["user_id"])
	}
	slices.Sort(wantRows)
	slices.Sort(gotRows)
	if !slices.Equal(gotRows, wantRows) {
		t.Fatalf("the package holds %d click rows, want the subject's %d:\n got %v\nwant %v", len(gotRows), len(wantRows), gotRows, wantRows)
	}
	if !bytes.Contains(files["manifest.json"], []byte(`"id": "clickstream",`)) {
		t.Fatal("the manifest does not list the large source")
	}

	// Erasure.
	start = time.Now()
	d := submitFor(t, "delete", email)
	confirm(t, email, d.ID)
	approve(t, d.ID)
	// A legal hold placed while the large source is being erased: the
	// objects not yet worked stay as they are, the request waits on the
	// hold, and after the release the source is worked again.
	const bigMap, held = "Erase in a large source, object by object", "Wait while a legal hold blocks erasure"
	erased := func() int {
		now, n := etags(t, s3c), 0
		for key := range want {
			if now[key] != before[key] {
				n++
			}
		}
		return n
	}
	eventually(t, "erasure of the large source", largeLimit, func() bool { return executionState(t, d.ID) == bigMap })
	// Some of her objects erased first, so the receipt must count those
	// from the first run and the others from the run after the release.
	eventually(t, "the first objects erased", largeLimit, func() bool { return erased() >= 3 })
	if err := stack.App.Operator().Hold(ctx, d.ID, "e2e", "Litigation hold: case 2026-204"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "erasure waiting on the hold", largeLimit, func() bool {
		return storedRequest(t, d.ID).Hold.TaskToken != "" && executionState(t, d.ID) == held
	})
	erasedBeforeHold := erased()
	t.Logf("%d of the %d objects holding the subject were erased before the hold took effect", erasedBeforeHold, len(want))
	if erasedBeforeHold == len(want) {
		t.Fatal("every object was erased although the request was put on hold")
	}
	if err := stack.App.Operator().Release(ctx, d.ID, "e2e"); err != nil {
		t.Fatal(err)
	}
	waitCompletedWithin(t, d, largeLimit)
	t.Logf("delete request over %d objects: %s", len(before), time.Since(start).Round(time.Millisecond))
	checkExecution(t, resources.RequestWorkflow, d.ID, "SUCCEEDED")
	checkDistributed(t, d.ID, userID)
	after := etags(t, s3c)
	rewritten := 0
	for key, body := range objects {
		wantBody := body
		for _, line := range want[key] {
			wantBody = strings.Replace(wantBody, line+"\n", "", 1)
		}
		changed := before[key] != after[key]
		if changed != (len(want[key]) > 0) {
			t.Errorf("%s: changed %v, holds %d of the subject's rows", key, changed, len(want[key]))
		}
		if changed {
			rewritten++
			if gotBody := getObject(t, s3c, key); gotBody != wantBody {
				t.Errorf("%s after erasure:\n got %q\nwant %q", key, gotBody, wantBody)
			}
		}
	}
	if rewritten != len(want) || len(after) != len(before) {
		t.Fatalf("%d objects rewritten, want %d; %d objects, want %d", rewritten, len(want), len(after), len(before))
	}
	// The receipt counts every row once, those erased before the hold too.
	l, ok, err := stack.App.Receipts().ReceiptOf(ctx, d.ID)
	if err != nil || !ok {
		t.Fatalf("receipt: %v, %v", ok, err)
	}
	receipt, err := l.Open()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range receipt.Sources {
		if o.SourceID == "clickstream" && (o.Deleted != countRows(want) || len(o.Touched) != len(want)) {
			t.Errorf("receipt for the large source: %d rows in %d objects, want %d in %d", o.Deleted, len(o.Touched), countRows(want), len(want))
		}
	}
	var actions []string
	events, _ := stack.App.Store().Events(ctx, d.ID)
	for _, ev := range events {
		actions = append(actions, ev.Actor+" "+ev.Action)
	}
	for _, w := range []string{"operator:e2e legal_hold_placed", "system erasure_held_in_objects", "system erasure_waits_on_hold", "operator:e2e legal_hold_released"} {
		if !slices.Contains(actions, w) {
			t.Errorf("the audit log lacks %q: %v", w, actions)
		}
	}
}

// clickstream generates the objects: three rows of other people each, one of
// them a lookalike id; every largeEvery-th object also holds one or two of the
// subject's rows. It returns the objects and, per object, her rows.
func clickstream(userID string) (objects map[string]string, subjects map[string][]string) {
	objects, subjects = map[string]string{}, map[string][]string{}
	seq := 0
	row := func(user string) string {
		seq++
		return fmt.Sprintf(`{"seq":%d,"target":"#t%d","user_id":%q}`, seq, seq%7, user)
	}
	for i := range largeObjects {
		key := fmt.Sprintf("%spart-%05d.jsonl", largePrefix, i)
		lines := []string{row("u-1002"), row(userID + "0"), row("u-1003")}
		if i%largeEvery == 0 {
			mine := []string{row(userID)}
			if i%(2*largeEvery) == 0 {
				mine = append(mine, row(userID))
			}
			subjects[key] = mine
			lines = slices.Insert(lines, i%3, mine...)
		}
		objects[key] = strings.Join(lines, "\n") + "\n"
	}
	return objects, subjects
}

func countRows(m map[string][]string) int {
	n := 0
	for _, rows := range m {
		n += len(rows)
	}
	return n
}

func putAll(t *testing.T, s3c *s3.Client, objects map[string]string) {
	t.Helper()
	keys := make(chan string)
	errs := make(chan error, len(objects))
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for key := range keys {
				_, err := s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(largeBucket), Key: aws.String(key), Body: strings.NewReader(objects[key])})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	for key := range objects {
		keys <- key
	}
	close(keys)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}

func deleteAll(s3c *s3.Client, objects map[string]string) {
	for key := range objects {
		_, _ = s3c.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(largeBucket), Key: aws.String(key)})
	}
}

// etags maps every generated object to its ETag.
func etags(t *testing.T, s3c *s3.Client) map[string]string {
	t.Helper()
	out := map[string]string{}
	p := s3.NewListObjectsV2Paginator(s3c, &s3.ListObjectsV2Input{Bucket: aws.String(largeBucket), Prefix: aws.String(largePrefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			out[aws.ToString(o.Key)] = aws.ToString(o.ETag)
		}
	}
	return out
}

func getObject(t *testing.T, s3c *s3.Client, key string) string {
	t.Helper()
	out, err := s3c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(largeBucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, _ := io.ReadAll(out.Body)
	return string(b)
}

// checkDistributed checks that the request's execution ran a Distributed Map
// and that its history does not hold the subject's user id.
func checkDistributed(t *testing.T, requestID, userID string) {
	t.Helper()
	c := sfn.NewFromConfig(stack.AWS)
	arn := sfnflow.ExecutionARN(devstack.StateMachineARN(stack.Region, resources.RequestWorkflow), requestID)
	var events []byte
	in := &sfn.GetExecutionHistoryInput{ExecutionArn: &arn}
	for {
		hist, err := c.GetExecutionHistory(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(hist.Events)
		events = append(events, b...)
		if hist.NextToken == nil {
			break
		}
		in.NextToken = hist.NextToken
	}
	if !bytes.Contains(events, []byte("MapRunStarted")) || !bytes.Contains(events, []byte("MapRunSucceeded")) {
		t.Fatal("the large source was not worked by a Distributed Map")
	}
	if bytes.Contains(events, []byte(userID)) {
		t.Fatal("the execution history holds the subject's user id")
	}
}

// download follows the download link of a mail and returns the package's files.
func download(t *testing.T, m mail) map[string][]byte {
	t.Helper()
	resp, err := http.Get(linkIn(t, m, "/download").String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("download: HTTP %d", resp.StatusCode)
	}
	return unzip(t, b)
}
