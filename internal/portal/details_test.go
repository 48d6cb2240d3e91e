package portal

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/statute"
)

// fakeAccounts holds accounts by email and records every lookup.
type fakeAccounts struct {
	kinds   []registry.Category
	byEmail map[string]map[string]string
	asked   []string
	err     error
}

func (a *fakeAccounts) Kinds() []registry.Category { return a.kinds }

func (a *fakeAccounts) DataPoints(_ context.Context, email string) (map[string]string, error) {
	a.asked = append(a.asked, "DataPoints")
	if a.err != nil {
		return nil, a.err
	}
	if held, ok := a.byEmail[email]; ok {
		return held, nil
	}
	return map[string]string{}, nil
}

var threeKinds = []registry.Category{{ID: "name", Label: "Full name"}, {ID: "phone", Label: "Phone number"}, {ID: "postal_code", Label: "Postal code"}}

var levels = func() *statute.VerificationRules {
	v, err := statute.LoadVerification(rules)
	if err != nil {
		panic(err)
	}
	return v
}()

func newAccountsEnv() (*env, *fakeAccounts) {
	e := newEnv()
	a := &fakeAccounts{kinds: threeKinds, byEmail: map[string]map[string]string{
		subject: {"name": "Ana Lima", "phone": "+1 (213) 555-0199", "postal_code": "90012"},
	}}
	e.portal.Accounts, e.portal.Levels = a, levels
	return e, a
}

// specificPieces is a US-CA access request waiting for confirmation: three
// details and the declaration.
func specificPieces(r *request.Request) {
	pending(r)
	r.Jurisdiction = "US-CA"
	r.Verification.Level = statute.Level{DataPoints: 3, Declaration: true, Cite: "CCPA Regs §7062(c)"}
}

func details(name, phone, postal, signature string) Details {
	return Details{DataPoints: map[string]string{"name": name, "phone": phone, "postal_code": postal}, Signature: signature}
}

func TestSubmitRecordsTheLevel(t *testing.T) {
	for _, tt := range []struct {
		jurisdiction, typ string
		want              statute.Level
	}{
		{"US-CA", "access", statute.Level{DataPoints: 3, Declaration: true}},
		{"US-CA", "delete", statute.Level{DataPoints: 2}},
		{"EU", "access", statute.Level{}},
	} {
		e, _ := newAccountsEnv()
		rc, err := e.portal.Submit(context.Background(), request.Submission{Type: tt.typ, Email: subject, Jurisdiction: tt.jurisdiction})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := e.store.stored(rc.ID)
		if got.Verification.Level.Cite == "" {
			t.Errorf("%s %s: no citation", tt.jurisdiction, tt.typ)
		}
		got.Verification.Level.Cite = ""
		if got.Verification.Level != tt.want {
			t.Errorf("%s %s: level %+v, want %+v", tt.jurisdiction, tt.typ, got.Verification.Level, tt.want)
		}
	}
}

func TestConfirmWithDetails(t *testing.T) {
	ctx := context.Background()
	e, accounts := newAccountsEnv()
	r := e.seed(request.PendingVerification, specificPieces)
	req, err := e.portal.CheckVerification(ctx, r.ID, verifyToken)
	if err != nil || req.DataPoints != 3 || !req.Declaration || !reflect.DeepEqual(req.Kinds, threeKinds) {
		t.Fatalf("requirement %+v, %v", req, err)
	}
	// Written differently from the account, as people do.
	d := details("  ana   LIMA ", "213 555 0199", "90012", "Ana Lima")
	if err := e.portal.ConfirmVerification(ctx, r.ID, verifyToken, d); err != nil {
		t.Fatal(err)
	}
	got, _ := e.store.stored(r.ID)
	if got.Status != request.Verified || got.Verification.DeclaredBy != "Ana Lima" || len(e.workflow.resumes) != 1 {
		t.Fatalf("status %s, declared by %q, resumes %v", got.Status, got.Verification.DeclaredBy, e.workflow.resumes)
	}
	evs := e.store.eventsOf(r.ID)
	if last := evs[len(evs)-1]; last.Note != "method=email_link data_points=3 declaration=signed" {
		t.Fatalf("audit note %q", last.Note)
	}
	if len(accounts.asked) != 1 {
		t.Fatalf("account asked %d times", len(accounts.asked))
	}
}

func TestConfirmWithDetailsRefused(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		email   string // the request's address
		token   string
		details Details
		// want: the error's field, "" for the no-such-link answer
		wantField string
		counted   bool
		asked     bool // whether the account was read
	}{
		{name: "no details", email: subject, token: verifyToken, details: Details{}, wantField: "details"},
		{name: "two details for three", email: subject, token: verifyToken, details: details("Ana Lima", "2135550199", "", "Ana Lima"), wantField: "details"},
		{name: "no signature", email: subject, token: verifyToken, details: details("Ana Lima", "2135550199", "90012", " "), wantField: "signature"},
		{name: "one detail wrong", email: subject, token: verifyToken, details: details("Ana Lima", "2135550199", "90013", "Ana Lima"), wantField: "details", counted: true, asked: true},
		{name: "all wrong", email: subject, token: verifyToken, details: details("Jane Doe", "4155550101", "94110", "Jane Doe"), wantField: "details", counted: true, asked: true},
		{name: "an address without an account", email: "no.account@example.org", token: verifyToken, details: details("Ana Lima", "2135550199", "90012", "Ana Lima"), wantField: "details", counted: true, asked: true},
		{name: "right details, wrong link", email: subject, token: "guessed", details: details("Ana Lima", "2135550199", "90012", "Ana Lima"), counted: true},
	}
	answers := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, accounts := newAccountsEnv()
			r := e.seed(request.PendingVerification, func(r *request.Request) { specificPieces(r); r.Email = tt.email })
			err := e.portal.ConfirmVerification(ctx, r.ID, tt.token, tt.details)
			if tt.wantField == "" {
				wantNoSuchLink(t, err)
			} else {
				var de *DetailsError
				if !errors.As(err, &de) || apperr.KindOf(err) != apperr.Invalid || de.Err.Fields[0].Field != tt.wantField || de.Requirement.DataPoints != 3 {
					t.Fatalf("error %v, want details asked again for %q", err, tt.wantField)
				}
				if tt.counted {
					answers[tt.name] = de.Err.Fields[0].Detail
				}
			}
			got, _ := e.store.stored(r.ID)
			if want := map[bool]int{true: 1}[tt.counted]; got.Verification.Failures != want || got.Status != request.PendingVerification {
				t.Fatalf("failures %d (want %d), status %s", got.Verification.Failures, want, got.Status)
			}
			if tt.counted && tt.wantField != "" {
				evs := e.store.eventsOf(r.ID)
				if last := evs[len(evs)-1]; last.Note != "method=email_link+data_points failures=1" {
					t.Fatalf("audit note %q", last.Note)
				}
			}
			if (len(accounts.asked) == 1) != tt.asked {
				t.Fatalf("account asked %d times", len(accounts.asked))
			}
			if len(e.workflow.resumes) != 0 {
				t.Fatal("resumed")
			}
			// The link still works with the right details, unless locked.
			if err := e.portal.ConfirmVerification(ctx, r.ID, verifyToken, details("Ana Lima", "2135550199", "90012", "Ana Lima")); tt.email == subject && err != nil {
				t.Fatalf("the subject's own attempt afterwards: %v", err)
			}
		})
	}
	// Wrong details, no account: the same answer, so it says nothing of which.
	if answers["one detail wrong"] != answers["all wrong"] || answers["all wrong"] != answers["an address without an account"] {
		t.Fatalf("answers differ: %q", answers)
	}
}

func TestDetailsCountTowardsTheLock(t *testing.T) {
	ctx := context.Background()
	e, _ := newAccountsEnv()
	r := e.seed(request.PendingVerification, func(r *request.Request) { specificPieces(r); r.Verification.Failures = request.MaxVerifyFailures - 1 })
	wantNoSuchLink(t, e.portal.ConfirmVerification(ctx, r.ID, verifyToken, details("Ana Lima", "2135550199", "00000", "Ana Lima")))
	if got, _ := e.store.stored(r.ID); !got.Verification.Locked || len(e.mailer.sent) != 1 {
		t.Fatalf("locked %v, mails %d", got.Verification.Locked, len(e.mailer.sent))
	}
}

func TestDetailsNeedAnOperator(t *testing.T) {
	e, accounts := newAccountsEnv()
	accounts.kinds = threeKinds[:2] // the account source holds fewer details than the law asks
	r := e.seed(request.PendingVerification, specificPieces)
	err := e.portal.ConfirmCode(context.Background(), r.ID, verifyCode, details("Ana Lima", "2135550199", "", "Ana Lima"))
	if err != ErrOperatorCheck {
		t.Fatalf("error %v", err)
	}
	got, _ := e.store.stored(r.ID)
	if !got.NeedsOperator || got.Status != request.PendingVerification || got.Verification.CodeHash != "" || got.Verification.TokenHash != "" || len(e.workflow.resumes) != 0 {
		t.Fatalf("needs operator %v, status %s, resumed %v", got.NeedsOperator, got.Status, e.workflow.resumes)
	}
}

func TestAccountsDown(t *testing.T) {
	e, accounts := newAccountsEnv()
	accounts.err = apperr.E(apperr.Unavailable, "The account source is unavailable.")
	r := e.seed(request.PendingVerification, specificPieces)
	err := e.portal.ConfirmVerification(context.Background(), r.ID, verifyToken, details("Ana Lima", "2135550199", "90012", "Ana Lima"))
	if apperr.KindOf(err) != apperr.Unavailable {
		t.Fatalf("error %v", err)
	}
	if got, _ := e.store.stored(r.ID); got.Verification.Failures != 0 || got.Status != request.PendingVerification {
		t.Fatal("a failure of ours was counted against the subject")
	}
}

// TestMatchCountSaysNotWhich: one matching detail counts one, whichever it
// is, and a missing account costs the same comparisons.
func TestMatchCountSaysNotWhich(t *testing.T) {
	held := map[string]string{"name": "Ana Lima", "phone": "2135550199", "postal_code": "90012"}
	tests := []struct {
		given map[string]string
		held  map[string]string
		want  int
	}{
		{map[string]string{"name": "ana lima"}, held, 1},
		{map[string]string{"phone": "+1 213-555-0199"}, held, 1},
		{map[string]string{"postal_code": "9 0 0 1 2"}, held, 1},
		{map[string]string{"name": "ana lima", "phone": "213 555 0199", "postal_code": "90012"}, held, 3},
		{map[string]string{"name": "", "phone": "", "postal_code": ""}, map[string]string{}, 0},
		{map[string]string{"name": "ana lima"}, map[string]string{}, 0},
		{map[string]string{"shoe": "42"}, held, 0},
	}
	for _, tt := range tests {
		if got := matchCount(threeKinds, tt.given, tt.held); got != tt.want {
			t.Errorf("matchCount(%v) = %d, want %d", tt.given, got, tt.want)
		}
	}
}

func TestNormalizeDataPoint(t *testing.T) {
	tests := []struct{ kind, in, want string }{
		{"name", "  Ana \t LIMA ", "ana lima"},
		{"phone", "+1 (213) 555-0199", "2135550199"},
		{"phone", "213.555.0199", "2135550199"},
		{"phone", "+44 20 7946 0958", "2079460958"},
		{"postal_code", "sw1a 1aa", "SW1A1AA"},
		{"postal_code", "90012-1234", "900121234"},
		{"street_address", "1 Main   St", "1 main st"},
		{"name", strings.Repeat("a", 500), strings.Repeat("a", maxDetailLength)},
		{"phone", "none", ""},
	}
	for _, tt := range tests {
		if got := normalizeDataPoint(tt.kind, tt.in); got != tt.want {
			t.Errorf("normalizeDataPoint(%s, %q) = %q, want %q", tt.kind, tt.in, got, tt.want)
		}
	}
}

// TestCheckVerificationNamesCorrections: the confirmation page of a
// correction learns which fields it changes (not their values).
func TestCheckVerificationNamesCorrections(t *testing.T) {
	e := newEnv()
	r := e.seed(request.PendingVerification, func(r *request.Request) {
		pending(r)
		r.Type = request.Correct
		r.Correction.Values = request.Corrections{"phone": "+44 20 7946 0000", "name": "Ada King"}
	})
	req, err := e.portal.CheckVerification(context.Background(), r.ID, verifyToken)
	if err != nil || !reflect.DeepEqual(req.Corrects, []string{"name", "phone"}) {
		t.Fatalf("requirement %+v, %v; want the fields name and phone", req, err)
	}
}
