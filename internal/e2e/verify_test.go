package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/privacy-pipeline/dsr/internal/devstack"
	"github.com/privacy-pipeline/dsr/internal/request"
)

var codePattern = regexp.MustCompile(`\b[23456789BCDFGHJKMNPQRSTWXZ]{4}-[23456789BCDFGHJKMNPQRSTWXZ]{4}\b`)

// codeIn finds the confirmation code in a verification mail.
func codeIn(t *testing.T, m mail) string {
	t.Helper()
	code := codePattern.FindString(m.Text)
	if code == "" || !strings.Contains(m.HTML, code) {
		t.Fatalf("no code in the verification mail:\n%s", m.Text)
	}
	return code
}

// wrongCode is a well-formed code other than code.
func wrongCode(code string) string {
	if code == "ZZZZ-ZZZZ" {
		return "XXXX-XXXX"
	}
	return "ZZZZ-ZZZZ"
}

// verifyClient is the client address of these tests, so that their many
// POSTs count against a limit of their own.
var verifyClient = clientFrom("127.0.0.23")

// submitVia submits a request from verifyClient.
func submitVia(t *testing.T, typ, email, jurisdiction string) receipt {
	t.Helper()
	a := postJSON(t, verifyClient, fmt.Sprintf(`{"type":%q,"email":%q,"jurisdiction":%q}`, typ, email, jurisdiction), nil)
	var r receipt
	if err := json.Unmarshal([]byte(a.body), &r); a.status != http.StatusAccepted || err != nil || r.ID == "" {
		t.Fatalf("submit: HTTP %d %s", a.status, a.body)
	}
	return r
}

// post sends a form as the pages do and returns the status and the page.
func post(t *testing.T, path string, form url.Values) (int, string) {
	t.Helper()
	resp, err := verifyClient.PostForm(stack.APIURL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := verifyClient.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// actions lists the audit log's actions of a request.
func actions(t *testing.T, id string) []string {
	t.Helper()
	evs, err := stack.App.Store().Events(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Action+" "+ev.Note)
	}
	return out
}

// TestConfirmByCode: the subject types the mailed code instead of following
// the link. Text that cannot be a code is refused without counting; the code
// works once and voids the link; the request completes.
func TestConfirmByCode(t *testing.T) {
	t.Parallel() // keeps the sequential phase short: requests of other tests wait it out
	const email = "types.the.code@example.com"
	r := submitVia(t, "access", email, "EU")
	m := mailTo(t, email, r.ID, "Confirm your privacy request")
	code, link := codeIn(t, m), linkIn(t, m, "/verify")
	codePath := "/v1/requests/" + r.ID + "/code"
	if !strings.Contains(m.Text, stack.APIURL+codePath) {
		t.Fatalf("the mail does not say where to type the code:\n%s", m.Text)
	}
	if st, page := get(t, stack.APIURL+codePath); st != http.StatusOK || !strings.Contains(page, `action="`+codePath+`"`) {
		t.Fatalf("code page: HTTP %d\n%s", st, page)
	}
	if st, page := post(t, codePath, url.Values{"code": {"12"}}); st != http.StatusBadRequest || !strings.Contains(page, "8 letters and digits") {
		t.Fatalf("a code too short: HTTP %d\n%s", st, page)
	}
	typed := " " + strings.ToLower(strings.ReplaceAll(code, "-", " ")) + " "
	if st, page := post(t, codePath, url.Values{"code": {typed}}); st != http.StatusOK || !strings.Contains(page, "Request confirmed") {
		t.Fatalf("the right code: HTTP %d\n%s", st, page)
	}
	if st, _ := post(t, codePath, url.Values{"code": {code}}); st != http.StatusBadRequest {
		t.Fatalf("the code a second time: HTTP %d, want 400", st)
	}
	if st, _ := post(t, link.Path, url.Values{"token": {link.Query().Get("token")}}); st != http.StatusNotFound {
		t.Fatalf("the link after the code: HTTP %d, want 404", st)
	}
	waitCompleted(t, r)
	mailTo(t, email, r.ID, "Your data is ready")
	stored := storedRequest(t, r.ID)
	if stored.Verification.Failures != 0 || stored.Verification.CodeHash != "" || stored.Verification.TokenHash != "" {
		t.Fatalf("after confirming: failures %d, code hash kept %v, link hash kept %v", stored.Verification.Failures, stored.Verification.CodeHash != "", stored.Verification.TokenHash != "")
	}
	if got := strings.Join(actions(t, r.ID), "|"); !strings.Contains(got, "verified method=email_code") || strings.Contains(got, "verification_failed") {
		t.Fatalf("audit log: %s", got)
	}
}

// TestWrongAttemptsLockTheRequest: guessed links and codes count together;
// the fifth locks the request, which is audited and told to the subject.
// Then even the right link and code are refused, and an operator verifies
// the subject another way; the request completes.
func TestWrongAttemptsLockTheRequest(t *testing.T) {
	t.Parallel() // keeps the sequential phase short: requests of other tests wait it out
	const email = "many.guesses@example.com"
	r := submitVia(t, "access", email, "EU")
	m := mailTo(t, email, r.ID, "Confirm your privacy request")
	code, link := codeIn(t, m), linkIn(t, m, "/verify")
	codePath := "/v1/requests/" + r.ID + "/code"
	for i := range request.MaxVerifyFailures {
		if i%2 == 0 {
			if st, _ := post(t, link.Path, url.Values{"token": {"guess-" + strings.Repeat("x", 40+i)}}); st != http.StatusNotFound {
				t.Fatalf("guessed token %d: HTTP %d, want 404", i, st)
			}
		} else if st, _ := post(t, codePath, url.Values{"code": {wrongCode(code)}}); st != http.StatusBadRequest {
			t.Fatalf("guessed code %d: HTTP %d, want 400", i, st)
		}
	}
	lock := mailTo(t, email, r.ID, "Confirmation stopped")
	if !strings.Contains(lock.Text, "Too many wrong") || strings.Contains(lock.Text, "token=") {
		t.Fatalf("lock notice:\n%s", lock.Text)
	}
	if st, _ := post(t, codePath, url.Values{"code": {code}}); st != http.StatusBadRequest {
		t.Fatalf("the right code after the lock: HTTP %d, want 400", st)
	}
	if st, _ := post(t, link.Path, url.Values{"token": {link.Query().Get("token")}}); st != http.StatusNotFound {
		t.Fatalf("the right link after the lock: HTTP %d, want 404", st)
	}
	if st, _ := get(t, link.String()); st != http.StatusNotFound {
		t.Fatalf("the link's page after the lock: HTTP %d, want 404", st)
	}
	stored := storedRequest(t, r.ID)
	if !stored.Verification.Locked || stored.Verification.Failures != request.MaxVerifyFailures || stored.Status != request.PendingVerification {
		t.Fatalf("after the guesses: locked %v, failures %d, status %s", stored.Verification.Locked, stored.Verification.Failures, stored.Status)
	}
	got := strings.Join(actions(t, r.ID), "|")
	if strings.Count(got, "verification_failed") != request.MaxVerifyFailures-1 || !strings.Contains(got, "verification_locked method=email_link failures=5") {
		t.Fatalf("audit log: %s", got)
	}
	if err := stack.App.Operator().Verify(context.Background(), r.ID, "e2e", "call back to the number on file"); err != nil {
		t.Fatal(err)
	}
	waitCompleted(t, r)
	mailTo(t, email, r.ID, "Your data is ready")
	if n := len(mailsTo(t, email, r.ID, "Confirmation stopped")); n != 1 {
		t.Fatalf("%d lock notices, want 1", n)
	}
}

// masked replaces what differs between two requests by nature (ids, tokens,
// codes, dates and times) so that their wording can be compared.
var masks = []*regexp.Regexp{
	regexp.MustCompile(`dsr-\d{8}-[0-9a-z]{16}`),
	regexp.MustCompile(`token=[A-Za-z0-9_-]+`),
	regexp.MustCompile(`name="token" value="[A-Za-z0-9_-]+"`),
	codePattern,
	regexp.MustCompile(`\d{1,2} [A-Z][a-z]+ \d{4}(,? \d{2}:\d{2} UTC)?`),
	regexp.MustCompile(`\d{4}-\d{2}-\d{2}T[0-9:.]+Z`),
}

func masked(s string) string {
	for _, m := range masks {
		s = m.ReplaceAllString(s, "X")
	}
	return s
}

// TestImpersonation runs, over HTTP on the stack, what someone who is not the
// subject would try: the link and code of their own request on another,
// replaying a used link, a guessed link, and telling known from unknown
// addresses by the answers and mails. Every attempt is refused; both genuine
// requests complete; the status page shows nothing personal.
func TestImpersonation(t *testing.T) {
	t.Parallel() // keeps the sequential phase short: requests of other tests wait it out
	const known, stranger = "john.roe@example.com", "no.account.here@example.com"
	victim := submitVia(t, "access", known, "EU")      // a customer with an account and orders
	attacker := submitVia(t, "access", stranger, "EU") // unknown to the company
	if masked(victim.StatusURL) != masked(attacker.StatusURL) || victim.Status != attacker.Status {
		t.Fatalf("the receipts differ: %+v / %+v", victim, attacker)
	}
	for _, subject := range []string{"We received your privacy request", "Confirm your privacy request"} {
		v, a := mailTo(t, known, victim.ID, subject), mailTo(t, stranger, attacker.ID, subject)
		if masked(v.Subject) != masked(a.Subject) || masked(v.Text) != masked(a.Text) || masked(v.HTML) != masked(a.HTML) {
			t.Fatalf("%q reads differently for a known and an unknown address:\n%s\n---\n%s", subject, v.Text, a.Text)
		}
	}
	vm, am := mailTo(t, known, victim.ID, "Confirm your privacy request"), mailTo(t, stranger, attacker.ID, "Confirm your privacy request")
	vLink, aLink, aCode := linkIn(t, vm, "/verify"), linkIn(t, am, "/verify"), codeIn(t, am)

	unknownID := "dsr-20260101-0000000000000000"
	refusals := []struct {
		name, path string
		form       url.Values
		want       int
		sameAs     string // the path an unknown request answers the same on
	}{
		{"the attacker's own link on the victim's request", vLink.Path, url.Values{"token": {aLink.Query().Get("token")}}, 404, "/v1/requests/" + unknownID + "/verify"},
		{"the attacker's own code on the victim's request", "/v1/requests/" + victim.ID + "/code", url.Values{"code": {aCode}}, 400, "/v1/requests/" + unknownID + "/code"},
		{"a guessed link token", vLink.Path, url.Values{"token": {"A" + strings.Repeat("b", 42)}}, 404, "/v1/requests/" + unknownID + "/verify"},
	}
	for _, tt := range refusals {
		st, page := post(t, tt.path, tt.form)
		stUnknown, pageUnknown := post(t, tt.sameAs, tt.form)
		if st != tt.want || stUnknown != tt.want || masked(page) != masked(pageUnknown) {
			t.Fatalf("%s: HTTP %d (unknown request: %d), want %d; pages:\n%s\n---\n%s", tt.name, st, stUnknown, tt.want, page, pageUnknown)
		}
	}
	// A mail scanner opens the victim's link: nothing happens.
	for range 2 {
		if st, _ := get(t, vLink.String()); st != http.StatusOK {
			t.Fatalf("link page: HTTP %d", st)
		}
	}
	if got := status(t, victim.StatusURL); got != "pending_verification" {
		t.Fatalf("after the attempts the victim's request is %s", got)
	}

	// The status page shows nothing personal.
	st, body := get(t, victim.StatusURL)
	if st != http.StatusOK || strings.Contains(body, "@") || strings.Contains(body, "john") || strings.Contains(body, "John") || strings.Contains(body, "token") {
		t.Fatalf("status page: HTTP %d %s", st, body)
	}

	// Both genuine subjects confirm; a replayed link is refused like a guess.
	for _, l := range []*url.URL{vLink, aLink} {
		if st, _ := post(t, l.Path, url.Values{"token": {l.Query().Get("token")}}); st != http.StatusOK {
			t.Fatalf("genuine confirmation: HTTP %d", st)
		}
	}
	st, replay := post(t, vLink.Path, url.Values{"token": {vLink.Query().Get("token")}})
	_, unknown := post(t, "/v1/requests/"+unknownID+"/verify", url.Values{"token": {vLink.Query().Get("token")}})
	if st != http.StatusNotFound || masked(replay) != masked(unknown) {
		t.Fatalf("replayed link: HTTP %d\n%s", st, replay)
	}
	waitCompleted(t, victim)
	waitCompleted(t, attacker)
	if f := storedRequest(t, victim.ID).Verification.Failures; f != 3 {
		t.Fatalf("the victim's request counted %d wrong attempts, want 3", f)
	}
}

// TestDataPointsAndDeclaration: a Californian asks for a copy of her data
// (CCPA Regs §7062(c)): besides the link or code she gives three details,
// matched against the demo company's users table, and signs the declaration.
// Missing details are asked for again without counting; wrong ones count,
// and read the same as details given for an address with no account.
func TestDataPointsAndDeclaration(t *testing.T) {
	t.Parallel() // keeps the sequential phase short: requests of other tests wait it out
	const email, stranger = "ana.lima@example.org", "no.account.in.ca@example.org"
	r := submitVia(t, "access", email, "US-CA")
	other := submitVia(t, "access", stranger, "US-CA")
	m := mailTo(t, email, r.ID, "Confirm your privacy request")
	link, code := linkIn(t, m, "/verify"), codeIn(t, m)
	token := link.Query().Get("token")

	st, page := get(t, link.String())
	for _, want := range []string{"give at least 3 of these details", `name="name"`, `name="phone"`, `name="postal_code"`, "penalty of perjury", `name="signature"`} {
		if st != http.StatusOK || !strings.Contains(page, want) {
			t.Fatalf("link page lacks %q: HTTP %d\n%s", want, st, page)
		}
	}
	if st, page := post(t, link.Path, url.Values{"token": {token}, "name": {"Ana Lima"}}); st != http.StatusBadRequest || !strings.Contains(page, "give at least 3") {
		t.Fatalf("too few details: HTTP %d\n%s", st, page)
	}
	wrong := url.Values{"token": {token}, "name": {"Ana Lima"}, "phone": {"213 555 0199"}, "postal_code": {"90013"}, "signature": {"Ana Lima"}}
	st, wrongPage := post(t, link.Path, wrong)
	if st != http.StatusBadRequest || !strings.Contains(wrongPage, "do not match") {
		t.Fatalf("a wrong detail: HTTP %d\n%s", st, wrongPage)
	}
	// The same details for an address without an account read the same.
	ol := linkIn(t, mailTo(t, stranger, other.ID, "Confirm your privacy request"), "/verify")
	wrong.Set("token", ol.Query().Get("token"))
	wrong.Set("postal_code", "90012")
	if st, strangerPage := post(t, ol.Path, wrong); st != http.StatusBadRequest || masked(strangerPage) != masked(wrongPage) {
		t.Fatalf("no account: HTTP %d\n%s\n---\n%s", st, strangerPage, wrongPage)
	}

	right := url.Values{"code": {code}, "name": {"ana lima"}, "phone": {"+1 (213) 555-0199"}, "postal_code": {"90012"}, "signature": {"Ana Lima"}}
	if st, page := post(t, "/v1/requests/"+r.ID+"/code", right); st != http.StatusOK || !strings.Contains(page, "Request confirmed") {
		t.Fatalf("right details with the code: HTTP %d\n%s", st, page)
	}
	waitCompleted(t, r)
	mailTo(t, email, r.ID, "Your data is ready")
	stored := storedRequest(t, r.ID)
	if stored.Verification.DeclaredBy != "Ana Lima" || stored.Verification.Failures != 1 || stored.Verification.Level.DataPoints != 3 || !stored.Verification.Level.Declaration {
		t.Fatalf("declared by %q, failures %d, level %+v", stored.Verification.DeclaredBy, stored.Verification.Failures, stored.Verification.Level)
	}
	got := strings.Join(actions(t, r.ID), "|")
	if !strings.Contains(got, "verification_failed method=email_link+data_points failures=1") || !strings.Contains(got, "verified method=email_code data_points=3 declaration=signed") {
		t.Fatalf("audit log: %s", got)
	}
	if f := storedRequest(t, other.ID).Verification.Failures; f != 1 {
		t.Fatalf("the stranger's request counted %d wrong attempts", f)
	}
}

// putPermission uploads an agent's permission as the agent would.
func putPermission(t *testing.T, statusURL, contentType string, body []byte, query string) int {
	t.Helper()
	u, err := url.Parse(statusURL)
	if err != nil {
		t.Fatal(err)
	}
	target := stack.APIURL + u.Path + "/permission?" + u.RawQuery + query
	req, err := http.NewRequest(http.MethodPut, target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := verifyClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestAuthorizedAgent: an agent submits for a customer. The customer's own
// link is refused until the agent sends the signed permission; documents of
// the wrong kind, or sent without the status token, are refused; the
// permission is kept encrypted, one document per request (a PNG sent after
// a PDF replaces it); the customer then confirms, the request completes,
// the data goes to the customer alone (the agent gets no mail), and the
// permission is deleted.
func TestAuthorizedAgent(t *testing.T) {
	t.Parallel() // keeps the sequential phase short: requests of other tests wait it out
	const subjectEmail, agentEmail = "li.wei@example.net", "agent.firm@example.com"
	a := postJSON(t, verifyClient, fmt.Sprintf(`{"type":"access","email":%q,"agent_email":%q,"jurisdiction":"EU"}`, subjectEmail, agentEmail), nil)
	var r receipt
	if err := json.Unmarshal([]byte(a.body), &r); a.status != http.StatusAccepted || err != nil {
		t.Fatalf("agent's submission: HTTP %d %s", a.status, a.body)
	}
	m := mailTo(t, subjectEmail, r.ID, "Confirm your privacy request")
	if !strings.Contains(m.Text, "on your behalf by "+agentEmail) {
		t.Fatalf("the subject is not told of the agent:\n%s", m.Text)
	}
	link := linkIn(t, m, "/verify")
	confirm := url.Values{"token": {link.Query().Get("token")}}
	if st, page := post(t, link.Path, confirm); st != http.StatusConflict || !strings.Contains(page, "has not yet sent us your signed permission") {
		t.Fatalf("confirmation before the permission: HTTP %d\n%s", st, page)
	}

	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64)...)
	wrongToken := strings.Replace(r.StatusURL, "token=", "token=x", 1)
	for _, tt := range []struct {
		name, url, ctype string
		body             []byte
		want             int
	}{
		{"a text file", r.StatusURL, "text/plain", []byte("I agree"), http.StatusUnsupportedMediaType},
		{"a program called a PDF", r.StatusURL, "application/pdf", []byte("MZ\x90\x00\x03"), http.StatusUnsupportedMediaType},
		{"too large", r.StatusURL, "application/pdf", append([]byte("%PDF-1.7"), make([]byte, 4<<20)...), http.StatusRequestEntityTooLarge},
		{"without the status token", wrongToken, "image/png", png, http.StatusNotFound},
		{"a first scan", r.StatusURL, "application/pdf", []byte("%PDF-1.7\nfirst scan"), http.StatusNoContent},
		{"the signed permission", r.StatusURL, "image/png", png, http.StatusNoContent},
	} {
		if got := putPermission(t, tt.url, tt.ctype, tt.body, ""); got != tt.want {
			t.Fatalf("%s: HTTP %d, want %d", tt.name, got, tt.want)
		}
	}
	stored := storedRequest(t, r.ID)
	if stored.Agent.PermissionKey != "agents/"+r.ID+"/permission" || stored.Agent.PermissionType != "image/png" || stored.Status != request.PendingVerification {
		t.Fatalf("permission key %q (%s), status %s", stored.Agent.PermissionKey, stored.Agent.PermissionType, stored.Status)
	}
	s3c := s3.NewFromConfig(stack.AWS, func(o *s3.Options) { o.UsePathStyle = true })
	bucket := aws.String(devstack.LocalConfig(stack.Region, stack.APIURL).ExportsBucket)
	permissions := func() []string {
		t.Helper()
		out, err := s3c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("agents/" + r.ID + "/")})
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		return keys
	}
	if keys := permissions(); len(keys) != 1 || keys[0] != stored.Agent.PermissionKey {
		t.Fatalf("documents kept %v, want the last one alone", keys)
	}
	head, err := s3c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: bucket, Key: &stored.Agent.PermissionKey})
	if err != nil || head.ServerSideEncryption != "aws:kms" || aws.ToString(head.ContentType) != "image/png" {
		t.Fatalf("the permission at rest: %v, encryption %q, type %q", err, head.ServerSideEncryption, aws.ToString(head.ContentType))
	}

	if st, _ := post(t, link.Path, confirm); st != http.StatusOK {
		t.Fatalf("the subject's confirmation: HTTP %d", st)
	}
	waitCompleted(t, r)
	// The closing step deletes the permission before it mails the subject.
	mailTo(t, subjectEmail, r.ID, "Your data is ready")
	mails, err := stack.Mail()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mails {
		if slices.Contains(m.To, agentEmail) {
			t.Fatalf("the agent was mailed %q", m.Subject)
		}
	}
	if keys := permissions(); len(keys) != 0 {
		t.Fatalf("the completed request's permission is still kept: %v", keys)
	}
	if !slices.Contains(actions(t, r.ID), "agent_permission_deleted ") {
		t.Fatalf("no audit event for the deletion: %v", actions(t, r.ID))
	}
}

// TestAgentWithPowerOfAttorney: an agent declares a power of attorney; the
// request waits for an operator, who reviews the document and verifies it,
// without the subject's confirmation; the data still goes to the subject.
func TestAgentWithPowerOfAttorney(t *testing.T) {
	t.Parallel() // keeps the sequential phase short: requests of other tests wait it out
	// Not TestAuthorizedAgent's subject: running beside it, a second access
	// request of the same subject would join the first once it is verified.
	const subjectEmail, agentEmail = "mei.chen@example.net", "attorney@firm.example.com"
	a := postJSON(t, verifyClient, fmt.Sprintf(`{"type":"access","email":%q,"agent_email":%q,"jurisdiction":"EU"}`, subjectEmail, agentEmail), nil)
	var r receipt
	if err := json.Unmarshal([]byte(a.body), &r); a.status != http.StatusAccepted || err != nil {
		t.Fatalf("agent's submission: HTTP %d %s", a.status, a.body)
	}
	eventually(t, "verification pending", 30*time.Second, func() bool { return status(t, r.StatusURL) == "pending_verification" })
	if got := putPermission(t, r.StatusURL, "application/pdf", []byte("%PDF-1.7\npower of attorney"), "&power_of_attorney=true"); got != http.StatusNoContent {
		t.Fatalf("upload: HTTP %d", got)
	}
	if st := storedRequest(t, r.ID); !st.Agent.PowerOfAttorney || !st.NeedsOperator || st.Status != request.PendingVerification {
		t.Fatalf("power of attorney %v, needs operator %v, status %s", st.Agent.PowerOfAttorney, st.NeedsOperator, st.Status)
	}
	if err := stack.App.Operator().Verify(context.Background(), r.ID, "e2e", "power of attorney reviewed"); err != nil {
		t.Fatal(err)
	}
	waitCompleted(t, r)
	mailTo(t, subjectEmail, r.ID, "Your data is ready")
	if st := storedRequest(t, r.ID); st.NeedsOperator {
		t.Fatal("still flagged for an operator after the review")
	}
	if got := mailsTo(t, agentEmail, r.ID, ""); len(got) != 0 {
		t.Fatalf("the agent was mailed %v", got)
	}
}

// TestAgentByWebForm: an agent uses the web form and the page after it to
// send the subject's signed permission, which is stored with the request;
// the subject is asked to confirm, the agent gets no mail.
func TestAgentByWebForm(t *testing.T) {
	t.Parallel()
	const subjectEmail, agentEmail = "form.agent.client@example.net", "form.agent@firm.example.com"
	form := url.Values{"type": {"access"}, "email": {subjectEmail}, "agent_email": {agentEmail}, "jurisdiction": {"US-CA"}, "language": {"en"}}
	resp, err := verifyClient.PostForm(stack.APIURL+"/v1/requests", form)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	action := regexp.MustCompile(`<form method="post" action="([^"]+)" enctype="multipart/form-data"`).FindSubmatch(page)
	if resp.StatusCode != http.StatusAccepted || action == nil {
		t.Fatalf("submission: HTTP %d, no upload form:\n%s", resp.StatusCode, page)
	}
	target, err := url.Parse(html.UnescapeString(string(action[1])))
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(target.Path, "/v1/requests/"), "/permission")

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, _ := mw.CreateFormFile("permission", "permission.pdf")
	_, _ = part.Write([]byte("%PDF-1.7\nsigned permission"))
	_ = mw.Close()
	resp, err = verifyClient.Post(stack.APIURL+target.String(), mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(answer, []byte("we have the signed permission")) {
		t.Fatalf("upload: HTTP %d\n%s", resp.StatusCode, answer)
	}
	if st := storedRequest(t, id); st.Agent.PermissionKey != "agents/"+id+"/permission" || st.Agent.Email != agentEmail || st.Email != subjectEmail {
		t.Fatalf("stored permission %q, agent %q", st.Agent.PermissionKey, st.Agent.Email)
	}
	if m := mailTo(t, subjectEmail, id, "Confirm your privacy request"); !strings.Contains(m.Text, "on your behalf by "+agentEmail) {
		t.Fatalf("the subject is not told of the agent:\n%s", m.Text)
	}
	if got := mailsTo(t, agentEmail, id, ""); len(got) != 0 {
		t.Fatalf("the agent was mailed %v", got)
	}
}
