// Package e2e drives the whole pipeline on the local stack exactly as a data
// subject would: over HTTP, reading mail from the dev mailbox, following links.
// The state machine is the real ASL, the tasks the real Lambda handlers, every
// AWS call a real SDK call against moto.
package e2e

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dynamodbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/privacy-pipeline/dsr/internal/accesspkg"
	"github.com/privacy-pipeline/dsr/internal/devstack"
	"github.com/privacy-pipeline/dsr/internal/httpapi"
	"github.com/privacy-pipeline/dsr/internal/i18n"
	"github.com/privacy-pipeline/dsr/internal/operator"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/resources"
	"github.com/privacy-pipeline/dsr/internal/sfnflow"
)

var stack *devstack.Stack

const timeScale = 2 * 86400

// logs collects every log line of the stack, to check none is personal.
var logs = &syncBuffer{}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestMain(m *testing.M) {
	// Against a deployed stack (E2E_STACK): no local stack is started, and
	// only the tests written for one run (TestDeployed...), since the
	// others drive the local stack's insides.
	if name := os.Getenv("E2E_STACK"); name != "" {
		fmt.Fprintf(os.Stderr, "E2E_STACK=%s: running the tests against that deployed stack only (TestDeployed*); moto is not started\n", name)
		if err := flag.Set("test.run", "^TestDeployed"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(m.Run())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	var err error
	// Two statutory days a second: an EU month lasts about 15 s, so the
	// tests watch a request expire unverified, get extended and fall overdue
	// (three months, about 46 s), while a request answered at once is done
	// long before its first deadline even on a busy machine. Deletes wait
	// for an operator's approval. The company's policy asks the operators
	// about an extension twelve statutory days (six seconds) before its
	// notice goes out, time enough for a test to answer, and names its lead
	// authority and data protection officer.
	policyFile, err := writePolicy("ask_extension_days_before: 12\n" +
		"lead_authority: {name: Datatilsynet, url: 'https://www.datatilsynet.no'}\n" +
		"dpo: {name: Example Privacy Office, email: dpo@example.com}\n")
	if err == nil {
		stack, err = devstack.Start(ctx, devstack.Options{Logs: logs, TimeScale: timeScale, ReviewTypes: []request.Type{request.Delete},
			ClientLimit: &e2eClientLimit, IdentityLimit: &e2eIdentityLimit, PolicyFile: policyFile})
	}
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "local stack:", err)
		os.Exit(1)
	}
	code := m.Run()
	access := stack.TableAccess()
	stack.Close()
	os.RemoveAll(filepath.Dir(policyFile))
	if code == 0 {
		code = checkLogs()
	}
	if code == 0 {
		code = checkTableAccess(access)
	}
	os.Exit(code)
}

// writePolicy writes the company's policy to a file of its own.
func writePolicy(yaml string) (string, error) {
	dir, err := os.MkdirTemp("", "policy")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "policy.yaml")
	return path, os.WriteFile(path, []byte(yaml), 0o600)
}

// checkTableAccess fails the run when a function did anything in the
// pipeline's tables that resources.Functions, and so the CDK stack's IAM
// policies, does not allow it: moto enforces no policy, the cloud does.
func checkTableAccess(access map[string]map[string][]string) int {
	if len(access["api"]) == 0 || len(access["write-receipt"]) == 0 {
		fmt.Fprintln(os.Stderr, "no table access of the api or the receipt task was recorded: the access check would prove nothing")
		return 1
	}
	granted := map[string]map[string][]string{}
	for _, f := range resources.Functions {
		granted[f.Name] = map[string][]string{}
		for _, a := range f.Tables {
			granted[f.Name][a.Table.ID] = append(granted[f.Name][a.Table.ID], a.Actions...)
		}
	}
	code := 0
	for fn, tables := range access {
		for table, actions := range tables {
			for _, a := range actions {
				if !slices.Contains(granted[fn][table], a) {
					fmt.Fprintf(os.Stderr, "FAIL: function %s did %s on table %s, which its grants (resources.Functions) do not allow\n", fn, a, table)
					code = 1
				}
			}
		}
	}
	return code
}

// checkLogs fails the run when any log line of the stack (handlers and moto)
// holds personal data or a token from the tests' requests.
func checkLogs() int {
	out := logs.String()
	if !strings.Contains(out, "task done") {
		fmt.Fprintln(os.Stderr, "no handler logs were captured: the log check would prove nothing")
		return 1
	}
	code := 0
	for _, secret := range []string{devstack.DemoSubject, devstack.DemoSubjectUserID, "Jane", "example.com", "token="} {
		if strings.Contains(out, secret) {
			fmt.Fprintf(os.Stderr, "FAIL: the logs contain %q\n", secret)
			code = 1
		}
	}
	return code
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

type receipt struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	StatusURL string `json:"status_url"`
}

func submit(t *testing.T, typ string) receipt {
	t.Helper()
	return submitFor(t, typ, devstack.DemoSubject)
}

func submitFor(t *testing.T, typ, email string) receipt {
	t.Helper()
	r := submitJSON(t, fmt.Sprintf(`{"type":%q,"email":%q,"jurisdiction":"EU"}`, typ, email))
	if r.ID == "" || r.Status != "received" || !strings.Contains(r.StatusURL, "token=") {
		t.Fatalf("receipt %+v", r)
	}
	return r
}

func status(t *testing.T, statusURL string) string {
	t.Helper()
	resp, err := http.Get(statusURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status: HTTP %d", resp.StatusCode)
	}
	var s struct {
		Status string `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s.Status
}

// waitSlack stretches every wait limit. The limits catch hangs, not slowness:
// in the parallel phase some twenty workflows share one moto on two cores,
// and a mail or a status can take far longer than it does alone.
const waitSlack = 3

// eventually polls check until it is true or the limit (times waitSlack)
// passes.
func eventually(t *testing.T, what string, limit time.Duration, check func() bool) {
	t.Helper()
	limit *= waitSlack
	deadline := time.Now().Add(limit)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type mail struct {
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Text    string   `json:"text"`
	HTML    string   `json:"html"`
	SentAt  string   `json:"sent_at"`
}

// mailAbout waits for a message to the demo subject whose subject line has
// the request id and the given words.
func mailAbout(t *testing.T, requestID, subject string) mail {
	t.Helper()
	return mailTo(t, devstack.DemoSubject, requestID, subject)
}

func mailTo(t *testing.T, to, requestID, subject string) mail {
	t.Helper()
	var found mail
	eventually(t, "mail "+subject, 30*time.Second, func() bool {
		resp, err := http.Get(stack.APIURL + "/_dev/mail")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var mails []mail
		if err := json.NewDecoder(resp.Body).Decode(&mails); err != nil {
			t.Fatal(err)
		}
		for _, m := range mails {
			if strings.Contains(m.Subject, requestID) && strings.Contains(m.Subject, subject) {
				found = m
				return true
			}
		}
		return false
	})
	if len(found.To) != 1 || found.To[0] != to || found.HTML == "" || found.SentAt == "" {
		t.Fatalf("mail %+v", found)
	}
	return found
}

func storedRequest(t *testing.T, id string) *request.Request {
	t.Helper()
	r, err := stack.App.Store().Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// approve waits until the request waits for an operator and approves it.
func approve(t *testing.T, id string) {
	t.Helper()
	eventually(t, "operator review", 30*time.Second, func() bool { return storedRequest(t, id).Review.TaskToken != "" })
	if err := stack.App.Operator().Approve(context.Background(), id, "e2e", nil); err != nil {
		t.Fatal(err)
	}
}

func hasMail(t *testing.T, requestID, subject string) bool {
	t.Helper()
	mails, err := stack.Mail()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mails {
		if strings.Contains(m.Subject, requestID) && strings.Contains(m.Subject, subject) {
			return true
		}
	}
	return false
}

// TestRequestHeldOpenIsExtendedThenOverdue: a request held open (waiting
// for an operator's review) comes to the point where an extension would
// have to be announced. A set time before, the operators are asked whether
// it needs one; an operator who answers with reasons extends it (the
// subject reads those reasons and the new date, and the status shows it),
// and when the extended date passes it is flagged overdue and the operators
// are told.
func TestRequestHeldOpenIsExtendedThenOverdue(t *testing.T) {
	ctx := context.Background()
	// Parallel first: the operators have six seconds to answer once asked,
	// and a test paused until the serial tests finish would miss them.
	t.Parallel()
	const email = "held.open@example.com"
	r := submitFor(t, "delete", email)
	confirm(t, email, r.ID)

	mailTo(t, "privacy-team@example.com", r.ID, "Decide: extend")
	eventually(t, "the watch waits for the decision", 30*time.Second, func() bool { return storedRequest(t, r.ID).Extension.TaskToken != "" })
	reason := "Part of your data is held by a supplier we must ask."
	if err := stack.App.Operator().Extend(ctx, r.ID, "e2e", []string{reason}); err != nil {
		t.Fatal(err)
	}
	notice := mailTo(t, email, r.ID, "We need more time")
	stored := storedRequest(t, r.ID)
	newDue := stored.Deadlines.Due.StartOfDay(time.UTC).Format("2 January 2006")
	if !stored.Extended || !strings.Contains(notice.Text, reason) || !strings.Contains(notice.Text, newDue) || stored.Extension.TaskToken != "" {
		t.Fatalf("extension: extended %v, notice:\n%s", stored.Extended, notice.Text)
	}
	var st struct {
		Due      string `json:"due"`
		Extended bool   `json:"extended"`
	}
	resp, err := http.Get(r.StatusURL)
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if !st.Extended || st.Due != stored.Deadlines.Due.String() {
		t.Fatalf("status shows due %s extended %v", st.Due, st.Extended)
	}

	eventually(t, "overdue", 90*time.Second, func() bool { return storedRequest(t, r.ID).Overdue })
	mailTo(t, "privacy-team@example.com", r.ID, "OVERDUE")
	checkExecution(t, resources.DeadlineWatch, r.ID, "FAILED")
}

// TestRequestHeldOpenUndecided: nobody answers the question whether to
// extend. At the notice point the date stands (the default policy): the
// subject gets no extension notice and no stock reason, the request is
// flagged and the operators told; at the due date it is overdue.
func TestRequestHeldOpenUndecided(t *testing.T) {
	const email = "held.undecided@example.com"
	r := submitFor(t, "delete", email)
	confirm(t, email, r.ID)
	t.Parallel()

	mailTo(t, "privacy-team@example.com", r.ID, "Undecided extension")
	stored := storedRequest(t, r.ID)
	if stored.Extended || stored.Extension.Decision != request.ExtensionUndecided || !stored.NeedsOperator {
		t.Fatalf("after the notice point: %+v", stored)
	}
	due := stored.Deadlines.Due
	eventually(t, "overdue", 90*time.Second, func() bool { return storedRequest(t, r.ID).Overdue })
	if hasMail(t, r.ID, "We need more time") {
		t.Fatal("the subject was told of an extension nobody decided")
	}
	if got := storedRequest(t, r.ID).Deadlines.Due; got != due {
		t.Fatalf("due %s, was %s", got, due)
	}
	checkExecution(t, resources.DeadlineWatch, r.ID, "FAILED")
}

// confirm confirms a request by the link mailed to email, without the checks
// of verify.
func confirm(t *testing.T, email, requestID string) {
	t.Helper()
	link := linkIn(t, mailTo(t, email, requestID, "Confirm your privacy request"), "/verify")
	resp, err := http.PostForm(stack.APIURL+link.Path, url.Values{"token": {link.Query().Get("token")}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("confirm: HTTP %d", resp.StatusCode)
	}
}

// TestDeniedRequest: an operator denies a reviewed request with a reason; the
// subject is told the reason and, under the GDPR, that they can complain to a
// supervisory authority; the request closes denied and its watch stops.
func TestDeniedRequest(t *testing.T) {
	// Parallel from the start: the denial must come before the review
	// window closes, however long the sequential tests take.
	t.Parallel()
	const email = "denied.subject@example.com"
	r := submitFor(t, "delete", email)
	confirm(t, email, r.ID)
	eventually(t, "operator review", 30*time.Second, func() bool { return storedRequest(t, r.ID).Review.TaskToken != "" })
	reason := "We hold a legal obligation to keep these records until 2031."
	if err := stack.App.Operator().Deny(context.Background(), r.ID, "e2e", []string{reason}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, r, "denied", 30*time.Second)
	m := mailTo(t, email, r.ID, "was refused")
	for _, want := range []string{reason, "supervisory authority", "Datatilsynet (https://www.datatilsynet.no)", "Example Privacy Office, dpo@example.com"} {
		if !strings.Contains(m.Text, want) {
			t.Fatalf("denial lacks %q:\n%s", want, m.Text)
		}
	}
	checkExecution(t, resources.RequestWorkflow, r.ID, "SUCCEEDED")
	checkWatchEnded(t, r.ID)
}

// TestOperatorVerifiesThenCancels: an operator verifies a request the
// subject could not confirm by mail; another request is cancelled at the
// subject's wish, which stops its workflow and watch.
func TestOperatorVerifiesThenCancels(t *testing.T) {
	ctx := context.Background()
	const email = "by.phone@example.com"
	verified := submitFor(t, "access", email)
	cancelled := submitFor(t, "access", email)
	// Both act before the verification period (seconds here) runs out.
	for _, r := range []receipt{verified, cancelled} {
		eventually(t, "verification pending", 30*time.Second, func() bool { return status(t, r.StatusURL) == "pending_verification" })
	}
	if err := stack.App.Operator().Verify(ctx, verified.ID, "e2e", "call back to the number on file"); err != nil {
		t.Fatal(err)
	}
	if err := stack.App.Operator().Cancel(ctx, cancelled.ID, "e2e"); err != nil {
		t.Fatal(err)
	}
	t.Parallel()
	waitCompleted(t, verified)
	mailTo(t, email, verified.ID, "Your data is ready")
	if got := status(t, cancelled.StatusURL); got != "cancelled" {
		t.Fatalf("status %s", got)
	}
	mailTo(t, email, cancelled.ID, "cancelled")
	// A cancel is an ordinary end: the workflow's wait fails with
	// RequestCancelled into a Succeed state, and the watch ends as at any
	// close; no alarm counts either. The request stays cancelled without an
	// operator flag.
	checkExecutionEndedBy(t, resources.RequestWorkflow, cancelled.ID, "RequestCancelled", "SUCCEEDED")
	checkWatchEnded(t, cancelled.ID)
	if r := storedRequest(t, cancelled.ID); r.Status != request.Cancelled || r.NeedsOperator {
		t.Fatalf("after cancel: %s, needs operator %v", r.Status, r.NeedsOperator)
	}
}

// checkWatchEnded: the deadline watch of a request that closed in time
// ended SUCCEEDED because the request closed (its wait failed with
// RequestClosed, or a step found the request closed), never ABORTED.
func checkWatchEnded(t *testing.T, id string) {
	t.Helper()
	checkExecutionEndedBy(t, resources.DeadlineWatch, id, "RequestClosed", "SUCCEEDED")
}

// TestUnverifiedRequestExpires leaves a request unconfirmed: the workflow's
// verification wait times out, the request closes as expired with a notice,
// and the link no longer works. It submits first and then waits beside the
// other tests.
func TestUnverifiedRequestExpires(t *testing.T) {
	const email = "nobody.confirms@example.com"
	r := submitFor(t, "access", email)
	link := linkIn(t, mailTo(t, email, r.ID, "Confirm your privacy request"), "/verify")
	t.Parallel()
	eventually(t, "status expired", 45*time.Second, func() bool { return status(t, r.StatusURL) == "expired" })
	m := mailTo(t, email, r.ID, "closed")
	if !strings.Contains(m.Text, "not confirmed in time") || !strings.Contains(m.Text, "supervisory authority") {
		t.Fatalf("expiry notice:\n%s", m.Text)
	}
	resp, err := http.Get(link.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("verification link after expiry: HTTP %d, want 404", resp.StatusCode)
	}
}

// TestBadInput checks that wrong input gets a problem+json answer naming the
// field, and that unknown or unauthorized reads all look the same.
func TestBadInput(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		wantStatus  int
		wantField   string
	}{
		{"missing email", "application/json", `{"type":"access","jurisdiction":"EU"}`, 400, "email"},
		{"unknown type", "application/json", `{"type":"sell","email":"a@example.com","jurisdiction":"EU"}`, 400, "type"},
		{"unknown jurisdiction", "application/json", `{"type":"access","email":"a@example.com","jurisdiction":"XX"}`, 400, "jurisdiction"},
		{"unknown field", "application/json", `{"type":"access","email":"a@example.com","jurisdiction":"EU","admin":true}`, 400, "admin"},
		{"not JSON", "application/json", `{"type":`, 400, ""},
		{"wrong media type", "text/plain", `type=access`, 415, ""},
		{"too large", "application/json", `{"type":"` + strings.Repeat("a", httpapi.MaxSubmissionBytes+1) + `"}`, 413, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(stack.APIURL+"/v1/requests", tt.contentType, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("HTTP %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("Content-Type %q", ct)
			}
			var p struct {
				Status int `json:"status"`
				Errors []struct {
					Field string `json:"field"`
				} `json:"errors"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
				t.Fatal(err)
			}
			if p.Status != tt.wantStatus {
				t.Fatalf("problem status %d", p.Status)
			}
			if tt.wantField != "" && (len(p.Errors) == 0 || p.Errors[0].Field != tt.wantField) {
				t.Fatalf("errors %+v, want field %s", p.Errors, tt.wantField)
			}
		})
	}

	r := submitFor(t, "access", "status.reader@example.com")
	good, _ := url.Parse(r.StatusURL)
	wrongToken := *good
	wrongToken.RawQuery = "token=guess"
	unknownID := *good
	unknownID.Path = "/v1/requests/dsr-20260101-0000000000000000"
	var bodies []string
	for _, u := range []url.URL{wrongToken, unknownID} {
		resp, err := http.Get(u.String())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s: HTTP %d, want 404", u.Path, resp.StatusCode)
		}
		bodies = append(bodies, string(b))
	}
	if bodies[0] != bodies[1] {
		t.Fatalf("a wrong token and an unknown id answer differently:\n%s\n%s", bodies[0], bodies[1])
	}
}

var linkPattern = regexp.MustCompile(`https?://\S+`)

func linkIn(t *testing.T, m mail, path string) *url.URL {
	t.Helper()
	for _, l := range linkPattern.FindAllString(m.Text, -1) {
		if strings.Contains(l, path) {
			u, err := url.Parse(l)
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
	}
	t.Fatalf("no %s link in mail:\n%s", path, m.Text)
	return nil
}

// verify follows the verification link as a person would: GET shows the page,
// POST confirms. It checks that a GET alone (a mail scanner) confirms nothing
// and that the link works once.
func verify(t *testing.T, r receipt) {
	t.Helper()
	m := mailAbout(t, r.ID, "Confirm your privacy request")
	link := linkIn(t, m, "/verify")
	for range 2 { // a scanner prefetching the link, then the person
		resp, err := http.Get(link.String())
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte(`<form method="post"`)) {
			t.Fatalf("verify page: HTTP %d\n%s", resp.StatusCode, page)
		}
	}
	if got := status(t, r.StatusURL); got != "pending_verification" {
		t.Fatalf("after GET on the link the status is %q, want pending_verification", got)
	}
	token := link.Query().Get("token")
	confirm := stack.APIURL + link.Path
	resp, err := http.PostForm(confirm, url.Values{"token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("confirm: HTTP %d", resp.StatusCode)
	}
	resp, err = http.PostForm(confirm, url.Values{"token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("second confirm: HTTP %d, want 404", resp.StatusCode)
	}
}

func waitCompleted(t *testing.T, r receipt) {
	t.Helper()
	waitCompletedWithin(t, r, 60*time.Second)
}

// waitCompletedWithin is waitCompleted with a limit of its own, for requests
// that do much more work than the demo's.
func waitCompletedWithin(t *testing.T, r receipt, limit time.Duration) {
	t.Helper()
	eventually(t, "status completed", limit, func() bool {
		s := status(t, r.StatusURL)
		if s == "failed" {
			t.Fatalf("request failed; logs:\n%s", logs.String())
		}
		return s == "completed"
	})
}

// waitStatus waits until the status URL shows want; when it does not in
// time, the failure says where the request's workflow stands.
func waitStatus(t *testing.T, r receipt, want string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for status(t, r.StatusURL) != want {
		if time.Now().After(deadline) {
			arn := sfnflow.ExecutionARN(devstack.StateMachineARN(stack.Region, resources.RequestWorkflow), r.ID)
			t.Fatalf("%s not %s after %s: stored status %s; workflow: %s", r.ID, want, limit, storedRequest(t, r.ID).Status, lastEvents(t, arn))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkHistory asserts the execution succeeded and that neither its input,
// output nor any history event holds the subject's email or user id.
func checkHistory(t *testing.T, requestID string) {
	t.Helper()
	checkExecution(t, resources.RequestWorkflow, requestID, "SUCCEEDED")
}

// checkExecution waits for the execution of a request on a state machine to
// end in status, and checks that its data holds ids only.
// lastEvents describes how an execution ended: its last history events and
// the error it failed with (names and causes only; payloads are not shown).
func lastEvents(t *testing.T, arn string) string {
	t.Helper()
	hist, err := sfn.NewFromConfig(stack.AWS).GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ExecutionArn: &arn})
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, e := range hist.Events[max(0, len(hist.Events)-6):] {
		fmt.Fprintf(&b, "%s ", e.Type)
		if d := e.ExecutionFailedEventDetails; d != nil {
			fmt.Fprintf(&b, "(%s: %s) ", aws.ToString(d.Error), aws.ToString(d.Cause))
		}
		if d := e.LambdaFunctionFailedEventDetails; d != nil {
			fmt.Fprintf(&b, "(%s: %s) ", aws.ToString(d.Error), aws.ToString(d.Cause))
		}
		if d := e.TaskFailedEventDetails; d != nil {
			fmt.Fprintf(&b, "(%s: %s) ", aws.ToString(d.Error), aws.ToString(d.Cause))
		}
	}
	return b.String()
}

func checkExecution(t *testing.T, sm resources.StateMachine, requestID string, statuses ...string) {
	t.Helper()
	checkExecutionEndedBy(t, sm, requestID, "", statuses...)
}

// checkExecutionEndedBy is checkExecution that also wants the history to
// name the error an ending took (RequestClosed, RequestCancelled): the
// execution ended because it was told to, not by running out its waits.
func checkExecutionEndedBy(t *testing.T, sm resources.StateMachine, requestID, endedBy string, statuses ...string) {
	t.Helper()
	ctx := context.Background()
	c := sfn.NewFromConfig(stack.AWS)
	arn := sfnflow.ExecutionARN(devstack.StateMachineARN(stack.Region, sm), requestID)
	var exec *sfn.DescribeExecutionOutput
	deadline := time.Now().Add(60 * time.Second)
	for {
		var err error
		exec, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: &arn})
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(statuses, string(exec.Status)) {
			break
		}
		if exec.Status != "RUNNING" || time.Now().After(deadline) {
			t.Fatalf("%s execution of %s is %s, want %v; %s", sm.ID, requestID, exec.Status, statuses, lastEvents(t, arn))
		}
		time.Sleep(100 * time.Millisecond)
	}
	hist, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist.Events) < 3 {
		t.Fatalf("history has %d events", len(hist.Events))
	}
	all, _ := json.Marshal(hist.Events)
	if endedBy != "" && !bytes.Contains(all, []byte(`"`+endedBy+`"`)) {
		t.Fatalf("%s execution of %s did not end by %s; %s", sm.ID, requestID, endedBy, lastEvents(t, arn))
	}
	all = append(all, aws.ToString(exec.Input)...)
	all = append(all, aws.ToString(exec.Output)...)
	if !bytes.Contains(all, []byte(requestID[:len("dsr-20060102-")+16])) { // a redrive is named <id>-r<n>
		t.Fatal("history does not mention the request id: the check below would prove nothing")
	}
	for _, secret := range []string{"@example.", devstack.DemoSubjectUserID, "Jane", "token="} {
		if bytes.Contains(all, []byte(secret)) {
			t.Errorf("execution data contains %q", secret)
		}
	}
}

func TestAccessRequest(t *testing.T) {
	r := submit(t, "access")
	ack := mailAbout(t, r.ID, "We received your privacy request")
	stored := storedRequest(t, r.ID)
	if due := stored.Deadlines.Due.StartOfDay(time.UTC).Format("2 January 2006"); !strings.Contains(ack.Text, "answer by "+due) {
		t.Fatalf("acknowledgement does not give the due date %s:\n%s", due, ack.Text)
	}
	verify(t, r)
	waitCompleted(t, r)
	checkHistory(t, r.ID)
	// What `make bench` reports: acknowledge, verify, resolve, review
	// choice, access choice, map, one collect per source, package, close,
	// and the watch's first states.
	if n, err := stack.StateTransitions(context.Background(), r.ID); err != nil || n < 10 {
		t.Fatalf("state transitions: %d, %v", n, err)
	}
	// Completed early: the close ends the watch's wait, the watch ends
	// SUCCEEDED, and no extension notice went out.
	checkWatchEnded(t, r.ID)
	if hasMail(t, r.ID, "We need more time") {
		t.Fatal("an early answer got an extension notice")
	}

	m := mailAbout(t, r.ID, "Your data is ready")
	link := linkIn(t, m, "/download")

	bad := *link
	bad.RawQuery = url.Values{"token": {"not-the-token"}}.Encode()
	resp, err := noRedirect.Get(bad.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("download with a wrong token: HTTP %d, want 404", resp.StatusCode)
	}

	resp, err = noRedirect.Get(link.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("download: HTTP %d, want 302", resp.StatusCode)
	}
	presigned := resp.Header.Get("Location")
	if !strings.Contains(presigned, "X-Amz-Expires=300") {
		t.Fatalf("download is not a short-lived presigned URL: %s", presigned)
	}
	resp, err = http.Get(presigned)
	if err != nil {
		t.Fatal(err)
	}
	zipped, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("presigned GET: HTTP %d", resp.StatusCode)
	}
	checkPackage(t, r.ID, "access", i18n.English, unzip(t, zipped))
	checkPackageStored(t, r.ID)
}

// TestPortabilityRequest: a portability request delivers the same package,
// here in Swedish: the mails and the package's report speak the request's
// language. It runs before the delete test, which erases the demo subject.
func TestPortabilityRequest(t *testing.T) {
	r := submitJSON(t, fmt.Sprintf(`{"type":"portability","email":%q,"jurisdiction":"EU","language":"sv"}`, devstack.DemoSubject))
	confirmWith(t, devstack.DemoSubject, r.ID, i18n.Swedish.T("mail.verify.subject", "id", r.ID))
	waitCompleted(t, r)
	checkHistory(t, r.ID)
	link := linkIn(t, mailAbout(t, r.ID, i18n.Swedish.T("mail.download.subject", "id", r.ID)), "/download")
	resp, err := http.Get(link.String())
	if err != nil {
		t.Fatal(err)
	}
	zipped, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("download: HTTP %d", resp.StatusCode)
	}
	checkPackage(t, r.ID, "portability", i18n.Swedish, unzip(t, zipped))
}

// checkPackageStored checks the package at rest: SSE-KMS in the exports bucket.
func checkPackageStored(t *testing.T, requestID string) {
	t.Helper()
	s3c := s3.NewFromConfig(stack.AWS, func(o *s3.Options) { o.UsePathStyle = true })
	key := storedRequest(t, requestID).Delivery.ExportKey
	head, err := s3c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(devstack.LocalConfig(stack.Region, stack.APIURL).ExportsBucket), Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	if head.ServerSideEncryption != "aws:kms" {
		t.Errorf("the package is stored with encryption %q, want aws:kms", head.ServerSideEncryption)
	}
}

// checkPackage checks that every file of an access package holds exactly the
// demo subject's records, as the demo stores hold them, and nobody else's,
// and that its report is in the request's language.
func checkPackage(t *testing.T, requestID, typ string, lang i18n.Lang, files map[string][]byte) {
	t.Helper()
	var manifest struct {
		RequestID   string `json:"request_id"`
		RequestType string `json:"request_type"`
		GeneratedAt string `json:"generated_at"`
		Sources     []struct {
			ID         string                `json:"id"`
			Kind       string                `json:"kind"`
			Records    int                   `json:"records"`
			File       string                `json:"file"`
			JSONFile   string                `json:"json_file"`
			CSVFile    string                `json:"csv_file"`
			Categories []struct{ ID string } `json:"categories"`
			Purposes   []string              `json:"purposes"`
			Recipients []json.RawMessage     `json:"recipients"`
			Retention  map[string]string     `json:"retention"`
		} `json:"sources"`
	}
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil {
		t.Fatal(err)
	}
	if manifest.RequestID != requestID || manifest.RequestType != typ || manifest.GeneratedAt == "" {
		t.Fatalf("manifest %s", files["manifest.json"])
	}
	reg, err := registry.Parse(devstack.DemoRegistry())
	if err != nil {
		t.Fatal(err)
	}
	want := subjectRecords(t, reg)
	wantFiles := []string{"index.html", "manifest.json"}
	page := string(files["index.html"])
	if !strings.Contains(page, `<html lang="`+string(lang)+`">`) || !strings.Contains(page, "<h1>"+lang.T("report.title")+"</h1>") {
		t.Errorf("index.html is not in %s", lang)
	}
	// The CRM (a manual source) does not know the demo subject: it was not
	// asked, and the package has nothing of it. The help desk (a webhook
	// source) answered with her chats, which come after the automated
	// sources.
	automated := reg.Automated()
	if len(manifest.Sources) != len(automated)+1 {
		t.Fatalf("manifest lists %d sources, the registry %d and the help desk", len(manifest.Sources), len(automated))
	}
	if chat := manifest.Sources[len(automated)]; chat.ID != "chat" || chat.Kind != "webhook" || chat.File != "files/chat.json" {
		t.Errorf("the manifest's last entry is %+v, want the help desk's chats", chat)
	} else {
		wantFiles = append(wantFiles, chat.File)
		var chats []map[string]any
		if err := json.Unmarshal(files[chat.File], &chats); err != nil || len(chats) != 2 || chats[0]["chat_id"] != "c-501" {
			t.Errorf("%s holds %s, want the subject's 2 chats", chat.File, files[chat.File])
		}
	}
	for i, s := range manifest.Sources[:len(automated)] {
		src := automated[i]
		wantFiles = append(wantFiles, s.JSONFile, s.CSVFile)
		if s.ID != src.ID || len(s.Categories) != len(src.Categories) || len(s.Purposes) != len(src.Purposes) ||
			len(s.Recipients) != len(src.Recipients) || s.Retention["period"] != src.Retention.Period || s.Retention["criteria"] != src.Retention.Criteria {
			t.Errorf("manifest entry %+v does not say what the registry says of %s", s, src.ID)
		}
		var records []map[string]any
		if err := json.Unmarshal(files[s.JSONFile], &records); err != nil {
			t.Fatalf("%s: %v", s.JSONFile, err)
		}
		got := canonical(t, records)
		if !slices.Equal(got, want[s.ID]) || s.Records != len(want[s.ID]) || len(want[s.ID]) == 0 {
			t.Errorf("%s holds %v (manifest: %d), want the subject's records %v", s.JSONFile, got, s.Records, want[s.ID])
		}
		rows, err := csv.NewReader(bytes.NewReader(files[s.CSVFile])).ReadAll()
		if err != nil || len(rows) != len(records)+1 {
			t.Fatalf("%s: %d rows, %v", s.CSVFile, len(rows), err)
		}
		var fromCSV []map[string]any
		for _, row := range rows[1:] {
			m := map[string]any{}
			for j, col := range rows[0] {
				if row[j] != "" { // a field the record lacks is an empty cell
					m[col] = row[j]
				}
			}
			fromCSV = append(fromCSV, m)
		}
		if got := canonical(t, fromCSV); !slices.Equal(got, want[s.ID]) {
			t.Errorf("%s holds %v, want %v", s.CSVFile, got, want[s.ID])
		}
		for _, rec := range records {
			for _, v := range rec {
				if str, ok := v.(string); ok && !strings.Contains(page, html.EscapeString(str)) {
					t.Errorf("index.html lacks %s's value %q", s.ID, str)
				}
			}
		}
	}
	// The preferences source names the attributes to export: the app's
	// bookkeeping stays out, the subject's choices are in.
	prefs := files[accesspkg.JSONFile("preferences")]
	if bytes.Contains(prefs, []byte("schema_version")) || !bytes.Contains(prefs, []byte(`"theme": "dark"`)) {
		t.Errorf("preferences.json holds %s, want the exported attributes only", prefs)
	}
	slices.Sort(wantFiles)
	gotFiles := slices.Sorted(maps.Keys(files))
	if !slices.Equal(gotFiles, wantFiles) {
		t.Errorf("package files %v, want %v", gotFiles, wantFiles)
	}
	for name, b := range files {
		for _, other := range []string{"john.roe", "ana.lima", "li.wei", "max.muster", "u-1002", "u-1003", "u-1004", "u-1005", "u-10010", "o-5003", "Refund", "Lookalike", "10010"} {
			if bytes.Contains(b, []byte(other)) {
				t.Errorf("%s holds someone else's data (%s)", name, other)
			}
		}
	}
}

// canonical returns records as sorted JSON texts with every value a string
// and empty values left out, so records from JSON, CSV and the demo stores
// compare as sets.
func canonical(t *testing.T, records []map[string]any) []string {
	t.Helper()
	out := []string{}
	for _, r := range records {
		m := map[string]string{}
		for k, v := range r {
			switch v := v.(type) {
			case string:
				if v != "" {
					m[k] = v
				}
			default:
				b, _ := json.Marshal(v)
				m[k] = string(b)
			}
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	slices.Sort(out)
	return out
}

// subjectRecords reads the demo stores directly and returns, per source of
// the registry, the records that mention the demo subject: the test's own
// notion of what the package must hold.
func subjectRecords(t *testing.T, reg *registry.Registry) map[string][]string {
	t.Helper()
	snap := takeSnapshot(t)
	out := map[string][]string{}
	for _, src := range reg.Sources {
		var records []map[string]any
		switch {
		case src.DynamoDB != nil:
			for _, item := range snap.items[src.DynamoDB.Table] {
				if mentionsSubject(item) {
					var m map[string]any
					if err := json.Unmarshal([]byte(item), &m); err != nil {
						t.Fatal(err)
					}
					if inSortKeyRange(src.DynamoDB.SortKey, m) {
						records = append(records, m)
					}
				}
			}
		case src.S3 != nil:
			for key, body := range snap.objects {
				if !strings.HasPrefix(key, src.S3.Bucket+"/"+src.S3.Prefix) {
					continue
				}
				if src.S3.Templated() {
					if inSubjectsFolder(key) {
						records = append(records, parseObject(t, src.S3.Format, body)...)
					}
					continue
				}
				records = append(records, slices.DeleteFunc(parseObject(t, src.S3.Format, body), func(m map[string]any) bool {
					b, _ := json.Marshal(m)
					return !mentionsSubject(string(b))
				})...)
			}
		}
		out[src.ID] = canonical(t, exported(src.Export, records))
	}
	return out
}

// inSortKeyRange reports whether an item is one of those a source with a
// sort key condition reads (a table may hold several sources' items).
func inSortKeyRange(k *registry.SortKey, item map[string]any) bool {
	if k == nil {
		return true
	}
	sk, _ := item[k.Attribute].(string)
	if k.Value != "" {
		return sk == k.Value
	}
	return strings.HasPrefix(sk, k.BeginsWith)
}

// exported keeps the listed attributes of each record: what a source that
// names its attributes to export puts into the package.
func exported(attrs []string, records []map[string]any) []map[string]any {
	if len(attrs) == 0 {
		return records
	}
	for _, r := range records {
		for k := range r {
			if !slices.Contains(attrs, k) {
				delete(r, k)
			}
		}
	}
	return records
}

func parseObject(t *testing.T, format, body string) []map[string]any {
	t.Helper()
	var records []map[string]any
	switch format {
	case "jsonl", "parquet": // a snapshot holds a Parquet object's rows as JSON Lines
		for _, line := range strings.Split(strings.TrimSpace(strings.TrimPrefix(body, "\ufeff")), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				continue // a damaged line (the demo has one), which is nobody's record
			}
			records = append(records, m)
		}
	case "csv":
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows[1:] {
			m := map[string]any{}
			for j, col := range rows[0] {
				m[col] = row[j]
			}
			records = append(records, m)
		}
	case "json":
		if strings.HasPrefix(body, "[") {
			if err := json.Unmarshal([]byte(body), &records); err != nil {
				t.Fatal(err)
			}
			break
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatal(err)
		}
		records = append(records, m)
	default:
		t.Fatalf("no parser for %s in the test", format)
	}
	return records
}

func unzip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("the download is not a zip: %v", err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return files
}

// snapshot is every item of the demo tables (as canonical JSON), every
// object of the demo buckets, and every version of every object in the
// versioned ones.
type snapshot struct {
	items   map[string][]string
	objects map[string]string
	// versions are by "bucket/key@version id", current versions included.
	versions map[string]string
	// parquet holds the Parquet objects as they are; objects holds their
	// rows, one JSON object per line (see parquetLines).
	parquet map[string][]byte
}

func takeSnapshot(t *testing.T) snapshot {
	t.Helper()
	ctx := context.Background()
	ddb := dynamodb.NewFromConfig(stack.AWS)
	s3c := s3.NewFromConfig(stack.AWS, func(o *s3.Options) { o.UsePathStyle = true })
	s := snapshot{items: map[string][]string{}, objects: map[string]string{}, versions: map[string]string{}, parquet: map[string][]byte{}}
	for _, bucket := range devstack.DemoVersionedBuckets {
		list, err := s3c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &bucket})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToBool(list.IsTruncated) {
			t.Fatal("more versions than one page: the snapshot would miss some")
		}
		for _, v := range list.Versions {
			out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: v.Key, VersionId: v.VersionId})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(out.Body)
			out.Body.Close()
			s.versions[bucket+"/"+aws.ToString(v.Key)+"@"+aws.ToString(v.VersionId)] = string(b)
		}
	}
	for _, table := range devstack.DemoTables {
		out, err := ddb.Scan(ctx, &dynamodb.ScanInput{TableName: &table})
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range out.Items {
			var m map[string]any
			if err := attributevalue.UnmarshalMap(item, &m); err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(m)
			s.items[table] = append(s.items[table], string(b))
		}
		sort.Strings(s.items[table])
	}
	for _, bucket := range devstack.DemoBuckets {
		list, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket})
		if err != nil {
			t.Fatal(err)
		}
		for _, obj := range list.Contents {
			out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: obj.Key})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(out.Body)
			out.Body.Close()
			if strings.HasSuffix(aws.ToString(obj.Key), ".gz") {
				// Compare what the object holds, not how it was compressed.
				zr, err := gzip.NewReader(bytes.NewReader(b))
				if err != nil {
					t.Fatalf("%s: %v", aws.ToString(obj.Key), err)
				}
				if b, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			if strings.HasSuffix(aws.ToString(obj.Key), ".parquet") {
				// Compare the rows, not how the file lays them out.
				s.parquet[bucket+"/"+aws.ToString(obj.Key)] = b
				b = parquetLines(t, aws.ToString(obj.Key), b)
			}
			s.objects[bucket+"/"+aws.ToString(obj.Key)] = string(b)
		}
	}
	return s
}

// inSubjectsFolder: the object is in the subject's own folder (a key template
// source), so all of it is hers.
func inSubjectsFolder(key string) bool {
	return strings.Contains(key, "/"+devstack.DemoSubjectUserID+"/")
}

// mentionsSubject is the test's own, independent notion of "holds the
// subject": her address in any letter case, her user id as a string, her
// customer number as a number or as text (not 10010), her app table keys.
func mentionsSubject(s string) bool {
	return strings.Contains(strings.ToLower(s), devstack.DemoSubject) || strings.Contains(s, `"`+devstack.DemoSubjectUserID+`"`) ||
		strings.Contains(s, `"USER#`+devstack.DemoSubjectUserID+`"`) || // the app table's keys
		customerNo.MatchString(s)
}

var customerNo = regexp.MustCompile(`"customer_no":\s*"?1001"?[,}]`)

// withoutSubject is what a snapshot must look like after the subject's erasure:
// the same items and bytes, minus the subject's items and lines, except that
// her reviews stay without the fields that identified her and her invoices,
// which the law requires to keep, stay as they were.
func withoutSubject(s snapshot) snapshot {
	out := snapshot{items: map[string][]string{}, objects: map[string]string{}}
	for table, items := range s.items {
		for _, item := range items {
			if !mentionsSubject(item) {
				out.items[table] = append(out.items[table], item)
				continue
			}
			if table == devstack.DemoAnonymizedTable {
				var m map[string]any
				_ = json.Unmarshal([]byte(item), &m)
				for _, f := range devstack.DemoAnonymizedFields {
					delete(m, f)
				}
				b, _ := json.Marshal(m)
				out.items[table] = append(out.items[table], string(b))
			}
		}
		sort.Strings(out.items[table])
	}
	for key, body := range s.objects {
		if strings.HasPrefix(key, devstack.DemoRetainedPrefix) {
			out.objects[key] = body
			continue
		}
		if inSubjectsFolder(key) {
			continue
		}
		var kept strings.Builder
		for _, line := range strings.SplitAfter(body, "\n") {
			if !mentionsSubject(line) {
				kept.WriteString(line)
			} else if strings.HasPrefix(line, "\ufeff") {
				kept.WriteString("\ufeff") // the file's byte order mark stays
			}
		}
		if kept.Len() > 0 {
			out.objects[key] = kept.String()
		}
	}
	return out
}

func TestDeleteRequest(t *testing.T) {
	// Runs after the access request (tests in a file run in order): both use
	// the demo subject, and after this she is gone.
	before := takeSnapshot(t)
	if !mentionsSubject(fmt.Sprint(before.items)) || !mentionsSubject(fmt.Sprint(before.objects)) {
		t.Fatal("the demo data does not hold the subject: the test would prove nothing")
	}
	want := withoutSubject(before)
	if n := len(before.versions); n < 6 {
		t.Fatalf("the versioned bucket holds %d versions: the test would prove little", n)
	}

	r := submit(t, "delete")
	verify(t, r)
	approve(t, r.ID)
	waitCompleted(t, r)
	checkHistory(t, r.ID)
	checkErasureReceipt(t, r.ID, before)
	m := mailAbout(t, r.ID, "Your data has been deleted")
	for _, want := range []string{
		"erased",
		"- Product reviews, kept without the author's name and email (2 records): we removed email, author_name",
		"- Invoices (2 records): Accounting records, invoices among them, must be kept for six years from the date they are made. " +
			"(Companies Act 2006, s. 388(4)(b)). We keep them until 30 June 2031 at the latest",
	} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("confirmation lacks %q:\n%s", want, m.Text)
		}
	}

	after := takeSnapshot(t)
	if fmt.Sprint(after.items) != fmt.Sprint(want.items) {
		t.Errorf("tables after erasure:\n got %v\nwant %v", after.items, want.items)
	}
	if len(after.objects) != len(want.objects) {
		t.Errorf("objects after erasure: got %d, want %d", len(after.objects), len(want.objects))
	}
	for key, body := range want.objects {
		if after.objects[key] != body {
			t.Errorf("object %s after erasure:\n got %q\nwant %q", key, after.objects[key], body)
		}
	}
	for key, body := range after.objects {
		if strings.HasPrefix(key, devstack.DemoRetainedPrefix) {
			if !strings.Contains(body, devstack.DemoSubjectUserID) {
				t.Errorf("retained object %s no longer holds the subject's invoices", key)
			}
			continue
		}
		if mentionsSubject(body) {
			t.Errorf("object %s still holds the subject", key)
		}
	}
	older := 0
	for v, body := range before.versions {
		body2, kept := after.versions[v]
		switch {
		case mentionsSubject(body) && kept:
			t.Errorf("version %s still holds the subject", v)
		case mentionsSubject(body):
			older++
		case !kept || body2 != body:
			t.Errorf("version %s, which does not hold the subject, was changed or removed", v)
		}
	}
	if older < 3 {
		t.Errorf("%d versions that held the subject were removed; the demo has at least 3", older)
	}
	for v, body := range after.versions {
		if mentionsSubject(body) {
			t.Errorf("version %s holds the subject", v)
		}
	}
	lake := "demo-events/" + devstack.DemoLakeKey
	checkParquetKept(t, before.parquet[lake], after.parquet[lake], []int64{2, 3})
	for table, items := range after.items {
		if mentionsSubject(strings.Join(items, "")) {
			t.Errorf("table %s still holds the subject", table)
		}
	}
}

// TestOperatorReports runs the operators' lists and records on the local
// DynamoDB indexes, after the access and delete tests have completed their
// requests (tests in a file run in order; the parallel ones are still open).
func TestOperatorReports(t *testing.T) {
	ctx := context.Background()
	recs, err := stack.App.Reports().Records(ctx, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	completed := map[string]bool{}
	for _, r := range recs {
		if r.Response == "completed" && r.ResponseDate != "" {
			completed[r.Nature] = true
		}
	}
	if !completed["access"] || !completed["delete"] {
		t.Fatalf("records lack the completed access and delete requests: %+v", recs)
	}
	rows, err := stack.App.Reports().List(ctx, operator.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("no open requests listed, though the parallel tests hold some open")
	}
	for _, r := range rows {
		if r.Status == "completed" || r.Due == "" {
			t.Fatalf("open list has %+v", r)
		}
	}
	done, err := stack.App.Reports().List(ctx, operator.Filter{Status: request.Completed})
	if err != nil || len(done) < 2 {
		t.Fatalf("completed list %+v %v", done, err)
	}
	// The held requests move on meanwhile: the published count must lie
	// between the counts just before and just after the report.
	if err := stack.App.DeadlineReport()(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := stack.App.Reports().List(ctx, operator.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`"RequestsOpen":(\d+)`).FindAllStringSubmatch(logs.String(), -1)
	if len(m) == 0 {
		t.Fatal("the deadline report published no RequestsOpen metric")
	}
	published, _ := strconv.Atoi(m[len(m)-1][1])
	if published < min(len(rows), len(after)) || published > max(len(rows), len(after)) {
		t.Fatalf("published %d open requests; the store had %d, then %d", published, len(rows), len(after))
	}
}

// TestRedriveResumesWhereItFailed: a subject whose user id cannot be part
// of an S3 key (the profiles source keeps a folder per user id) fails the
// request, which is flagged for an operator; once the id is corrected, a
// redrive resumes at the failed step in a new execution, without asking the
// subject to verify again, and the request completes. It runs last among the
// sequential tests: the user is in the demo company's table.
func TestRedriveResumesWhereItFailed(t *testing.T) {
	ctx := context.Background()
	const email = "redrive.me@example.com"
	ddb := dynamodb.NewFromConfig(stack.AWS)
	user := func(id string) map[string]dynamodbtypes.AttributeValue {
		return map[string]dynamodbtypes.AttributeValue{"user_id": &dynamodbtypes.AttributeValueMemberS{Value: id}, "email": &dynamodbtypes.AttributeValueMemberS{Value: email}}
	}
	if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("demo-users"), Item: user("../u-2001")}); err != nil {
		t.Fatal(err)
	}
	r := submitFor(t, "access", email)
	confirm(t, email, r.ID)
	eventually(t, "status failed", 60*time.Second, func() bool { return status(t, r.StatusURL) == "failed" })
	if !storedRequest(t, r.ID).NeedsOperator {
		t.Fatal("a failed request is not flagged for an operator")
	}
	if _, err := ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("demo-users"), Key: map[string]dynamodbtypes.AttributeValue{"user_id": user("../u-2001")["user_id"]}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("demo-users"), Item: user("u-2001")}); err != nil {
		t.Fatal(err)
	}
	resume, err := stack.App.Operator().Redrive(ctx, r.ID, "e2e")
	if err != nil {
		t.Fatal(err)
	}
	if resume != "Find the subject's identities in every source" {
		t.Fatalf("resumes at %q", resume)
	}
	waitCompleted(t, r)
	mailTo(t, email, r.ID, "Your data is ready")
	if n := strings.Count(fmt.Sprint(mailsTo(t, email, r.ID, "Confirm your privacy request")), r.ID); n != 1 {
		t.Fatalf("the subject was asked to confirm %d times", n)
	}
	checkExecution(t, resources.RequestWorkflow, r.ID, "FAILED")
	checkExecution(t, resources.RequestWorkflow, r.ID+"-r1", "SUCCEEDED")
}

// mailsTo returns the subjects of every mail to an address about a request.
func mailsTo(t *testing.T, to, requestID, subject string) []string {
	t.Helper()
	mails, err := stack.Mail()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range mails {
		if len(m.To) == 1 && m.To[0] == to && strings.Contains(m.Subject, requestID) && strings.Contains(m.Subject, subject) {
			out = append(out, m.Subject)
		}
	}
	return out
}
