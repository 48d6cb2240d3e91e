package inbound

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/mailparse"
	"github.com/privacy-pipeline/dsr/internal/request"
)

var (
	now    = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	allOK  = Verdicts{SPF: Pass, DKIM: Pass, DMARC: Pass, Spam: Pass, Virus: Pass}
	mailID = "6n4thuhcbhpfiuf25gshf70rss364fuejrvmqko1"
	key    = "inbound/" + mailID
)

func rawMail(headers, body string) string {
	return strings.ReplaceAll("From: Jane Roe <Jane.Roe@example.com>\n"+headers+"\n\n"+body+"\n", "\n", "\r\n")
}

// twoFromHeaders is a clear request in a mail with two authors: whoever
// wrote the second header hopes the first is read, and the request made for
// an address that did not ask.
var twoFromHeaders = strings.ReplaceAll(`Return-Path: <mallory@example.net>
From: Jane Roe <jane.roe@example.com>
From: Mallory <mallory@example.net>
To: privacy@example.org
Subject: Subject access request
Date: Mon, 23 Nov 2026 09:58:12 +0100
Message-ID: <two-from@example.net>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Under Article 15 of the GDPR please send me a copy of all personal data you=
 hold about me.
--b1
Content-Type: text/html; charset=utf-8

<p>Under Article 15 of the GDPR please send me a copy of all personal data you hold about me.</p>
--b1--
`, "\n", "\r\n")

const accessBody = "Under Article 15 of the GDPR please send me a copy of all personal data you hold about me."

type fixture struct {
	raw    *fakeRaw
	queue  *fakeQueue
	portal *fakePortal
	audit  *fakeAudit
	p      *Processor
}

func newFixture(raw string) *fixture {
	f := &fixture{raw: newFakeRaw(), queue: &fakeQueue{}, portal: &fakePortal{}, audit: &fakeAudit{}}
	f.raw.objects[key] = raw
	f.p = &Processor{Raw: f.raw, Queue: f.queue, Portal: f.portal, Audit: f.audit, Clock: clock.NewFake(now),
		Jurisdiction: "EU", OwnAddresses: []string{"privacy@example.org"}, Limits: mailparse.DefaultLimits,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return f
}

func TestProcess(t *testing.T) {
	tests := []struct {
		name     string
		raw      string
		verdicts Verdicts
		refuse   error
		// want: the disposition, and the reason of an inbox item or the
		// type of a request.
		disposition string
		reason      string
		typ         string
		lang        string // of a request: every later mail is written in it
	}{
		{"an English access request", rawMail("Subject: Subject access request", accessBody), allOK, nil, ForRequest, "", "access", "en"},
		{"a German deletion", rawMail("Subject: =?utf-8?q?L=C3=B6schung_meiner_Daten?=", "Bitte löschen Sie alle meine Daten."), allOK, nil, ForRequest, "", "delete", "de"},
		{"DMARC failed: still a request, verified by the link", rawMail("Subject: Delete my data", "Please delete my account."),
			Verdicts{SPF: Fail, DKIM: Fail, DMARC: Fail, Spam: Pass, Virus: Pass}, nil, ForRequest, "", "delete", "en"},
		{"spam is quarantined", rawMail("Subject: Delete my data", "Please delete my account."),
			Verdicts{SPF: Pass, DKIM: Pass, DMARC: Pass, Spam: Fail, Virus: Pass}, nil, Quarantined, ReasonSpam, "", ""},
		{"a virus is quarantined", rawMail("Subject: Delete my data", "Please delete my account."),
			Verdicts{SPF: Pass, DKIM: Pass, DMARC: Pass, Spam: Pass, Virus: Fail}, nil, Quarantined, ReasonVirus, "", ""},
		{"nothing the rules know", rawMail("Subject: Where is my order?", "It has not arrived."), allOK, nil, ForOperator, ReasonUnclassified, "", ""},
		{"one request or another", rawMail("Subject: My data", "Please either correct or delete my account, as you like."), allOK, nil, ForOperator, ReasonAmbiguous, "", ""},
		{"a right the rules know no type for", rawMail("Subject: Loan decision", "Under Article 22 GDPR I request human intervention in your automated decision."), allOK, nil, ForOperator, ReasonNotSupported, "", ""},
		{"an auto-reply is never answered", rawMail("Subject: Out of office\nAuto-Submitted: auto-replied", "I am away; delete my mail later."), allOK, nil, ForOperator, ReasonAutomatic, "", ""},
		{"two addresses in From", strings.Replace(rawMail("Subject: Delete my data", "Please delete my account."), "From: Jane Roe <Jane.Roe@example.com>", "From: a@example.com, b@example.com", 1),
			allOK, nil, ForOperator, ReasonSeveralSenders, "", ""},
		{"two From headers", twoFromHeaders, allOK, nil, ForOperator, ReasonSeveralSenders, "", ""},
		{"no sender", strings.Replace(rawMail("Subject: Delete my data", "Please delete my account."), "From: Jane Roe <Jane.Roe@example.com>\r\n", "", 1),
			allOK, nil, ForOperator, ReasonNoSender, "", ""},
		{"mail from the pipeline itself", strings.Replace(rawMail("Subject: Delete my data", "Please delete my account."), "Jane.Roe@example.com", "privacy@example.org", 1),
			allOK, nil, ForOperator, ReasonAutomatic, "", ""},
		{"unreadable MIME", rawMail("Subject: x\nContent-Type: multipart/mixed", "no boundary"), allOK, nil, ForOperator, ReasonUnreadable, "", ""},
		{"an appeal quoting no reference", rawMail("Subject: Your decision", "I appeal your decision on my earlier request."), allOK, nil, ForOperator, ReasonNoReference, "", ""},
		{"an appeal quoting two references", rawMail("Subject: Re: dsr-20261101-0123456789abcdef", "I appeal your decision on dsr-20261102-0123456789abcdef."), allOK, nil, ForOperator, ReasonNoReference, "", ""},
		{"an appeal replying to the decision", rawMail("Subject: Re: Your privacy request DSR-20261101-0123456789abcdef was refused", "I appeal the decision.\n\n> quote the reference dsr-20261101-0123456789abcdef"), allOK, nil, ForRequest, "", "appeal", "en"},
		{"a CCPA opt-out", rawMail("Subject: Do not sell my personal information", "I opt out of the sale of my data."), allOK, nil, ForRequest, "", "opt_out", "en"},
		{"too many requests for the address", rawMail("Subject: Delete my data", "Please delete my account."), allOK,
			apperr.E(apperr.RateLimited, "Too many requests."), ForOperator, ReasonRateLimited, "", ""},
		{"an address the portal refuses", strings.Replace(rawMail("Subject: Delete my data", "Please delete my account."), "Jane.Roe@example.com", "jane@localhost", 1),
			allOK, nil, ForOperator, ReasonRefused, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(tt.raw)
			f.portal.refuse = tt.refuse
			out, err := f.p.Process(context.Background(), Mail{ID: mailID, Key: key, ReceivedAt: now, Verdicts: tt.verdicts})
			if err != nil {
				t.Fatal(err)
			}
			if out.Disposition != tt.disposition || out.Reason != tt.reason {
				t.Fatalf("outcome %+v, want %s %s", out, tt.disposition, tt.reason)
			}
			if got := f.raw.tags[key]; got != tt.disposition {
				t.Errorf("raw message tagged %q, want %q", got, tt.disposition)
			}
			if tt.disposition == ForRequest {
				if len(f.portal.got) != 1 || len(f.queue.items) != 0 {
					t.Fatalf("requests %+v, inbox %+v", f.portal.got, f.queue.items)
				}
				in := f.portal.got[0]
				if in.Type != tt.typ || in.Email != "jane.roe@example.com" || in.Jurisdiction != "EU" || in.Mail == nil || in.Mail.Key != key || in.Language != tt.lang {
					t.Fatalf("submission %+v", in)
				}
				if in.Mail.Verdicts != tt.verdicts.String() || in.Mail.SenderAuthenticated != (tt.verdicts.DMARC == Pass) {
					t.Errorf("verdicts %q (sender authenticated %v), want %q", in.Mail.Verdicts, in.Mail.SenderAuthenticated, tt.verdicts.String())
				}
				if got := f.audit.actions(AuditID(mailID)); !strings.HasPrefix(got, "system made_request request_id=dsr-") {
					t.Errorf("audit %q", got)
				}
				return
			}
			if len(f.portal.got) != 0 || len(f.queue.items) != 1 {
				t.Fatalf("requests %+v, inbox %+v", f.portal.got, f.queue.items)
			}
			it := f.queue.items[0]
			if it.ID != mailID || it.Key != key || it.Reason != tt.reason || it.Quarantined != (tt.disposition == Quarantined) || !it.ReceivedAt.Equal(now) {
				t.Fatalf("item %+v", it)
			}
			if got := f.audit.actions(AuditID(mailID)); !strings.HasPrefix(got, "system queued reason="+tt.reason) {
				t.Errorf("audit %q", got)
			}
		})
	}
}

// TestProcessTwoRequests: a mail that asks for a copy and then an erasure
// makes both, in that order, as parts of one mail; a mail one of whose
// requests the law does not give makes none and waits for an operator.
func TestProcessTwoRequests(t *testing.T) {
	raw := rawMail("Subject: Closing my account", "Please send me a copy of all my personal data. After that, delete my account.")
	f := newFixture(raw)
	out, err := f.p.Process(context.Background(), Mail{ID: mailID, Key: key, ReceivedAt: now, Verdicts: allOK})
	if err != nil {
		t.Fatal(err)
	}
	if out.Disposition != ForRequest || len(out.RequestIDs) != 2 || out.RequestID != out.RequestIDs[0] || len(f.portal.got) != 2 {
		t.Fatalf("outcome %+v, intakes %+v", out, f.portal.got)
	}
	for part, want := range []request.Type{request.Access, request.Delete} {
		in := f.portal.got[part]
		if in.Type != string(want) || in.Mail.Part != part || in.Mail.Parts != 2 || in.Mail.Key != key || in.Email != "jane.roe@example.com" {
			t.Errorf("part %d: %s, mail part %d of %d", part, in.Type, in.Mail.Part, in.Mail.Parts)
		}
	}
	if got := f.audit.actions(AuditID(mailID)); !strings.HasPrefix(got, "system made_request request_id="+out.RequestIDs[0]+","+out.RequestIDs[1]+" ") {
		t.Errorf("audit %q", got)
	}

	f = newFixture(raw)
	f.portal.offered = []request.Type{request.Access}
	out, err = f.p.Process(context.Background(), Mail{ID: mailID, Key: key, ReceivedAt: now, Verdicts: allOK})
	if err != nil || out.Reason != ReasonNotSupported || len(f.portal.got) != 0 || f.queue.items[0].Guess != string(request.Delete) {
		t.Fatalf("outcome %+v, %v; intakes %+v, inbox %+v", out, err, f.portal.got, f.queue.items)
	}
}

// TestProcessCorrections: the new values a correction letter gives plainly
// go into the request, those the registry lets a subject correct only.
func TestProcessCorrections(t *testing.T) {
	f := newFixture(rawMail("Subject: Wrong details", "Please correct my records. My new postcode is SW1A 2AA. My new phone number is +44 20 7946 0000."))
	f.portal.correctable = []string{"name", "postal_code"}
	if _, err := f.p.Process(context.Background(), Mail{ID: mailID, Key: key, ReceivedAt: now, Verdicts: allOK}); err != nil {
		t.Fatal(err)
	}
	if len(f.portal.got) != 1 || f.portal.got[0].Corrections == nil {
		t.Fatalf("intakes %+v", f.portal.got)
	}
	if c := *f.portal.got[0].Corrections; len(c) != 1 || c["postal_code"] != "SW1A 2AA" {
		t.Fatalf("corrections of %v", c.Fields())
	}
}

// TestProcessWritesOnlyToFrom: Reply-To is anyone's to write; the request
// and all its mail are for the author in From.
func TestProcessWritesOnlyToFrom(t *testing.T) {
	f := newFixture(rawMail("Reply-To: attacker@example.net\nSubject: Subject access request", accessBody))
	if _, err := f.p.Process(context.Background(), Mail{ID: mailID, Key: key, Verdicts: allOK}); err != nil {
		t.Fatal(err)
	}
	if len(f.portal.got) != 1 || f.portal.got[0].Email != "jane.roe@example.com" {
		t.Fatalf("submission %+v", f.portal.got)
	}
}

func TestProcessFailures(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fixture)
		id    string
		want  apperr.Kind
	}{
		{"portal unavailable", func(f *fixture) { f.portal.refuse = apperr.E(apperr.Unavailable, "down") }, mailID, apperr.Unavailable},
		{"inbox unavailable", func(f *fixture) {
			f.raw.objects[key] = rawMail("Subject: hello", "nothing to see")
			f.queue.failPut = true
		}, mailID, apperr.Unavailable},
		{"a message id that is no id", func(*fixture) {}, "../../etc", apperr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(rawMail("Subject: Subject access request", accessBody))
			tt.setup(f)
			_, err := f.p.Process(context.Background(), Mail{ID: tt.id, Key: key, Verdicts: allOK})
			if !apperr.Is(err, tt.want) {
				t.Fatalf("error %v, want %s", err, tt.want)
			}
			if f.raw.tags[key] != "" {
				t.Fatalf("a failed mail was labelled %q: it would never be tried again", f.raw.tags[key])
			}
		})
	}
}

// TestProcessMailGone: an event delivered again after the mail's request
// closed (which deletes the mail) has nothing left to do, rather than
// failing into the dead-letter queue.
func TestProcessMailGone(t *testing.T) {
	f := newFixture(rawMail("Subject: Subject access request", accessBody))
	delete(f.raw.objects, key)
	out, err := f.p.Process(context.Background(), Mail{ID: mailID, Key: key, Verdicts: allOK})
	if err != nil || out.Disposition != Gone || out.Reason != "already_handled" || len(f.portal.got) != 0 || len(f.queue.items) != 0 {
		t.Fatalf("outcome %+v, %v; %d requests, %d inbox items", out, err, len(f.portal.got), len(f.queue.items))
	}
}

// TestProcessOnce: a repeated event (Lambda retries asynchronous
// invocations) does not make a second request.
func TestProcessOnce(t *testing.T) {
	f := newFixture(rawMail("Subject: Subject access request", accessBody))
	for range 2 {
		if _, err := f.p.Process(context.Background(), Mail{ID: mailID, Key: key, Verdicts: allOK}); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.portal.got) != 1 {
		t.Fatalf("%d requests from one mail", len(f.portal.got))
	}
}

func TestVerdicts(t *testing.T) {
	v := Verdicts{SPF: "pass", DKIM: "", DMARC: "FAIL", Spam: "PROCESSING_FAILED", Virus: "<script>"}
	if got := v.String(); got != "spf=PASS dkim=GRAY dmarc=FAIL spam=PROCESSING_FAILED virus=GRAY" {
		t.Fatal(got)
	}
	if _, bad := v.quarantine(); bad {
		t.Fatal("a failed scan is not a failed verdict")
	}
}

func TestValidMailID(t *testing.T) {
	for id, want := range map[string]bool{
		mailID: true, "0000014a-f4d4-4f36-9a3c-example": true,
		"": false, "../x": false, "a/b": false, strings.Repeat("a", 129): false, "-a": false,
	} {
		if ValidMailID(id) != want {
			t.Errorf("ValidMailID(%q) = %v", id, !want)
		}
	}
}

func newInbox(f *fixture) *Inbox {
	return &Inbox{Queue: f.queue, Raw: f.raw, Portal: f.portal, Audit: f.audit, Clock: clock.NewFake(now), Jurisdiction: "EU", Limits: mailparse.DefaultLimits}
}

func TestInboxMakeRequest(t *testing.T) {
	ctx := context.Background()
	f := newFixture(rawMail("Reply-To: other@example.net\nSubject: Question", "Hallo, ich möchte wissen, was los ist. Bitte melden Sie sich."))
	if _, err := f.p.Process(ctx, Mail{ID: mailID, Key: key, Verdicts: allOK}); err != nil {
		t.Fatal(err)
	}
	b := newInbox(f)
	items, err := b.List(ctx)
	if err != nil || len(items) != 1 || items[0].Language != string(German) {
		t.Fatalf("inbox %+v %v", items, err)
	}
	it, msg, err := b.Read(ctx, mailID)
	if err != nil || it.ID != mailID || msg.From != "jane.roe@example.com" || msg.ReplyTo[0] != "other@example.net" {
		t.Fatalf("read %+v %+v %v", it, msg, err)
	}
	id, err := b.MakeRequest(ctx, mailID, request.Access, "", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.portal.got) != 1 {
		t.Fatal("no request made")
	}
	in := f.portal.got[0]
	if in.Email != "jane.roe@example.com" || in.Type != "access" || in.Jurisdiction != "EU" || in.Language != "de" || in.Mail.Operator != "alice" || in.Mail.Key != key {
		t.Fatalf("submission %+v %+v", in, in.Mail)
	}
	if f.raw.tags[key] != ForRequest || len(f.queue.items) != 0 {
		t.Fatalf("tag %q, inbox %+v", f.raw.tags[key], f.queue.items)
	}
	if got := f.audit.actions(AuditID(mailID)); !strings.HasSuffix(got, "operator:alice made_request request_id="+id) {
		t.Fatalf("audit %q", got)
	}
	if _, err := b.MakeRequest(ctx, mailID, request.Access, "", "alice"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("a second request from the same mail: %v", err)
	}
}

// TestInboxKeepsMailWhenAnActionFails: a failed action puts the mail back.
func TestInboxKeepsMailWhenAnActionFails(t *testing.T) {
	tests := []struct {
		name string
		act  func(b *Inbox) error
		prep func(f *fixture)
		want apperr.Kind
	}{
		{"portal down", func(b *Inbox) error {
			_, err := b.MakeRequest(context.Background(), mailID, request.Access, "", "alice")
			return err
		},
			func(f *fixture) { f.portal.refuse = apperr.E(apperr.Unavailable, "down") }, apperr.Unavailable},
		{"a type the law gives no right to", func(b *Inbox) error {
			_, err := b.MakeRequest(context.Background(), mailID, "sell", "", "alice")
			return err
		}, func(*fixture) {}, apperr.Invalid},
		{"bucket down while discarding", func(b *Inbox) error { return b.Discard(context.Background(), mailID, "spam", "alice") },
			func(f *fixture) { f.raw.failTag = true }, apperr.Unavailable},
		{"discard without a known reason", func(b *Inbox) error { return b.Discard(context.Background(), mailID, "boring", "alice") },
			func(*fixture) {}, apperr.Invalid},
		{"nobody acts", func(b *Inbox) error { return b.Discard(context.Background(), mailID, "spam", " ") },
			func(*fixture) {}, apperr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(rawMail("Subject: hello", "nothing the rules know"))
			if _, err := f.p.Process(context.Background(), Mail{ID: mailID, Key: key, Verdicts: allOK}); err != nil {
				t.Fatal(err)
			}
			tt.prep(f)
			if err := tt.act(newInbox(f)); !apperr.Is(err, tt.want) {
				t.Fatalf("error %v, want %s", err, tt.want)
			}
			if len(f.queue.items) != 1 || f.queue.items[0].ID != mailID {
				t.Fatalf("the mail left the inbox: %+v", f.queue.items)
			}
		})
	}
}

func TestInboxDiscard(t *testing.T) {
	ctx := context.Background()
	f := newFixture(rawMail("Subject: hello", "nothing the rules know"))
	if _, err := f.p.Process(ctx, Mail{ID: mailID, Key: key, Verdicts: allOK}); err != nil {
		t.Fatal(err)
	}
	if err := newInbox(f).Discard(ctx, mailID, "not_a_request", "bob"); err != nil {
		t.Fatal(err)
	}
	if f.raw.tags[key] != Discarded || len(f.queue.items) != 0 {
		t.Fatalf("tag %q, inbox %+v", f.raw.tags[key], f.queue.items)
	}
	if got := f.audit.actions(AuditID(mailID)); !strings.HasSuffix(got, "operator:bob discarded reason=not_a_request") {
		t.Fatalf("audit %q", got)
	}
	if err := newInbox(f).Discard(ctx, mailID, "spam", "bob"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("discarding twice: %v", err)
	}
}

func TestReference(t *testing.T) {
	tests := []struct{ name, subject, text, want string }{
		{"none", "Your decision", "I appeal.", ""},
		{"in the subject, mixed case", "Re: request DSR-20261101-0123456789ABCDEF was refused", "I appeal.", "dsr-20261101-0123456789abcdef"},
		{"quoted twice, the same", "Re: dsr-20261101-0123456789abcdef", "> reference dsr-20261101-0123456789abcdef", "dsr-20261101-0123456789abcdef"},
		{"two different", "dsr-20261101-0123456789abcdef", "and dsr-20261102-0123456789abcdef", ""},
		{"not our alphabet (i, l, o, u)", "dsr-20261101-0123456789abcdei", "", ""},
		{"too long", "dsr-20261101-0123456789abcdef0", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Reference(tt.subject, tt.text); got != tt.want {
				t.Errorf("Reference = %q, want %q", got, tt.want)
			}
		})
	}
}
