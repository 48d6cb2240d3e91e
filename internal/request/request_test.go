package request

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
)

func intake(typ, email, jurisdiction string) Intake {
	return Intake{Type: typ, Email: email, Jurisdiction: jurisdiction}
}

func TestIntakeValidate(t *testing.T) {
	tests := []struct {
		name       string
		in         Intake
		wantFields []string
		want       Intake
	}{
		{"access EU", Intake{Type: "access", Email: " Jane.Doe@Example.com ", Jurisdiction: "eu"}, nil, Intake{Type: "access", Email: "jane.doe@example.com", Jurisdiction: "EU", Language: "en"}},
		{"delete US-CA", Intake{Type: "delete", Email: "a@b.co", Jurisdiction: "US-CA", Language: "de-AT"}, nil, Intake{Type: "delete", Email: "a@b.co", Jurisdiction: "US-CA", Language: "de"}},
		{"all missing", Intake{}, []string{"type", "email", "jurisdiction"}, Intake{}},
		{"by an agent", Intake{Type: "access", Email: "a@b.co", AgentEmail: " Agent@Firm.example ", Jurisdiction: "US-CA"}, nil,
			Intake{Type: "access", Email: "a@b.co", AgentEmail: "agent@firm.example", Jurisdiction: "US-CA", Language: "en"}},
		{"agent address not an address", Intake{Type: "access", Email: "a@b.co", AgentEmail: "firm", Jurisdiction: "US-CA"}, []string{"agent_email"}, Intake{}},
		{"agent address is the subject's", Intake{Type: "access", Email: "a@b.co", AgentEmail: "A@b.co", Jurisdiction: "US-CA"}, []string{"agent_email"}, Intake{}},
		{"unknown type", Intake{Type: "sell", Email: "a@b.co", Jurisdiction: "EU"}, []string{"type"}, Intake{}},
		{"display name", Intake{Type: "access", Email: "Jane <a@b.co>", Jurisdiction: "EU"}, []string{"email"}, Intake{}},
		{"no domain dot", Intake{Type: "access", Email: "a@localhost", Jurisdiction: "EU"}, []string{"email"}, Intake{}},
		{"not an address", Intake{Type: "access", Email: "jane", Jurisdiction: "EU"}, []string{"email"}, Intake{}},
		{"too long", Intake{Type: "access", Email: string(make([]byte, 300)) + "@b.co", Jurisdiction: "EU"}, []string{"email"}, Intake{}},
		{"unknown language", Intake{Type: "access", Email: "a@b.co", Jurisdiction: "EU", Language: "fr"}, []string{"language"}, Intake{}},
		{"unknown jurisdiction", Intake{Type: "access", Email: "a@b.co", Jurisdiction: "XX"}, []string{"jurisdiction"}, Intake{}},
		{"opt-out with GPC kept", Intake{Type: "opt_out", Email: "a@b.co", Jurisdiction: "us-ca", GPC: true}, nil, Intake{Type: "opt_out", Email: "a@b.co", Jurisdiction: "US-CA", GPC: true, Language: "en"}},
		{"limit", Intake{Type: "limit", Email: "a@b.co", Jurisdiction: "US-CA"}, nil, Intake{Type: "limit", Email: "a@b.co", Jurisdiction: "US-CA", Language: "en"}},
		{"restrict", Intake{Type: "restrict", Email: "a@b.co", Jurisdiction: "EU"}, nil, Intake{Type: "restrict", Email: "a@b.co", Jurisdiction: "EU", Language: "en"}},
		{"object", Intake{Type: "object", Email: "a@b.co", Jurisdiction: "UK"}, nil, Intake{Type: "object", Email: "a@b.co", Jurisdiction: "UK", Language: "en"}},
		{"dry-run delete", Intake{Type: "delete", Email: "a@b.co", Jurisdiction: "EU", DryRun: true}, nil, Intake{Type: "delete", Email: "a@b.co", Jurisdiction: "EU", Language: "en", DryRun: true}},
		{"dry-run access", Intake{Type: "access", Email: "a@b.co", Jurisdiction: "EU", DryRun: true}, []string{"dry_run"}, Intake{}},
		{"appeal", Intake{Type: "appeal", Email: "a@b.co", Jurisdiction: "US-VA", AppealOf: " dsr-20260131-0123456789abcdef "}, nil,
			Intake{Type: "appeal", Email: "a@b.co", Jurisdiction: "US-VA", Language: "en", AppealOf: "dsr-20260131-0123456789abcdef"}},
		{"appeal naming nothing", Intake{Type: "appeal", Email: "a@b.co", Jurisdiction: "US-VA"}, []string{"appeal_of"}, Intake{}},
		{"appeal naming no id of ours", Intake{Type: "appeal", Email: "a@b.co", Jurisdiction: "US-VA", AppealOf: "order 1234"}, []string{"appeal_of"}, Intake{}},
		{"access naming a decision", Intake{Type: "access", Email: "a@b.co", Jurisdiction: "EU", AppealOf: "dsr-20260131-0123456789abcdef"}, []string{"appeal_of"}, Intake{}},
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

func TestIntakeFromMail(t *testing.T) {
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
		in := intake("access", "a@b.co", "EU")
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
		if r.MailKey != tt.key || !r.UnauthenticatedSender || !r.NeedsVerification() {
			t.Fatalf("request mail key %q, unauthenticated sender %v, needs verification %v", r.MailKey, r.UnauthenticatedSender, r.NeedsVerification())
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
	in := Intake{Type: "access", Email: "a@example.com", Jurisdiction: "EU", Language: "en",
		Mail: &MailOrigin{Key: "inbound/abc", ReceivedAt: now, Part: 0, Parts: 2}}
	first := New(in, now)
	m := *in.Mail
	m.Part = 1
	in.Type, in.Mail = "delete", &m
	second := New(in, now)
	if first.ID == second.ID || !slices.Equal(first.MailSiblings, []string{second.ID}) || !slices.Equal(second.MailSiblings, []string{first.ID}) {
		t.Fatalf("%s knows %v, %s knows %v", first.ID, first.MailSiblings, second.ID, second.MailSiblings)
	}
	for _, bad := range []MailOrigin{{Key: "inbound/abc", Part: 2, Parts: 2}, {Key: "inbound/abc", Part: -1}, {Key: "inbound/abc", Parts: MaxMailParts + 1}} {
		in.Mail = &bad
		if _, err := in.Validate(); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("part %d of %d: %v, want invalid", bad.Part, bad.Parts, err)
		}
	}
}
