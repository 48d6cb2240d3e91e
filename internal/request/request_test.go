package request

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
)

func submission(typ, email, jurisdiction string) Submission {
	return Submission{Type: typ, Email: email, Jurisdiction: jurisdiction}
}

func TestSubmissionValidate(t *testing.T) {
	tests := []struct {
		name       string
		in         Submission
		wantFields []string
		want       Submission
	}{
		{"access EU", Submission{Type: "access", Email: " Jane.Doe@Example.com ", Jurisdiction: "eu"}, nil, Submission{Type: "access", Email: "jane.doe@example.com", Jurisdiction: "EU", Language: "en"}},
		{"delete US-CA", Submission{Type: "delete", Email: "a@b.co", Jurisdiction: "US-CA", Language: "de-AT"}, nil, Submission{Type: "delete", Email: "a@b.co", Jurisdiction: "US-CA", Language: "de"}},
		{"all missing", Submission{}, []string{"type", "email", "jurisdiction"}, Submission{}},
		{"by an agent", Submission{Type: "access", Email: "a@b.co", AgentEmail: " Agent@Firm.example ", Jurisdiction: "US-CA"}, nil,
			Submission{Type: "access", Email: "a@b.co", AgentEmail: "agent@firm.example", Jurisdiction: "US-CA", Language: "en"}},
		{"agent address not an address", Submission{Type: "access", Email: "a@b.co", AgentEmail: "firm", Jurisdiction: "US-CA"}, []string{"agent_email"}, Submission{}},
		{"agent address is the subject's", Submission{Type: "access", Email: "a@b.co", AgentEmail: "A@b.co", Jurisdiction: "US-CA"}, []string{"agent_email"}, Submission{}},
		{"unknown type", Submission{Type: "sell", Email: "a@b.co", Jurisdiction: "EU"}, []string{"type"}, Submission{}},
		{"display name", Submission{Type: "access", Email: "Jane <a@b.co>", Jurisdiction: "EU"}, []string{"email"}, Submission{}},
		{"no domain dot", Submission{Type: "access", Email: "a@localhost", Jurisdiction: "EU"}, []string{"email"}, Submission{}},
		{"not an address", Submission{Type: "access", Email: "jane", Jurisdiction: "EU"}, []string{"email"}, Submission{}},
		{"too long", Submission{Type: "access", Email: string(make([]byte, 300)) + "@b.co", Jurisdiction: "EU"}, []string{"email"}, Submission{}},
		{"unknown language", Submission{Type: "access", Email: "a@b.co", Jurisdiction: "EU", Language: "fr"}, []string{"language"}, Submission{}},
		{"unknown jurisdiction", Submission{Type: "access", Email: "a@b.co", Jurisdiction: "XX"}, []string{"jurisdiction"}, Submission{}},
		{"opt-out with GPC kept", Submission{Type: "opt_out", Email: "a@b.co", Jurisdiction: "us-ca", GPC: true}, nil, Submission{Type: "opt_out", Email: "a@b.co", Jurisdiction: "US-CA", GPC: true, Language: "en"}},
		{"limit", Submission{Type: "limit", Email: "a@b.co", Jurisdiction: "US-CA"}, nil, Submission{Type: "limit", Email: "a@b.co", Jurisdiction: "US-CA", Language: "en"}},
		{"restrict", Submission{Type: "restrict", Email: "a@b.co", Jurisdiction: "EU"}, nil, Submission{Type: "restrict", Email: "a@b.co", Jurisdiction: "EU", Language: "en"}},
		{"object", Submission{Type: "object", Email: "a@b.co", Jurisdiction: "UK"}, nil, Submission{Type: "object", Email: "a@b.co", Jurisdiction: "UK", Language: "en"}},
		{"dry-run delete", Submission{Type: "delete", Email: "a@b.co", Jurisdiction: "EU", DryRun: true}, nil, Submission{Type: "delete", Email: "a@b.co", Jurisdiction: "EU", Language: "en", DryRun: true}},
		{"dry-run access", Submission{Type: "access", Email: "a@b.co", Jurisdiction: "EU", DryRun: true}, []string{"dry_run"}, Submission{}},
		{"appeal", Submission{Type: "appeal", Email: "a@b.co", Jurisdiction: "US-VA", AppealOf: " dsr-20260131-0123456789abcdef "}, nil,
			Submission{Type: "appeal", Email: "a@b.co", Jurisdiction: "US-VA", Language: "en", AppealOf: "dsr-20260131-0123456789abcdef"}},
		{"appeal naming nothing", Submission{Type: "appeal", Email: "a@b.co", Jurisdiction: "US-VA"}, []string{"appeal_of"}, Submission{}},
		{"appeal naming no id of ours", Submission{Type: "appeal", Email: "a@b.co", Jurisdiction: "US-VA", AppealOf: "order 1234"}, []string{"appeal_of"}, Submission{}},
		{"access naming a decision", Submission{Type: "access", Email: "a@b.co", Jurisdiction: "EU", AppealOf: "dsr-20260131-0123456789abcdef"}, []string{"appeal_of"}, Submission{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.Validate()
			if len(tt.wantFields) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if got != tt.want {
					t.Fatalf("got %+v, want %+v", got, tt.want)
				}
				return
			}
			e, ok := err.(*apperr.Error)
			if !ok || e.Kind != apperr.Invalid {
				t.Fatalf("want Invalid error, got %v", err)
			}
			var names []string
			for _, f := range e.Fields {
				names = append(names, f.Field)
			}
			if len(names) != len(tt.wantFields) {
				t.Fatalf("fields %v, want %v", names, tt.wantFields)
			}
			for i := range names {
				if names[i] != tt.wantFields[i] {
					t.Fatalf("fields %v, want %v", names, tt.wantFields)
				}
			}
		})
	}
}

func TestNormalEmail(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{" Jane.Doe@Example.com ", "jane.doe@example.com", true},
		{"jane", "jane", false},
		{"Jane <a@b.co>", "jane <a@b.co>", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := NormalEmail(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("NormalEmail(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCanMove(t *testing.T) {
	tests := []struct {
		from, to Status
		want     bool
	}{
		{Received, PendingVerification, true},
		{PendingVerification, Verified, true},
		{PendingVerification, Expired, true},
		{Verified, InProgress, true},
		{InProgress, Completed, true},
		{Completed, InProgress, false},
		{Expired, Verified, false},
		{Received, Completed, false},
	}
	for _, tt := range tests {
		if got := CanMove(tt.from, tt.to); got != tt.want {
			t.Errorf("CanMove(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
}

// TestMove: a change the transitions allow sets the status and the time
// and returns its audit event; one they forbid changes nothing; staying in
// the same status records the action.
func TestMove(t *testing.T) {
	before := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	at := before.Add(time.Hour)
	tests := []struct {
		name     string
		from, to Status
		want     *Event // nil: refused
	}{
		{"allowed", PendingVerification, Verified, &Event{At: at, Actor: "subject", Action: "act", From: PendingVerification, To: Verified, Note: "n=1"}},
		{"redrive", Failed, InProgress, &Event{At: at, Actor: "subject", Action: "act", From: Failed, To: InProgress, Note: "n=1"}},
		{"same status", Completed, Completed, &Event{At: at, Actor: "subject", Action: "act", From: Completed, To: Completed, Note: "n=1"}},
		{"out of a closed status", Completed, InProgress, nil},
		{"skipping verification", Received, Verified, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Request{Status: tt.from, UpdatedAt: before}
			ev, err := r.Move(tt.to, at, "subject", "act", "n=1")
			if tt.want == nil {
				if apperr.KindOf(err) != apperr.Conflict || r.Status != tt.from || !r.UpdatedAt.Equal(before) {
					t.Fatalf("err %v, status %s, updated %v: want a conflict and no change", err, r.Status, r.UpdatedAt)
				}
				return
			}
			if err != nil || ev != *tt.want || r.Status != tt.to || !r.UpdatedAt.Equal(at) {
				t.Fatalf("event %+v, err %v, status %s, updated %v", ev, err, r.Status, r.UpdatedAt)
			}
		})
	}
}

// TestNewFollowUp: the request a granted appeal makes is verified from the
// start, follows the appeal, takes the id derived from it, and its making
// is recorded.
func TestNewFollowUp(t *testing.T) {
	received := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	now := received.AddDate(0, 0, 20)
	appeal := &Request{ID: "dsr-20261123-0123456789abcdef", ReceivedAt: received}
	r, ev := NewFollowUp(Submission{Type: string(Delete), Email: "a@example.com", Jurisdiction: "US-VA"}, appeal, now)
	if r.ID != FollowUpID(appeal.ID, received) || r.Status != Verified || r.Appeal.FollowsAppeal != appeal.ID || !r.ReceivedAt.Equal(now) || r.Type != Delete {
		t.Fatalf("follow-up %s: status %s, follows %q, received %v, type %s", r.ID, r.Status, r.Appeal.FollowsAppeal, r.ReceivedAt, r.Type)
	}
	if ev.Action != "received" || ev.To != Verified || ev.From != "" || !ev.At.Equal(now) || !strings.Contains(ev.Note, "follows_appeal="+appeal.ID) {
		t.Fatalf("event %+v", ev)
	}
}

func TestNewIDShapeAndValidID(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	id := NewID(now)
	if !ValidID(id) {
		t.Fatalf("NewID() = %q is not a ValidID", id)
	}
	if id == NewID(now) {
		t.Fatal("two ids are equal")
	}
	for _, bad := range []string{"", "dsr-", "../etc/passwd", "dsr-2026112x-0123456789abcdef", "dsr-20261123-0123456789abcdeI", id + "x"} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

func TestSubmissionFromMail(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{"inbound/6n4thuhcbhpfiuf25gshf70rss364fuejrvmqko1", true},
		{"inbound/../requests/x", false},
		{"6n4thuhcbhpfiuf25gshf70rss364fuejrvmqko1", false},
		{"", false},
	}
	for _, tt := range tests {
		in := submission("access", "a@b.co", "EU")
		in.Mail = &MailOrigin{Key: tt.key, Verdicts: "dmarc=FAIL"}
		got, err := in.Validate()
		if (err == nil) != tt.want {
			t.Fatalf("key %q: %v", tt.key, err)
		}
		if err != nil {
			continue
		}
		if got.Mail == in.Mail || *got.Mail != *in.Mail {
			t.Fatalf("the mail origin is not copied: %+v", got.Mail)
		}
		r := New(got, time.Now())
		if r.Mail.Key != tt.key || !r.Mail.UnauthenticatedSender || !r.NeedsVerification() {
			t.Fatalf("request mail key %q, unauthenticated sender %v, needs verification %v", r.Mail.Key, r.Mail.UnauthenticatedSender, r.NeedsVerification())
		}
	}
}

func TestMailRequestID(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	arrived := time.Date(2026, 11, 22, 23, 0, 0, 0, time.FixedZone("", -2*3600)) // 23 November in UTC
	a := MailRequestID("inbound/abc", 0, arrived, now)
	if !ValidID(a) || !strings.HasPrefix(a, "dsr-20261123-") {
		t.Fatalf("id %s: not a valid id dated by the mail's arrival in UTC", a)
	}
	if MailRequestID("inbound/abc", 0, arrived, now.Add(48*time.Hour)) != a {
		t.Error("the same mail gave another id later")
	}
	if MailRequestID("inbound/abd", 0, arrived, now) == a {
		t.Error("two mails gave one id")
	}
	if got := MailRequestID("inbound/abc", 0, time.Time{}, now); !strings.HasPrefix(got, "dsr-20261123-") || !ValidID(got) {
		t.Errorf("without an arrival time: %s, want one dated now", got)
	}
	second := MailRequestID("inbound/abc", 1, arrived, now)
	if second == a || !ValidID(second) || MailRequestID("inbound/abc", 1, arrived, now.Add(time.Hour)) != second {
		t.Errorf("the second request of a mail: %s, want an id of its own, the same every time", second)
	}
}

// TestNewFromAMailOfTwoRequests: each request of a mail knows the others,
// by the ids they are stored under.
func TestNewFromAMailOfTwoRequests(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	in := Submission{Type: "access", Email: "a@example.com", Jurisdiction: "EU", Language: "en",
		Mail: &MailOrigin{Key: "inbound/abc", ReceivedAt: now, Part: 0, Parts: 2}}
	first := New(in, now)
	m := *in.Mail
	m.Part = 1
	in.Type, in.Mail = "delete", &m
	second := New(in, now)
	if first.ID == second.ID || !slices.Equal(first.Mail.Siblings, []string{second.ID}) || !slices.Equal(second.Mail.Siblings, []string{first.ID}) {
		t.Fatalf("%s knows %v, %s knows %v", first.ID, first.Mail.Siblings, second.ID, second.Mail.Siblings)
	}
	for _, bad := range []MailOrigin{{Key: "inbound/abc", Part: 2, Parts: 2}, {Key: "inbound/abc", Part: -1}, {Key: "inbound/abc", Parts: MaxMailParts + 1}} {
		in.Mail = &bad
		if _, err := in.Validate(); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("part %d of %d: %v, want invalid", bad.Part, bad.Parts, err)
		}
	}
}
