package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/privacy-pipeline/dsr/internal/devstack"
	"github.com/privacy-pipeline/dsr/internal/i18n"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/ratelimit"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/resources"
	"github.com/privacy-pipeline/dsr/internal/sfnflow"
	"github.com/privacy-pipeline/dsr/internal/suppression"
)

// The e2e stack's rate limits: high enough for every other test's traffic
// from 127.0.0.1 and for the addresses they share, low enough to reach. The
// windows are the longest allowed (31 days), so a test cannot straddle two.
var (
	e2eClientLimit   = ratelimit.Rule{Limit: 150, Window: 744 * time.Hour}
	e2eIdentityLimit = ratelimit.Rule{Limit: 6, Window: 744 * time.Hour}
)

// clientFrom is an HTTP client whose connections come from another loopback
// address, so it counts as another client of the API.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 16}}
}

type answer struct {
	status int
	header http.Header
	body   string
}

func postJSON(t *testing.T, c *http.Client, body string, header map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest("POST", stack.APIURL+"/v1/requests", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// TestIdempotencyKey: a retried submission with the same key and body gets
// the same receipt and makes no second request; another body with the key is
// refused.
func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	const key = "e2e-3f6c1a2b-9d8e-4f70-a1b2-c3d4e5f60718"
	body := `{"type":"access","email":"retrying.client@example.com","jurisdiction":"EU"}`
	first := postJSON(t, http.DefaultClient, body, map[string]string{"Idempotency-Key": key})
	second := postJSON(t, http.DefaultClient, body, map[string]string{"Idempotency-Key": key})
	if first.status != 202 || second.status != 202 || first.body != second.body {
		t.Fatalf("answers differ:\n%d %s\n%d %s", first.status, first.body, second.status, second.body)
	}
	if second.header.Get("Idempotent-Replayed") != "true" || second.header.Get("Location") != first.header.Get("Location") {
		t.Fatalf("replay headers %v", second.header)
	}
	var r receipt
	if err := json.Unmarshal([]byte(first.body), &r); err != nil {
		t.Fatal(err)
	}
	other := postJSON(t, http.DefaultClient, strings.Replace(body, "EU", "UK", 1), map[string]string{"Idempotency-Key": key})
	if other.status != 409 || other.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("another body: HTTP %d %s", other.status, other.body)
	}
	// One request, one acknowledgement.
	mailTo(t, "retrying.client@example.com", r.ID, "We received your privacy request")
	mails, err := stack.Mail()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range mails {
		if len(m.To) == 1 && m.To[0] == "retrying.client@example.com" && strings.Contains(m.Subject, "We received") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d acknowledgements, want 1", n)
	}
}

// TestClientRateLimit: one client address sends more POSTs than its limit;
// exactly the limit gets through, the rest get 429 with Retry-After, and
// other clients are not affected. (The requests go one after another: moto's
// UpdateItem is not atomic under concurrent calls, as DynamoDB's ADD is.)
func TestClientRateLimit(t *testing.T) {
	t.Parallel()
	c := clientFrom("127.0.0.77")
	passed, limited := 0, 0
	retryAfter := ""
	for range e2eClientLimit.Limit + 3 {
		// An empty object is refused after the limit is counted: cheap.
		switch a := postJSON(t, c, `{}`, nil); a.status {
		case 400:
			passed++
		case 429:
			limited++
			retryAfter = a.header.Get("Retry-After")
		default:
			t.Fatalf("HTTP %d %s", a.status, a.body)
		}
	}
	if passed != e2eClientLimit.Limit || limited != 3 {
		t.Fatalf("%d passed and %d were limited; want %d and 3", passed, limited, e2eClientLimit.Limit)
	}
	if s, err := strconv.Atoi(retryAfter); err != nil || s < 1 || s > int(e2eClientLimit.Window.Seconds()) {
		t.Fatalf("Retry-After %q", retryAfter)
	}
	if a := postJSON(t, clientFrom("127.0.0.78"), `{}`, nil); a.status != 400 {
		t.Fatalf("another client: HTTP %d", a.status)
	}
}

// TestIdentityRateLimit: submissions for one address beyond its limit are
// refused with 429 and Retry-After, whichever client sends them.
func TestIdentityRateLimit(t *testing.T) {
	t.Parallel()
	body := `{"type":"access","email":"Much.Requested@example.com","jurisdiction":"EU"}`
	for i := range e2eIdentityLimit.Limit {
		if a := postJSON(t, clientFrom("127.0.0.80"), body, nil); a.status != 202 {
			t.Fatalf("submission %d: HTTP %d %s", i+1, a.status, a.body)
		}
	}
	a := postJSON(t, clientFrom("127.0.0.81"), strings.ToLower(body), nil)
	if a.status != 429 || a.header.Get("Retry-After") == "" || a.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("over the limit: HTTP %d, Retry-After %q: %s", a.status, a.header.Get("Retry-After"), a.body)
	}
}

// suppressionEntry reads the subject's item in the suppression list, by the
// documented key, as the company's systems would.
func suppressionEntry(t *testing.T, email string) map[string]types.AttributeValue {
	t.Helper()
	out, err := dynamodb.NewFromConfig(stack.AWS).GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(devstack.LocalConfig(stack.Region, stack.APIURL).SuppressionsTable),
		Key:       map[string]types.AttributeValue{"subject": &types.AttributeValueMemberS{Value: suppression.SubjectKey(email)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

// flagEntry returns the request id and via of a flag in an entry.
func flagEntry(item map[string]types.AttributeValue, flag suppression.Flag) (requestID, via string, ok bool) {
	m, ok := item[string(flag)].(*types.AttributeValueMemberM)
	if !ok {
		return "", "", false
	}
	id, _ := m.Value["request_id"].(*types.AttributeValueMemberS)
	v, _ := m.Value["via"].(*types.AttributeValueMemberS)
	if id == nil || v == nil {
		return "", "", false
	}
	return id.Value, v.Value, true
}

// TestChoiceRequests: opt-out and limit under the CCPA go through without
// verification; restriction and objection after the subject confirms. Each
// sets its flag in the suppression list, is audited and ends with a
// confirmation mail.
func TestChoiceRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ, jurisdiction, email string
		flag                     suppression.Flag
		verify                   bool
	}{
		{"opt_out", "US-CA", "opting.out@example.com", suppression.OptOutSaleSharing, false},
		{"limit", "US-CA", "limiting@example.com", suppression.LimitSensitive, false},
		{"restrict", "EU", "restricting@example.com", suppression.RestrictProcessing, true},
		{"object", "UK", "objecting@example.com", suppression.Object, true},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			t.Parallel()
			a := postJSON(t, http.DefaultClient, fmt.Sprintf(`{"type":%q,"email":%q,"jurisdiction":%q}`, tt.typ, tt.email, tt.jurisdiction), nil)
			if a.status != 202 {
				t.Fatalf("HTTP %d %s", a.status, a.body)
			}
			var r receipt
			if err := json.Unmarshal([]byte(a.body), &r); err != nil {
				t.Fatal(err)
			}
			if tt.verify {
				confirm(t, tt.email, r.ID)
			}
			waitCompleted(t, r)
			m := mailTo(t, tt.email, r.ID, "Your privacy choice is recorded")
			if !strings.Contains(m.Text, i18n.English.T(notify.ChoiceKey(tt.typ))) {
				t.Fatalf("confirmation:\n%s", m.Text)
			}
			if got := len(mailsTo(t, tt.email, r.ID, "Confirm your privacy request")); got != map[bool]int{true: 1}[tt.verify] {
				t.Fatalf("%d verification mails", got)
			}
			item := suppressionEntry(t, tt.email)
			if id, via, ok := flagEntry(item, tt.flag); !ok || id != r.ID || via != "request" {
				t.Fatalf("entry %v: flag %s by %q via %q", item, tt.flag, id, via)
			}
			if len(item) != 3 { // subject, the flag, updated_at
				t.Fatalf("entry has %d attributes: %v", len(item), item)
			}
			events, err := stack.App.Store().Events(context.Background(), r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(events, func(e request.Event) bool {
				return e.Action == "suppression_recorded" && e.Note == "flag="+string(tt.flag)
			}) {
				t.Fatalf("no audit event for the flag: %+v", events)
			}
			checkHistory(t, r.ID)
		})
	}
}

// TestGPC: `Sec-GPC: 1` records an opt-out of sale and sharing for the
// address given, beside the request the submission makes, and even when the
// submission is otherwise invalid; the answer is the submission's own.
func TestGPC(t *testing.T) {
	t.Parallel()
	gpc := map[string]string{"Sec-GPC": "1"}
	const email, refused = "gpc.browser@example.com", "gpc.refused@example.com"
	a := postJSON(t, http.DefaultClient, `{"type":"access","email":"`+email+`","jurisdiction":"US-CA"}`, gpc)
	if a.status != 202 {
		t.Fatalf("HTTP %d %s", a.status, a.body)
	}
	bad := postJSON(t, http.DefaultClient, `{"type":"access","email":"`+refused+`","jurisdiction":"Narnia"}`, gpc)
	if bad.status != 400 || !strings.Contains(bad.body, `"jurisdiction"`) {
		t.Fatalf("invalid submission: HTTP %d %s", bad.status, bad.body)
	}
	for _, e := range []string{email, refused} {
		var m devstack.Mail
		eventually(t, "GPC confirmation to "+e, 30*time.Second, func() bool {
			mails, err := stack.Mail()
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range mails {
				if len(x.To) == 1 && x.To[0] == e && strings.Contains(x.Subject, "Your privacy choice is recorded") {
					m = x
					return true
				}
			}
			return false
		})
		if !strings.Contains(m.Text, "Global Privacy Control") {
			t.Fatalf("confirmation:\n%s", m.Text)
		}
		id, via, ok := flagEntry(suppressionEntry(t, e), suppression.OptOutSaleSharing)
		if !ok || via != "gpc" || !strings.Contains(m.Subject, id) {
			t.Fatalf("%s: opt-out by %q via %q", e, id, via)
		}
		if r := storedRequest(t, id); r.Type != request.OptOut || r.Via != request.ViaGPC || r.Status != request.Completed {
			t.Fatalf("GPC request %s %s via %q", r.Type, r.Status, r.Via)
		}
		checkHistory(t, id)
	}
}

// TestSecondRequestJoinsTheFirst: a second delete request for an address
// whose first is still being carried out (waiting for an operator) joins it:
// the HTTP answer is the same as for any submission, the subject is told by
// mail, the second request's status link shows what an unconfirmed request
// shows, and the first request goes on.
func TestSecondRequestJoinsTheFirst(t *testing.T) {
	t.Parallel()
	const email = "asks.twice@example.com"
	body := `{"type":"delete","email":"` + email + `","jurisdiction":"EU"}`
	a1 := postJSON(t, http.DefaultClient, body, nil)
	var first receipt
	if err := json.Unmarshal([]byte(a1.body), &first); err != nil || a1.status != 202 {
		t.Fatalf("first: HTTP %d %s", a1.status, a1.body)
	}
	confirm(t, email, first.ID)
	eventually(t, "operator review", 30*time.Second, func() bool { return storedRequest(t, first.ID).Review.TaskToken != "" })

	a2 := postJSON(t, http.DefaultClient, body, nil)
	var second receipt
	if err := json.Unmarshal([]byte(a2.body), &second); err != nil || a2.status != a1.status || second.Status != first.Status || second.ID == first.ID {
		t.Fatalf("second: HTTP %d %s", a2.status, a2.body)
	}
	if keys(t, a1.body) != keys(t, a2.body) || a1.header.Get("Content-Type") != a2.header.Get("Content-Type") {
		t.Fatalf("the answers differ in shape:\n%s\n%s", a1.body, a2.body)
	}
	m := mailTo(t, email, second.ID, "was added to an open request")
	if !strings.Contains(m.Text, first.ID) {
		t.Fatalf("join mail:\n%s", m.Text)
	}
	checkHistory(t, second.ID)
	// As a lone request nobody confirms: waiting, or expired once its
	// (scaled) confirmation period has passed on a busy machine.
	if got := status(t, second.StatusURL); got != "pending_verification" && got != "expired" {
		t.Fatalf("the joined request shows %q", got)
	}
	if r := storedRequest(t, second.ID); r.JoinedTo != first.ID || r.Status != request.Cancelled {
		t.Fatalf("second stored as %s joined to %q", r.Status, r.JoinedTo)
	}
	if len(mailsTo(t, email, second.ID, "Confirm your privacy request")) != 0 {
		t.Fatal("the joined request asked for confirmation")
	}
	events, err := stack.App.Store().Events(context.Background(), first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(events, func(e request.Event) bool { return e.Action == "duplicate_joined" && e.Note == "request="+second.ID }) {
		t.Fatalf("the first request's log does not note the join: %+v", events)
	}
	if err := stack.App.Operator().Approve(context.Background(), first.ID, "e2e", nil); err != nil {
		t.Fatal(err)
	}
	waitCompleted(t, first)
}

// keys lists the member names of a JSON object.
func keys(t *testing.T, body string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(slices.Sorted(maps.Keys(m)))
}

// TestCorrectionRequest: a subject corrects their name and phone in the
// company's profile table; only fields the registry allows are taken, the
// update leaves the rest of the item as it was, the subject is told which
// fields changed, and the new values never appear in the execution's data.
func TestCorrectionRequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const email = "corrects.details@example.com"
	ddb := dynamodb.NewFromConfig(stack.AWS)
	key := map[string]types.AttributeValue{"user_id": &types.AttributeValueMemberS{Value: "u-correct-1"}}
	if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("demo-users"), Item: map[string]types.AttributeValue{
		"user_id": key["user_id"], "email": &types.AttributeValueMemberS{Value: email},
		"name": &types.AttributeValueMemberS{Value: "Jon Smyth"}, "phone": &types.AttributeValueMemberS{Value: "+1 555 0100"},
		"plan": &types.AttributeValueMemberS{Value: "free"},
	}}); err != nil {
		t.Fatal(err)
	}

	refused := postJSON(t, http.DefaultClient, `{"type":"correct","email":"`+email+`","jurisdiction":"EU","corrections":{"email":"someone.else@example.com"}}`, nil)
	if refused.status != 400 || !strings.Contains(refused.body, `"corrections.email"`) {
		t.Fatalf("a correction of the email: HTTP %d %s", refused.status, refused.body)
	}
	a := postJSON(t, http.DefaultClient, `{"type":"correct","email":"`+email+`","jurisdiction":"EU","corrections":{"name":"John Smith","phone":"+1 555 0199"}}`, nil)
	var r receipt
	if err := json.Unmarshal([]byte(a.body), &r); err != nil || a.status != 202 {
		t.Fatalf("HTTP %d %s", a.status, a.body)
	}
	confirm(t, email, r.ID)
	waitCompleted(t, r)
	m := mailTo(t, email, r.ID, "Your data has been corrected")
	if !strings.Contains(m.Text, "name, phone") || strings.Contains(m.Text, "John Smith") {
		t.Fatalf("confirmation:\n%s", m.Text)
	}
	out, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("demo-users"), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"user_id": "u-correct-1", "email": email, "name": "John Smith", "phone": "+1 555 0199", "plan": "free"}
	got := map[string]string{}
	for k, v := range out.Item {
		got[k] = v.(*types.AttributeValueMemberS).Value
	}
	if !maps.Equal(got, want) {
		t.Fatalf("profile after the correction %v, want %v", got, want)
	}
	stored := storedRequest(t, r.ID)
	if stored.Correction.Values != nil || !slices.Equal(stored.Correction.Fields, []string{"name", "phone"}) || stored.Correction.Items != 1 {
		t.Fatalf("stored corrections %v, fields %v, items %d", stored.Correction.Values, stored.Correction.Fields, stored.Correction.Items)
	}
	checkHistory(t, r.ID)
	hist, err := sfn.NewFromConfig(stack.AWS).GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{
		ExecutionArn: aws.String(sfnflow.ExecutionARN(devstack.StateMachineARN(stack.Region, resources.RequestWorkflow), r.ID))})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(hist.Events); strings.Contains(string(b), "John Smith") || strings.Contains(string(b), "555 0199") {
		t.Fatal("a new value travelled in the execution's data")
	}
}
