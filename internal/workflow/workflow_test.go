package workflow

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/privacy-pipeline/dsr/internal/accesspkg"
	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/i18n"
	"github.com/privacy-pipeline/dsr/internal/memstore"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/secret"
	"github.com/privacy-pipeline/dsr/internal/statute"
)

const (
	baseURL     = "https://dsr.example"
	subject     = "a@example.com"
	verifyTTL   = 72 * time.Hour
	downloadTTL = 7 * 24 * time.Hour
)

// testRegistry chains email -> user_id (users) -> account_id (billing). billing
// comes first, so reaching account_id takes a second pass over the sources.
const testRegistry = `
identities: [email, user_id, account_id]
sources:
  - id: billing
    description: Billing accounts
    dynamodb: {table: billing, partition_key: user_id, identity: user_id}
    provides: {account_id: account_id}
    erasure: delete
    categories: [identifiers, commercial]
    purposes: [Bill the customer.]
    recipients: [{name: Pay Ltd, role: processor, country: IE}]
    retention: {period: 10 years, criteria: after the invoice}
  - id: users
    description: User profiles
    dynamodb: {table: users, index: email-index, partition_key: email, identity: email}
    provides: {user_id: user_id}
    erasure: delete
    categories: [identifiers]
    purposes: [Provide the account.]
    recipients: []
    retention: {criteria: until the account is closed}
  - id: invoices
    s3:
      bucket: invoices
      prefix: invoices/
      format: jsonl
      match:
        - {field: account_id, identity: account_id}
    erasure: delete
    categories: [commercial]
    purposes: [Keep accounting records.]
    recipients: [{name: Tax authorities, role: public_authority}]
    retention: {period: 10 years}
`

type env struct {
	steps        *Steps
	store        *fakeStore
	mail         *fakeMailer
	adapter      *fakeAdapter
	exports      *fakeExports
	clock        *clock.Fake
	watch        *fakeWatch
	metrics      *fakeMetrics
	outcomes     *fakeOutcomes
	findings     *fakeFindings
	progress     *fakeProgress
	receipts     *fakeReceipts
	suppressions *memstore.Suppressions
	rawMail      *fakeRawMail
	permissions  *fakePermissions
}

func newEnv(t *testing.T) *env {
	t.Helper()
	reg, err := registry.Parse([]byte(testRegistry))
	if err != nil {
		t.Fatalf("test registry: %v", err)
	}
	e := &env{
		store:        newFakeStore(),
		mail:         &fakeMailer{},
		adapter:      &fakeAdapter{data: map[string]map[string][]map[string]any{}},
		exports:      newFakeExports(),
		clock:        clock.NewFake(time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)),
		watch:        &fakeWatch{},
		metrics:      &fakeMetrics{},
		outcomes:     &fakeOutcomes{},
		findings:     &fakeFindings{},
		progress:     &fakeProgress{},
		receipts:     &fakeReceipts{},
		suppressions: memstore.NewSuppressions(),
		rawMail:      &fakeRawMail{},
		permissions:  &fakePermissions{},
	}
	e.steps = &Steps{
		RawMail:       e.rawMail,
		Permissions:   e.permissions,
		Watch:         e.watch,
		WatchWaits:    e.store,
		Metrics:       e.metrics,
		Scale:         1,
		NoticeLead:    DefaultNoticeLead,
		OperatorEmail: "ops@example.com",
		Store:         e.store,
		Mailer:        e.mail,
		Registry:      reg,
		Adapters:      map[string]SourceAdapter{"dynamodb": e.adapter, "s3": e.adapter},
		Exports:       e.exports,
		Outcomes:      e.outcomes,
		Findings:      e.findings,
		Progress:      e.progress,
		Receipts:      e.receipts,
		KeyHasher:     fakeHasher{},
		Suppressions:  e.suppressions,
		Slots:         e.store,
		Clock:         e.clock,
		BaseURL:       baseURL,
		VerifyLinkTTL: verifyTTL,
		DownloadTTL:   downloadTTL,
	}
	return e
}

// seed stores a request of type typ in status st and returns it.
func (e *env) seed(t *testing.T, typ request.Type, st request.Status, edit func(*request.Request)) request.Request {
	t.Helper()
	r := request.New(request.Submission{Type: string(typ), Email: subject, Jurisdiction: "EU"}, e.clock.Now())
	r.Status = st
	if edit != nil {
		edit(r)
	}
	e.store.put(*r)
	return e.store.stored(r.ID)
}

var linkPattern = regexp.MustCompile(regexp.QuoteMeta(baseURL) + `\S+`)

// linkToken finds the link in a message's text, checks its path and returns
// its token.
func linkToken(t *testing.T, msg notify.Message, wantPath string) string {
	t.Helper()
	raw := linkPattern.FindString(msg.Text)
	if raw == "" {
		t.Fatalf("no link in message %q", msg.Subject)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("link does not parse: %v", err)
	}
	if u.Path != wantPath {
		t.Fatalf("link path = %q, want %q", u.Path, wantPath)
	}
	tok := u.Query().Get("token")
	if tok == "" {
		t.Fatal("link has no token")
	}
	return tok
}

func wantKind(t *testing.T, err error, kind apperr.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", kind)
	}
	if got := apperr.KindOf(err); got != kind {
		t.Fatalf("error kind = %s (%v), want %s", got, err, kind)
	}
}

func lastEvent(t *testing.T, s *fakeStore, id string) request.Event {
	t.Helper()
	evs := s.eventsOf(id)
	if len(evs) == 0 {
		t.Fatal("no audit event")
	}
	return evs[len(evs)-1]
}

func TestStartVerification(t *testing.T) {
	t.Run("valid", func(t *testing.T) {
		e := newEnv(t)
		r := e.seed(t, request.Access, request.Received, nil)
		if err := e.steps.StartVerification(context.Background(), VerificationTask{RequestID: r.ID, TaskToken: "task-token-1"}); err != nil {
			t.Fatal(err)
		}
		got := e.store.stored(r.ID)
		if got.Status != request.PendingVerification {
			t.Errorf("status = %s, want %s", got.Status, request.PendingVerification)
		}
		if got.Verification.TaskToken != "task-token-1" {
			t.Errorf("task token = %q", got.Verification.TaskToken)
		}
		if want := e.clock.Now().Add(verifyTTL); !got.Verification.ExpiresAt.Equal(want) {
			t.Errorf("verify expires at %v, want %v", got.Verification.ExpiresAt, want)
		}
		if got.Verification.TokenHash == "" {
			t.Fatal("no verify token hash stored")
		}
		if len(e.mail.sent) != 1 {
			t.Fatalf("%d messages sent, want 1", len(e.mail.sent))
		}
		msg := e.mail.sent[0]
		if msg.To != subject {
			t.Errorf("mail to %q, want %q", msg.To, subject)
		}
		tok := linkToken(t, msg, "/v1/requests/"+r.ID+"/verify")
		if !secret.Matches(tok, got.Verification.TokenHash) {
			t.Error("the mailed token does not match the stored hash")
		}
		if strings.Contains(got.Verification.TokenHash, tok) {
			t.Error("the token itself is stored")
		}
		code := codeIn(t, msg)
		if !secret.CodeMatches(r.ID, code, got.Verification.CodeHash) {
			t.Errorf("the mailed code %q does not match the stored hash", code)
		}
		if strings.Contains(got.Verification.CodeHash, secret.NormalizeCode(code)) || got.Verification.CodeHash == got.Verification.TokenHash {
			t.Error("the code itself is stored")
		}
		if !strings.Contains(msg.Text, baseURL+"/v1/requests/"+r.ID+"/code") {
			t.Errorf("the mail does not say where to enter the code:\n%s", msg.Text)
		}
		ev := lastEvent(t, e.store, r.ID)
		if ev.Action != "verification_sent" || ev.From != request.Received || ev.To != request.PendingVerification || ev.Actor != "system" {
			t.Errorf("event = %+v", ev)
		}
	})

	tests := []struct {
		name string
		id   func(r request.Request) string
		task string
		kind apperr.Kind
	}{
		{"malformed request id", func(request.Request) string { return "not-a-request-id" }, "task-token-1", apperr.Invalid},
		{"empty request id", func(request.Request) string { return "" }, "task-token-1", apperr.Invalid},
		{"empty task token", func(r request.Request) string { return r.ID }, "", apperr.Invalid},
		{"unknown request", func(r request.Request) string { return request.NewID(r.ReceivedAt) }, "task-token-1", apperr.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			r := e.seed(t, request.Access, request.Received, nil)
			err := e.steps.StartVerification(context.Background(), VerificationTask{RequestID: tt.id(r), TaskToken: tt.task})
			wantKind(t, err, tt.kind)
			if len(e.mail.sent) != 0 {
				t.Errorf("%d messages sent", len(e.mail.sent))
			}
			if got := e.store.stored(r.ID); !reflect.DeepEqual(got, r) {
				t.Errorf("request changed:\n got %+v\nwant %+v", got, r)
			}
		})
	}
}

// codeIn finds the confirmation code in a verification mail.
func codeIn(t *testing.T, msg notify.Message) string {
	t.Helper()
	for _, line := range strings.Split(msg.Text, "\n") {
		if line = strings.TrimSpace(line); len(line) == secret.CodeLength+1 && secret.NormalizeCode(line) != "" {
			return line
		}
	}
	t.Fatalf("no code in the mail:\n%s", msg.Text)
	return ""
}

// TestStartVerificationAgain: a second start (a retried task, a redrive)
// voids the first link and code, issues new ones and clears a lock.
// TestMailsSpeakTheRequestsLanguage: the mails of a request are in the
// language chosen at intake, and their links keep it for the pages they open.
func TestMailsSpeakTheRequestsLanguage(t *testing.T) {
	e := newEnv(t)
	r := e.seed(t, request.Access, request.Received, func(r *request.Request) { r.Language = i18n.Finnish })
	if err := e.steps.StartVerification(context.Background(), VerificationTask{RequestID: r.ID, TaskToken: "task-token-1"}); err != nil {
		t.Fatal(err)
	}
	msg := onlyMessage(t, e)
	if msg.Language != i18n.Finnish || msg.Subject != i18n.Finnish.T("mail.verify.subject", "id", r.ID) {
		t.Fatalf("language %q, subject %q", msg.Language, msg.Subject)
	}
	for _, path := range []string{"/verify?", "/code?"} {
		if !regexp.MustCompile(regexp.QuoteMeta(path) + `\S*lang=fi`).MatchString(msg.Text) {
			t.Errorf("the %s link does not keep the language:\n%s", path, msg.Text)
		}
	}
}

func TestStartVerificationAgain(t *testing.T) {
	e := newEnv(t)
	r := e.seed(t, request.Access, request.Received, nil)
	ctx := context.Background()
	if err := e.steps.StartVerification(ctx, VerificationTask{RequestID: r.ID, TaskToken: "task-token-1"}); err != nil {
		t.Fatal(err)
	}
	first := e.store.stored(r.ID)
	firstCode := codeIn(t, e.mail.sent[0])
	locked := first
	locked.Verification.Failures, locked.Verification.Locked = request.MaxVerifyFailures, true
	locked.ClearVerification()
	e.store.Put(locked)
	if err := e.steps.StartVerification(ctx, VerificationTask{RequestID: r.ID, TaskToken: "task-token-2"}); err != nil {
		t.Fatal(err)
	}
	got := e.store.stored(r.ID)
	if got.Verification.Locked || got.Verification.Failures != 0 || got.Verification.TaskToken != "task-token-2" {
		t.Errorf("after a new start: locked %v, failures %d, task token %q", got.Verification.Locked, got.Verification.Failures, got.Verification.TaskToken)
	}
	if got.Verification.TokenHash == first.Verification.TokenHash || secret.CodeMatches(r.ID, firstCode, got.Verification.CodeHash) {
		t.Error("the first link or code still works")
	}
	if !secret.CodeMatches(r.ID, codeIn(t, e.mail.sent[1]), got.Verification.CodeHash) {
		t.Error("the new code does not match")
	}
}

func TestResolveIdentities(t *testing.T) {
	type recs = map[string]map[string][]map[string]any
	tests := []struct {
		name string
		data recs
		want map[string][]string
	}{
		{
			name: "chain over two passes",
			data: recs{
				"users":   {subject: {{"email": subject, "user_id": "u-1"}}},
				"billing": {"u-1": {{"user_id": "u-1", "account_id": "acc-9"}}},
			},
			want: map[string][]string{"email": {subject}, "user_id": {"u-1"}, "account_id": {"acc-9"}},
		},
		{
			name: "values are kept once each",
			data: recs{
				"users": {subject: {{"user_id": "u-1"}, {"user_id": "u-2"}, {"user_id": "u-1"}}},
			},
			want: map[string][]string{"email": {subject}, "user_id": {"u-1", "u-2"}},
		},
		{
			name: "unknown subject",
			data: recs{"users": {"b@example.com": {{"user_id": "u-7"}}}},
			want: map[string][]string{"email": {subject}},
		},
		{
			name: "empty and non-string values are ignored",
			data: recs{"users": {subject: {{"user_id": ""}, {"user_id": 42}, {"user_id": true}, {"other": "x"}}}},
			want: map[string][]string{"email": {subject}},
		},
		{
			name: "a number read from a source chains by its digits",
			data: recs{
				"users":   {subject: {{"user_id": json.Number("1001")}}},
				"billing": {"1001": {{"account_id": json.Number("12345678901234567890")}}},
			},
			want: map[string][]string{"email": {subject}, "user_id": {"1001"}, "account_id": {"12345678901234567890"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.adapter.data = tt.data
			r := e.seed(t, request.Access, request.Verified, nil)
			plan, err := e.steps.ResolveIdentities(context.Background(), RequestRef{RequestID: r.ID})
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"billing", "users", "invoices"}; !slices.Equal(plan.Sources, want) {
				t.Errorf("plan = %v, want %v", plan.Sources, want)
			}
			got := e.store.stored(r.ID)
			if !reflect.DeepEqual(got.Identities, tt.want) {
				t.Errorf("identities = %v, want %v", got.Identities, tt.want)
			}
			if got.Status != request.InProgress {
				t.Errorf("status = %s, want %s", got.Status, request.InProgress)
			}
			ev := lastEvent(t, e.store, r.ID)
			if ev.Action != "identities_resolved" || ev.From != request.Verified || ev.To != request.InProgress {
				t.Errorf("event = %+v", ev)
			}
			if strings.Contains(ev.Note, subject) {
				t.Error("the audit note holds the email")
			}
		})
	}

	t.Run("invalid id", func(t *testing.T) {
		e := newEnv(t)
		_, err := e.steps.ResolveIdentities(context.Background(), RequestRef{RequestID: "dsr-bad"})
		wantKind(t, err, apperr.Invalid)
	})
}

// TestResolveIdentitiesKeepsWhatErasureRemoved: a redriven delete request
// resolves its identities again after erasure deleted the account that
// led from the email to the user id. The user id found the first time is
// kept, and so is what it chained to, so the sources not yet erased still
// find the subject; what the sources hold now is added. Where erasure has
// changed nothing (an access request; a deletion before erasure), the
// identities are resolved afresh: an operator may have corrected one.
func TestResolveIdentitiesKeepsWhatErasureRemoved(t *testing.T) {
	before := map[string][]string{"email": {subject}, "user_id": {"u-1"}, "account_id": {"acc-9"}}
	for _, tc := range []struct {
		name   string
		typ    request.Type
		erased bool // erasure journaled a change in the account source
		want   map[string][]string
	}{
		{"a deletion whose account was erased", request.Delete, true, map[string][]string{"email": {subject}, "user_id": {"u-1", "u-2"}, "account_id": {"acc-9"}}},
		{"a deletion before erasure", request.Delete, false, map[string][]string{"email": {subject}, "user_id": {"u-2"}}},
		{"an access request", request.Access, false, map[string][]string{"email": {subject}, "user_id": {"u-2"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			// The first account is gone (erased, or corrected by an
			// operator); the billing records keyed by its user id are still
			// there, and a second account is found by the email.
			e.adapter.data = map[string]map[string][]map[string]any{
				"users":   {subject: {{"email": subject, "user_id": "u-2"}}},
				"billing": {"u-1": {{"user_id": "u-1", "account_id": "acc-9"}}},
			}
			r := e.seed(t, tc.typ, request.InProgress, func(r *request.Request) { r.Identities = before })
			if tc.erased {
				step := erasure.Step{Key: "u-1", Action: erasure.ActionDeleted, Records: 1}
				if err := e.progress.Journal(r.ID, "users").Done(ctx, step); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := e.steps.ResolveIdentities(ctx, RequestRef{RequestID: r.ID}); err != nil {
				t.Fatal(err)
			}
			if got := e.store.stored(r.ID).Identities; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("identities after a redrive = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCollectSource(t *testing.T) {
	ids := map[string][]string{"email": {subject}, "user_id": {"u-1", "u-2"}}
	data := map[string]map[string][]map[string]any{
		"users":   {subject: {{"email": subject, "user_id": "u-1"}}},
		"billing": {"u-1": {{"account_id": "acc-1"}}, "u-2": {{"account_id": "acc-2"}}, "u-3": {{"account_id": "acc-3"}}},
	}
	tests := []struct {
		name   string
		source string
		want   int
		kind   apperr.Kind // when an error is expected
		fails  bool
	}{
		{name: "by email", source: "users", want: 1},
		{name: "by every user id", source: "billing", want: 2},
		{name: "nothing held", source: "invoices", want: 0},
		{name: "source not in registry", source: "crm", fails: true, kind: apperr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.adapter.data = data
			r := e.seed(t, request.Access, request.InProgress, func(r *request.Request) { r.Identities = ids })
			res, err := e.steps.CollectSource(context.Background(), SourceTask{RequestID: r.ID, SourceID: tt.source})
			if tt.fails {
				wantKind(t, err, tt.kind)
				if keys := e.exports.partKeys(); len(keys) != 0 {
					t.Errorf("parts stored: %v", keys)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.SourceID != tt.source || res.Records != tt.want {
				t.Errorf("result = %+v, want %s with %d records", res, tt.source, tt.want)
			}
			part, err := e.exports.Part(context.Background(), r.ID, tt.source)
			if err != nil {
				t.Fatalf("no part stored: %v", err)
			}
			if len(part) != tt.want {
				t.Errorf("part holds %d records, want %d", len(part), tt.want)
			}
		})
	}

	t.Run("invalid id", func(t *testing.T) {
		e := newEnv(t)
		_, err := e.steps.CollectSource(context.Background(), SourceTask{RequestID: "x", SourceID: "users"})
		wantKind(t, err, apperr.Invalid)
	})
}

// A source that lists the attributes to export puts only those into the
// package; identities still chain through the attributes left out.
func TestCollectSourceExportsTheListedAttributes(t *testing.T) {
	e := newEnv(t)
	e.steps.Registry.Source("users").Export = []string{"email", "name"}
	e.adapter.data = map[string]map[string][]map[string]any{
		"users":   {subject: {{"email": subject, "name": "Ada", "user_id": "u-1", "password_hash": "x"}}},
		"billing": {"u-1": {{"account_id": "acc-1"}}},
	}
	r := e.seed(t, request.Access, request.Verified, nil)
	if _, err := e.steps.ResolveIdentities(context.Background(), RequestRef{RequestID: r.ID}); err != nil {
		t.Fatal(err)
	}
	if got := e.store.stored(r.ID).Identities["user_id"]; !slices.Equal(got, []string{"u-1"}) {
		t.Fatalf("user ids %v: chaining must see the attributes the package leaves out", got)
	}
	res, err := e.steps.CollectSource(context.Background(), SourceTask{RequestID: r.ID, SourceID: "users"})
	if err != nil || res.Records != 1 {
		t.Fatalf("CollectSource = %+v, %v", res, err)
	}
	part, err := e.exports.Part(context.Background(), r.ID, "users")
	if err != nil {
		t.Fatal(err)
	}
	if want := []map[string]any{{"email": subject, "name": "Ada"}}; !reflect.DeepEqual(part, want) {
		t.Fatalf("part %v, want %v", part, want)
	}
	if billing, _ := e.steps.CollectSource(context.Background(), SourceTask{RequestID: r.ID, SourceID: "billing"}); billing.Records != 1 {
		t.Fatalf("billing: %+v; a source without export exports whole records", billing)
	}
	part, _ = e.exports.Part(context.Background(), r.ID, "billing")
	if want := []map[string]any{{"account_id": "acc-1"}}; !reflect.DeepEqual(part, want) {
		t.Fatalf("billing part %v, want %v", part, want)
	}
}

func TestBuildPackage(t *testing.T) {
	for _, typ := range []request.Type{request.Access, request.Portability} {
		t.Run(string(typ), func(t *testing.T) { testBuildPackage(t, typ) })
	}
}

func testBuildPackage(t *testing.T, typ request.Type) {
	e := newEnv(t)
	r := e.seed(t, typ, request.InProgress, nil)
	ctx := context.Background()
	parts := map[string][]map[string]any{
		"billing":  {{"account_id": "acc-1"}, {"account_id": "acc-2"}},
		"users":    {{"user_id": "u-1"}},
		"invoices": {},
	}
	for id, recs := range parts {
		if err := e.exports.PutPart(ctx, r.ID, id, recs); err != nil {
			t.Fatal(err)
		}
	}
	// Another request's part must survive.
	other := request.NewID(e.clock.Now())
	if err := e.exports.PutPart(ctx, other, "users", nil); err != nil {
		t.Fatal(err)
	}

	if err := e.steps.BuildPackage(ctx, RequestRef{RequestID: r.ID}); err != nil {
		t.Fatal(err)
	}

	got := e.store.stored(r.ID)
	if got.Delivery.ExportKey == "" {
		t.Fatal("no export key stored")
	}
	if got.Status != request.InProgress {
		t.Errorf("status = %s, want it unchanged", got.Status)
	}
	body, ok := e.exports.packages[got.Delivery.ExportKey]
	if !ok {
		t.Fatalf("no package under the stored key %q", got.Delivery.ExportKey)
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("package is not a zip: %v", err)
	}
	var m accesspkg.Manifest
	readZipJSON(t, zr, accesspkg.ManifestFile, &m)
	if m.RequestID != r.ID || m.RequestType != string(typ) {
		t.Errorf("manifest request id = %q, type %q", m.RequestID, m.RequestType)
	}
	if !m.GeneratedAt.Equal(e.clock.Now()) {
		t.Errorf("manifest generated at %v, want %v", m.GeneratedAt, e.clock.Now())
	}
	if len(m.Sources) != len(parts) {
		t.Fatalf("manifest lists %d sources, want %d", len(m.Sources), len(parts))
	}
	for _, s := range m.Sources {
		if want := len(parts[s.ID]); s.Records != want {
			t.Errorf("manifest: %s has %d records, want %d", s.ID, s.Records, want)
		}
		var recs []map[string]any
		readZipJSON(t, zr, s.JSONFile, &recs)
		if len(recs) != s.Records {
			t.Errorf("%s holds %d records, manifest says %d", s.JSONFile, len(recs), s.Records)
		}
		src := e.steps.Registry.Source(s.ID)
		if len(s.Categories) != len(src.Categories) || !slices.Equal(s.Purposes, src.Purposes) || len(s.Recipients) != len(src.Recipients) || s.Retention != *src.Retention {
			t.Errorf("manifest: %s does not carry the registry's disclosure: %+v", s.ID, s)
		}
	}
	if keys := e.exports.partKeys(); !slices.Equal(keys, []string{other + "/users"}) {
		t.Errorf("parts left = %v, want only the other request's", keys)
	}
	ev := lastEvent(t, e.store, r.ID)
	if ev.Action != "package_built" || ev.Note != "sources=3 records=3" {
		t.Errorf("event = %+v", ev)
	}
}

func TestBuildPackageMissingPart(t *testing.T) {
	e := newEnv(t)
	r := e.seed(t, request.Access, request.InProgress, nil)
	ctx := context.Background()
	if err := e.exports.PutPart(ctx, r.ID, "users", []map[string]any{{"user_id": "u-1"}}); err != nil {
		t.Fatal(err)
	}
	err := e.steps.BuildPackage(ctx, RequestRef{RequestID: r.ID})
	wantKind(t, err, apperr.NotFound)
	if len(e.exports.packages) != 0 {
		t.Error("a package was stored")
	}
	if keys := e.exports.partKeys(); len(keys) != 1 {
		t.Errorf("parts = %v, want the collected one kept", keys)
	}
	if got := e.store.stored(r.ID); got.Delivery.ExportKey != "" {
		t.Error("export key stored")
	}
}

func readZipJSON(t *testing.T, zr *zip.Reader, name string, v any) {
	t.Helper()
	f, err := zr.Open(name)
	if err != nil {
		t.Fatalf("open %s in package: %v", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func TestEraseSource(t *testing.T) {
	ids := map[string][]string{"email": {subject}, "user_id": {"u-1", "u-2"}}
	tests := []struct {
		name   string
		typ    request.Type
		status request.Status
		source string
		kind   apperr.Kind
		fails  bool
		want   int
	}{
		{name: "delete in progress", typ: request.Delete, status: request.InProgress, source: "billing", want: 3},
		{name: "nothing held", typ: request.Delete, status: request.InProgress, source: "invoices", want: 0},
		{name: "access request", typ: request.Access, status: request.InProgress, source: "billing", fails: true, kind: apperr.Conflict},
		{name: "delete not yet verified", typ: request.Delete, status: request.PendingVerification, source: "billing", fails: true, kind: apperr.Conflict},
		{name: "delete already completed", typ: request.Delete, status: request.Completed, source: "billing", fails: true, kind: apperr.Conflict},
		{name: "source not in registry", typ: request.Delete, status: request.InProgress, source: "crm", fails: true, kind: apperr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.adapter.data = map[string]map[string][]map[string]any{
				"billing": {"u-1": {{"a": "1"}, {"a": "2"}}, "u-2": {{"a": "3"}}, "u-9": {{"a": "4"}}},
			}
			r := e.seed(t, tt.typ, tt.status, func(r *request.Request) { r.Identities = ids })
			before := len(e.store.eventsOf(r.ID))
			res, err := e.steps.EraseSource(context.Background(), SourceTask{RequestID: r.ID, SourceID: tt.source})
			if tt.fails {
				wantKind(t, err, tt.kind)
				if n := len(e.adapter.data["billing"]); n != 3 {
					t.Errorf("records were erased: %d identity keys left, want 3", n)
				}
				if n := len(e.store.eventsOf(r.ID)); n != before {
					t.Errorf("%d events recorded", n-before)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.SourceID != tt.source || res.Records != tt.want {
				t.Errorf("result = %+v, want %s with %d records", res, tt.source, tt.want)
			}
			if _, ok := e.adapter.data["billing"]["u-9"]; !ok {
				t.Error("another subject's records were erased")
			}
			if tt.source == "billing" && (len(e.adapter.data["billing"]["u-1"]) != 0 || len(e.adapter.data["billing"]["u-2"]) != 0) {
				t.Error("the subject's records are still there")
			}
			ev := lastEvent(t, e.store, r.ID)
			if want := fmt.Sprintf("source=%s mode=delete records=%d", tt.source, tt.want); ev.Action != "source_erased" || ev.Note != want {
				t.Errorf("event = %+v, want source_erased with note %q", ev, want)
			}
			if !ev.At.Equal(e.clock.Now()) {
				t.Errorf("event at %v, want %v", ev.At, e.clock.Now())
			}
			if got := e.store.stored(r.ID); got.Version != r.Version || got.Status != tt.status {
				t.Error("the request itself changed")
			}
		})
	}
}

func TestCloseRequest(t *testing.T) {
	tests := []struct {
		name    string
		typ     request.Type
		status  request.Status
		edit    func(*request.Request)
		outcome CloseOutcome
		kind    apperr.Kind
		fails   bool
		check   func(t *testing.T, e *env, before, after request.Request)
	}{
		{
			name: "access completed", typ: request.Access, status: request.InProgress, outcome: CloseCompleted,
			edit: func(r *request.Request) { r.Delivery.ExportKey = "packages/x.zip" },
			check: func(t *testing.T, e *env, before, after request.Request) {
				now := e.clock.Now()
				if after.Status != request.Completed || !after.CompletedAt.Equal(now) {
					t.Errorf("status %s completed at %v", after.Status, after.CompletedAt)
				}
				if !after.Delivery.ExpiresAt.Equal(now.Add(downloadTTL)) {
					t.Errorf("download expires at %v, want %v", after.Delivery.ExpiresAt, now.Add(downloadTTL))
				}
				msg := onlyMessage(t, e)
				tok := linkToken(t, msg, "/v1/requests/"+after.ID+"/download")
				if !secret.Matches(tok, after.Delivery.TokenHash) {
					t.Error("the mailed download token does not match the stored hash")
				}
			},
		},
		{
			name: "portability completed", typ: request.Portability, status: request.InProgress, outcome: CloseCompleted,
			edit: func(r *request.Request) { r.Delivery.ExportKey = "packages/x.zip" },
			check: func(t *testing.T, e *env, before, after request.Request) {
				if after.Status != request.Completed || after.Delivery.TokenHash == "" {
					t.Errorf("status %s, download token hash %q", after.Status, after.Delivery.TokenHash)
				}
				linkToken(t, onlyMessage(t, e), "/v1/requests/"+after.ID+"/download")
			},
		},
		{
			name: "access without package", typ: request.Access, status: request.InProgress, outcome: CloseCompleted,
			fails: true, kind: apperr.Conflict,
		},
		{
			name: "delete completed", typ: request.Delete, status: request.InProgress, outcome: CloseCompleted,
			check: func(t *testing.T, e *env, before, after request.Request) {
				if after.Status != request.Completed || !after.CompletedAt.Equal(e.clock.Now()) {
					t.Errorf("status %s completed at %v", after.Status, after.CompletedAt)
				}
				if after.Delivery.TokenHash != "" {
					t.Error("a delete request got a download token")
				}
				want, _ := notify.Erased(after.Language, subject, after.ID, notify.ErasureSummary{}, notify.Remedy{})
				if msg := onlyMessage(t, e); msg != want {
					t.Errorf("message = %q, want the erasure confirmation", msg.Subject)
				}
			},
		},
		{
			name: "opt-out completed", typ: request.OptOut, status: request.InProgress, outcome: CloseCompleted,
			check: func(t *testing.T, e *env, before, after request.Request) {
				if after.Status != request.Completed || !after.CompletedAt.Equal(e.clock.Now()) {
					t.Errorf("status %s completed at %v", after.Status, after.CompletedAt)
				}
				want, _ := notify.Recorded(i18n.English, subject, after.ID, "opt_out", false)
				if msg := onlyMessage(t, e); msg != want {
					t.Errorf("message = %q, want the choice confirmation", msg.Subject)
				}
			},
		},
		{
			name: "opt-out by GPC completed", typ: request.OptOut, status: request.InProgress, outcome: CloseCompleted,
			edit: func(r *request.Request) { r.Via = request.ViaGPC },
			check: func(t *testing.T, e *env, before, after request.Request) {
				want, _ := notify.Recorded(i18n.English, subject, after.ID, "opt_out", true)
				if msg := onlyMessage(t, e); msg != want {
					t.Errorf("message = %q, want the GPC confirmation", msg.Subject)
				}
			},
		},
		{
			name: "objection not recorded", typ: request.Object, status: request.Verified, outcome: CloseCompleted,
			fails: true, kind: apperr.Conflict,
		},
		{
			name: "expired", typ: request.Access, status: request.PendingVerification, outcome: CloseExpired,
			edit: func(r *request.Request) {
				r.Verification.TokenHash, r.Verification.TaskToken = secret.Hash("verify-token"), "task-token-1"
				r.Verification.CodeHash = secret.CodeHash(r.ID, "BCDF2345")
			},
			check: func(t *testing.T, e *env, before, after request.Request) {
				if after.Status != request.Expired {
					t.Errorf("status = %s, want %s", after.Status, request.Expired)
				}
				if after.Verification.TokenHash != "" || after.Verification.CodeHash != "" || after.Verification.TaskToken != "" {
					t.Error("verify token hash, code hash or task token kept")
				}
				remedy, err := e.steps.remedy(&after, statute.UnverifiedNotice)
				if err != nil || len(remedy.Elements) == 0 {
					t.Fatalf("remedy %+v, %v", remedy, err)
				}
				want, _ := notify.NeverVerified(after.Language, subject, after.ID, remedy)
				if msg := onlyMessage(t, e); msg != want {
					t.Errorf("message = %q, want the never-verified notice", msg.Subject)
				}
			},
		},
		{
			name: "failed", typ: request.Delete, status: request.InProgress, outcome: CloseFailed,
			check: func(t *testing.T, e *env, before, after request.Request) {
				if after.Status != request.Failed || !after.NeedsOperator {
					t.Errorf("status %s, needs operator %v", after.Status, after.NeedsOperator)
				}
				if len(e.mail.sent) != 0 {
					t.Errorf("%d messages sent on failure", len(e.mail.sent))
				}
				if ev := lastEvent(t, e.store, after.ID); ev.Action != "failed" || ev.Note != "needs_operator" {
					t.Errorf("event = %+v", ev)
				}
			},
		},
		{
			name: "failed after closing leaves the request as it is", typ: request.Access, status: request.Completed, outcome: CloseFailed,
			check: func(t *testing.T, e *env, before, after request.Request) {
				if after.Status != request.Completed || after.NeedsOperator || after.Version != before.Version {
					t.Errorf("status %s, needs operator %v, version %d -> %d", after.Status, after.NeedsOperator, before.Version, after.Version)
				}
				if len(e.mail.sent) != 0 {
					t.Errorf("%d messages sent on failure", len(e.mail.sent))
				}
			},
		},
		{
			name: "unknown outcome", typ: request.Access, status: request.InProgress, outcome: "done",
			fails: true, kind: apperr.Invalid,
		},
		{
			// Confirmed as the wait ran out: the portal undoes the
			// confirmation, and the step tries again (a transient error).
			name: "expired after verification", typ: request.Access, status: request.Verified, outcome: CloseExpired,
			fails: true, kind: apperr.Unavailable,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			before := e.seed(t, tt.typ, tt.status, tt.edit)
			e.clock.Advance(time.Hour)
			err := e.steps.CloseRequest(context.Background(), CloseTask{RequestID: before.ID, Outcome: tt.outcome})
			after := e.store.stored(before.ID)
			if tt.fails {
				wantKind(t, err, tt.kind)
				if !reflect.DeepEqual(after, before) {
					t.Errorf("request changed:\n got %+v\nwant %+v", after, before)
				}
				if len(e.mail.sent) != 0 {
					t.Errorf("%d messages sent", len(e.mail.sent))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, e, before, after)
		})
	}
}

func onlyMessage(t *testing.T, e *env) notify.Message {
	t.Helper()
	if len(e.mail.sent) != 1 {
		t.Fatalf("%d messages sent, want 1", len(e.mail.sent))
	}
	if e.mail.sent[0].To != subject {
		t.Fatalf("message to %q, want %q", e.mail.sent[0].To, subject)
	}
	return e.mail.sent[0]
}

// A retry of CloseRequest after the mail failed sends the mail.
func TestCloseRequestRetryAfterMailFailure(t *testing.T) {
	for _, typ := range []request.Type{request.Access, request.Delete, request.Limit} {
		t.Run(string(typ), func(t *testing.T) {
			e := newEnv(t)
			r := e.seed(t, typ, request.InProgress, func(r *request.Request) { r.Delivery.ExportKey = "packages/x.zip" })
			e.mail.failNext = 1
			in := CloseTask{RequestID: r.ID, Outcome: CloseCompleted}
			if err := e.steps.CloseRequest(context.Background(), in); err == nil {
				t.Fatal("first close did not report the mail failure")
			}
			if got := e.store.stored(r.ID); got.Status != request.Completed {
				t.Fatalf("status after first close = %s", got.Status)
			}
			if len(e.mail.sent) != 0 {
				t.Fatal("a message was recorded as sent")
			}
			if err := e.steps.CloseRequest(context.Background(), in); err != nil {
				t.Fatalf("second close: %v", err)
			}
			msg := onlyMessage(t, e)
			if typ == request.Access {
				tok := linkToken(t, msg, "/v1/requests/"+r.ID+"/download")
				if !secret.Matches(tok, e.store.stored(r.ID).Delivery.TokenHash) {
					t.Error("the token of the second mail does not match the stored hash")
				}
			}
		})
	}
}

// TestCloseRequestDeletesTheMail: the raw message of a request that came by
// email is kept while the request is open and deleted when it closes; a
// failed delete fails the step before the subject is told, so a retry does
// both.
func TestCloseRequestDeletesTheMail(t *testing.T) {
	const key = "inbound/6n4thuhcbhpfiuf25gshf70rss364fuejrvmqko1"
	tests := []struct {
		outcome CloseOutcome
		status  request.Status
		deleted bool
	}{
		{"completed", request.InProgress, true},
		{"expired", request.PendingVerification, true},
		{"denied", request.InProgress, true},
		{"failed", request.InProgress, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.outcome), func(t *testing.T) {
			e := newEnv(t)
			r := e.seed(t, request.Delete, tt.status, func(r *request.Request) {
				r.Mail.Key = key
				r.Denial.Reasons = []string{"legal hold"}
			})
			e.rawMail.fail = true
			in := CloseTask{RequestID: r.ID, Outcome: tt.outcome}
			err := e.steps.CloseRequest(context.Background(), in)
			if !tt.deleted {
				if err != nil || len(e.rawMail.deleted) != 0 {
					t.Fatalf("error %v, deleted %v", err, e.rawMail.deleted)
				}
				return
			}
			wantKind(t, err, apperr.Unavailable)
			if len(e.mail.sent) != 0 {
				t.Fatal("the subject was told before the mail was deleted")
			}
			e.rawMail.fail = false
			if err := e.steps.CloseRequest(context.Background(), in); err != nil {
				t.Fatal(err)
			}
			if len(e.rawMail.deleted) != 1 || e.rawMail.deleted[0] != key || len(e.mail.sent) != 1 {
				t.Fatalf("deleted %v, sent %d", e.rawMail.deleted, len(e.mail.sent))
			}
			if !slices.ContainsFunc(e.store.eventsOf(r.ID), func(ev request.Event) bool { return ev.Action == "mail_deleted" }) {
				t.Fatal("no audit event for the deletion")
			}
		})
	}
}

// TestCloseRequestForgetsThePermission: an agent's signed permission is
// deleted when its request closes (completed, expired, denied), not when it
// fails (an operator may redrive it); with a retention period it is left to
// the bucket's lifecycle from the close instead. The audit log says which,
// without the key. A failure fails the step before the subject is told, so
// a retry does both.
func TestCloseRequestForgetsThePermission(t *testing.T) {
	const key, pdf = "agents/dsr-x/permission", "application/pdf"
	tests := []struct {
		name      string
		typ       request.Type
		status    request.Status
		outcome   CloseOutcome
		retention int
		deleted   bool
		expired   bool
		note      string
	}{
		{"access completed", request.Access, request.InProgress, "completed", 0, true, false, ""},
		{"delete completed", request.Delete, request.InProgress, "completed", 0, true, false, ""},
		{"expired", request.Access, request.PendingVerification, "expired", 0, true, false, ""},
		{"denied", request.Access, request.InProgress, "denied", 0, true, false, ""},
		{"failed", request.Access, request.InProgress, "failed", 0, false, false, ""},
		{"completed, kept 30 days", request.Access, request.InProgress, "completed", 30, false, true, "after_days=30"},
		{"denied, kept 7 days", request.Access, request.InProgress, "denied", 7, false, true, "after_days=7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			e.steps.PermissionRetentionDays = tt.retention
			r := e.seed(t, tt.typ, tt.status, func(r *request.Request) {
				r.Agent.Email, r.Agent.PermissionKey, r.Agent.PermissionType = "agent@example.net", key, pdf
				r.Delivery.ExportKey = "packages/x.zip"
				r.Denial.Reasons = []string{"manifestly unfounded"}
			})
			in := CloseTask{RequestID: r.ID, Outcome: tt.outcome}
			if tt.deleted || tt.expired {
				e.permissions.fail = true
				wantKind(t, e.steps.CloseRequest(ctx, in), apperr.Unavailable)
				if len(e.mail.sent) != 0 {
					t.Fatal("the subject was told before the permission was dealt with")
				}
				e.permissions.fail = false
			}
			if err := e.steps.CloseRequest(ctx, in); err != nil {
				t.Fatal(err)
			}
			if got := len(e.permissions.deleted) == 1 && e.permissions.deleted[0] == key; got != tt.deleted {
				t.Errorf("deleted %v, want deleted %v", e.permissions.deleted, tt.deleted)
			}
			if got := len(e.permissions.expired) == 1 && e.permissions.expired[0] == key+" "+pdf; got != tt.expired {
				t.Errorf("left to expire %v, want %v", e.permissions.expired, tt.expired)
			}
			var events []request.Event
			for _, ev := range e.store.eventsOf(r.ID) {
				if strings.HasPrefix(ev.Action, "agent_permission") {
					events = append(events, ev)
				}
			}
			switch {
			case !tt.deleted && !tt.expired:
				if len(events) != 0 {
					t.Errorf("events %+v for a permission kept", events)
				}
			case len(events) != 1:
				t.Fatalf("events %+v, want one", events)
			case tt.deleted && (events[0].Action != "agent_permission_deleted" || events[0].Note != ""):
				t.Errorf("event %+v", events[0])
			case tt.expired && (events[0].Action != "agent_permission_expires" || events[0].Note != tt.note):
				t.Errorf("event %+v, want agent_permission_expires %s", events[0], tt.note)
			}
		})
	}
}

func TestTaskError(t *testing.T) {
	cause := errors.New("ddb: key a@example.com throttled")
	tests := []struct {
		name    string
		err     error
		want    error
		wantMsg string
	}{
		{"unavailable", apperr.Wrap(apperr.Unavailable, "Storage is unavailable.", cause), &TransientError{}, "Storage is unavailable."},
		{"rate limited", apperr.Wrap(apperr.RateLimited, "Slow down.", cause), &TransientError{}, "Slow down."},
		{"invalid", apperr.Wrap(apperr.Invalid, "Bad input.", cause), &InvalidTaskInput{}, "Bad input."},
		{"not found", apperr.Wrap(apperr.NotFound, "No such request.", cause), &RequestNotFound{}, "No such request."},
		{"conflict", apperr.Wrap(apperr.Conflict, "Wrong state.", cause), &StateConflict{}, "Wrong state."},
		{"internal", apperr.Wrap(apperr.Internal, "Broken.", cause), &InternalError{}, "Broken."},
		{"forbidden", apperr.Wrap(apperr.Forbidden, "No.", cause), &InternalError{}, "No."},
		{"wrapped further", fmt.Errorf("step: %w", apperr.Wrap(apperr.Conflict, "Wrong state.", cause)), &StateConflict{}, "Wrong state."},
		{"lost a race: retried", apperr.Wrap(apperr.Conflict, "The request was changed by someone else; try again.", request.ErrChanged), &TransientError{}, "The request was changed by someone else; try again."},
		{"plain error", cause, &InternalError{}, "Internal error."},
		{"on hold", apperr.Wrap(apperr.Conflict, "On hold.", request.ErrOnHold), &ErasureOnHold{}, "On hold."},
		{"not on hold", apperr.Wrap(apperr.Conflict, "Not on hold.", request.ErrNotOnHold), &NotOnHold{}, "Not on hold."},
		{"findings open", apperr.Wrap(apperr.Conflict, "Findings.", request.ErrFindingsOpen), &FindingsOpen{}, "Findings."},
		{"no open findings", apperr.Wrap(apperr.Conflict, "None.", request.ErrNoOpenFindings), &NoOpenFindings{}, "None."},
		{"nothing to appeal", apperr.Wrap(apperr.Conflict, "Nothing to appeal.", request.ErrNothingToAppeal), &NothingToAppeal{}, "Nothing to appeal."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TaskError(tt.err)
			if reflect.TypeOf(got) != reflect.TypeOf(tt.want) {
				t.Fatalf("TaskError = %T, want %T", got, tt.want)
			}
			// The state machines may match only declared names.
			if !slices.Contains(ErrorNames(), ErrorName(got)) {
				t.Errorf("%s is not among ErrorNames", ErrorName(got))
			}
			if got.Error() != tt.wantMsg {
				t.Errorf("message = %q, want %q", got.Error(), tt.wantMsg)
			}
			if strings.Contains(got.Error(), "throttled") || strings.Contains(got.Error(), "@") {
				t.Error("the message holds the cause's text")
			}
		})
	}
}

// TestStandardRetry: the standard Retry retries the transient task error
// and only declared names.
func TestStandardRetry(t *testing.T) {
	if len(StandardRetry) != 1 {
		t.Fatalf("%d retriers", len(StandardRetry))
	}
	names := StandardRetry[0].ErrorEquals
	if !slices.Contains(names, "TransientError") {
		t.Errorf("TransientError is not retried: %q", names)
	}
	for _, n := range names {
		if !slices.Contains(ErrorNames(), n) {
			t.Errorf("%s is not among ErrorNames", n)
		}
		if n == AnyError || n == ErrorName(&StateConflict{}) || n == ErrorName(&InvalidTaskInput{}) {
			t.Errorf("%s is retried: it is final", n)
		}
	}
}

func TestErrorCode(t *testing.T) {
	api := &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException", Message: "key a@example.com"}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"aws error wrapped in apperr", apperr.Wrap(apperr.Unavailable, "Storage is unavailable.", api), "ProvisionedThroughputExceededException"},
		{"bare aws error", fmt.Errorf("call: %w", api), "ProvisionedThroughputExceededException"},
		{"apperr without aws cause", apperr.E(apperr.NotFound, "No such request."), apperr.NotFound.String()},
		{"apperr with other cause", apperr.Wrap(apperr.Conflict, "Wrong state.", errors.New("a@example.com")), apperr.Conflict.String()},
		{"plain error", errors.New("a@example.com"), apperr.Internal.String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorCode(tt.err); got != tt.want {
				t.Errorf("ErrorCode = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestStartVerificationOfAnAgentsRequest: the link goes to the subject, not
// the agent, and names the agent whose authority the subject confirms.
func TestStartVerificationOfAnAgentsRequest(t *testing.T) {
	e := newEnv(t)
	r := e.seed(t, request.Access, request.Received, func(r *request.Request) { r.Agent.Email = "agent@firm.example" })
	if err := e.steps.StartVerification(context.Background(), VerificationTask{RequestID: r.ID, TaskToken: "task-token-1"}); err != nil {
		t.Fatal(err)
	}
	if len(e.mail.sent) != 1 {
		t.Fatalf("%d messages", len(e.mail.sent))
	}
	msg := e.mail.sent[0]
	if msg.To != subject || !strings.Contains(msg.Text, "on your behalf by agent@firm.example") || linkToken(t, msg, "/v1/requests/"+r.ID+"/verify") == "" {
		t.Fatalf("mail to %q:\n%s", msg.To, msg.Text)
	}
}

// TestStepsEndACancelledWorkflow: a step that comes after an operator's
// cancel does nothing and fails with RequestCancelled, which the state
// machine catches into its Succeed state; even the failure record ends
// there. A request joined to another (cancelled by its own workflow, which
// has ended) is not refused this way.
func TestStepsEndACancelledWorkflow(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.seed(t, request.Access, request.Cancelled, nil)
	steps := map[string]func() error{
		"resolve identities": func() error { _, err := e.steps.ResolveIdentities(ctx, RequestRef{RequestID: r.ID}); return err },
		"build package":      func() error { return e.steps.BuildPackage(ctx, RequestRef{RequestID: r.ID}) },
		"close":              func() error { return e.steps.CloseRequest(ctx, CloseTask{RequestID: r.ID, Outcome: "completed"}) },
		"record the failure": func() error { return e.steps.CloseRequest(ctx, CloseTask{RequestID: r.ID, Outcome: "failed"}) },
		"verification":       func() error { return e.steps.StartVerification(ctx, VerificationTask{RequestID: r.ID, TaskToken: "t"}) },
	}
	for name, step := range steps {
		var cancelled *RequestCancelled
		if err := step(); !errors.As(TaskError(err), &cancelled) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if got := e.store.stored(r.ID); got.Status != request.Cancelled || got.NeedsOperator || len(e.mail.sent) != 0 {
		t.Fatalf("after the steps: %s, needs operator %v, mail %d", got.Status, got.NeedsOperator, len(e.mail.sent))
	}
	joined := e.seed(t, request.Access, request.Cancelled, func(r *request.Request) { r.JoinedTo = "dsr-20250314-aaaaaaaaaaaaaaaa" })
	if _, err := e.steps.load(ctx, joined.ID); err != nil {
		t.Fatalf("a joined request: %v", err)
	}
}
