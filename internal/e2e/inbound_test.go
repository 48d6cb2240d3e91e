package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/devstack"
	"github.com/privacy-pipeline/dsr/internal/inbound"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/resources"
)

// The mail tests run in the sequential phase, so their workflows do not
// crowd the long-running parallel tests' mail waits.

// mailed is what the dev endpoint says became of a mail.
type mailed struct {
	MailID      string   `json:"mail_id"`
	Disposition string   `json:"disposition"`
	Reason      string   `json:"reason"`
	RequestID   string   `json:"request_id"`
	RequestIDs  []string `json:"request_ids"`
}

// sendMail posts a raw message to the privacy inbox through the dev
// endpoint, which takes the receipt rule's path: raw-mail bucket, SES event,
// inbound function. verdicts is a query like "dmarc=FAIL".
func sendMail(t *testing.T, verdicts, raw string) mailed {
	t.Helper()
	resp, err := http.Post(stack.APIURL+"/_dev/inbound?"+verdicts, "message/rfc822", strings.NewReader(strings.ReplaceAll(raw, "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("dev inbound: HTTP %d: %s", resp.StatusCode, b)
	}
	var res struct{ Mails []mailed }
	if err := json.Unmarshal(b, &res); err != nil || len(res.Mails) != 1 {
		t.Fatalf("dev inbound answered %s (%v)", b, err)
	}
	return res.Mails[0]
}

func rawMail(from, subject, body string) string {
	return "From: " + from + "\nTo: privacy@example.com\nSubject: " + subject +
		"\nDate: Mon, 23 Nov 2026 09:12:44 +0100\nMessage-ID: <" + strings.ReplaceAll(from, "@", ".") + "@mail.example>\nMIME-Version: 1.0\n" + body
}

// rawMailTag returns the disposition tag of a mail's raw message, or
// "deleted" when the object is gone.
func rawMailTag(t *testing.T, mailID string) string {
	t.Helper()
	s3c := s3.NewFromConfig(stack.AWS, func(o *s3.Options) { o.UsePathStyle = true })
	bucket := devstack.LocalConfig(stack.Region, stack.APIURL).RawMailBucket
	key := stack.App.RawMail().Key(mailID)
	out, err := s3c.GetObjectTagging(context.Background(), &s3.GetObjectTaggingInput{Bucket: &bucket, Key: &key})
	var noKey *s3types.NoSuchKey
	if errors.As(err, &noKey) || (err != nil && strings.Contains(err.Error(), "NoSuchKey")) {
		return "deleted"
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range out.TagSet {
		if *tag.Key == "disposition" {
			return *tag.Value
		}
	}
	return ""
}

// waitRequestStatus waits until a request made by mail is in status want.
func waitRequestStatus(t *testing.T, id string, want request.Status) {
	t.Helper()
	eventually(t, "status "+string(want), 60*time.Second, func() bool {
		st := storedRequest(t, id).Status
		if st == request.Failed {
			t.Fatalf("request failed; logs:\n%s", logs.String())
		}
		return st == want
	})
}

// confirmWith confirms a request by the link in the mail to email whose
// subject has the given words.
func confirmWith(t *testing.T, email, requestID, subject string) {
	t.Helper()
	link := linkIn(t, mailTo(t, email, requestID, subject), "/verify")
	resp, err := http.PostForm(stack.APIURL+link.Path, url.Values{"token": {link.Query().Get("token")}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("confirm: HTTP %d", resp.StatusCode)
	}
}

// noMailTo fails when the system has sent anything to address.
func noMailTo(t *testing.T, address string) {
	t.Helper()
	mails, err := stack.Mail()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mails {
		if slices.Contains(m.To, address) {
			t.Fatalf("mail %q went to %s", m.Subject, address)
		}
	}
}

// TestMailedRequestsInEachLanguage: an English access request and German
// and Finnish deletion requests sent by mail become requests for their From
// addresses, get the acknowledgement and the verification link there,
// complete once confirmed, and their raw messages are deleted at the close.
func TestMailedRequestsInEachLanguage(t *testing.T) {
	tests := []struct {
		name, from, subject, body string
		typ                       request.Type
		ack, confirm              string // the subjects of the mails, in the mail's language
	}{
		{"English access", "mail.english@example.com", "Subject access request",
			"Content-Type: text/plain; charset=utf-8\n\nDear Sir or Madam,\n\nunder Article 15 GDPR please send me a copy of all personal data you hold about me.\n\nRegards\n",
			request.Access, "We received your privacy request", "Confirm your privacy request"},
		{"German deletion", "mail.deutsch@example.com", "=?ISO-8859-1?Q?L=F6schung_meiner_Daten?=",
			"Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nSehr geehrte Damen und Herren,\n\nbitte l=F6schen Sie alle zu meiner Person gespeicherten Daten (Art. 17 DSGVO).\n\nMit freundlichen Gr=FC=DFen\n",
			request.Delete, "Wir haben Ihre Datenschutzanfrage", "Bestätigen Sie Ihre Datenschutzanfrage"},
		{"Finnish access, HTML only", "mail.suomi@example.com", "=?utf-8?q?Tarkastuspyynt=C3=B6?=",
			"Content-Type: text/html; charset=utf-8\n\n<p>Hei,</p><p>pyyd&auml;n saada kopion kaikista minua koskevista tiedoista.</p><p>Terveisin Matti</p>\n",
			request.Access, "Olemme vastaanottaneet tietosuojapyyntösi", "Vahvista tietosuojapyyntösi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := sendMail(t, "", rawMail(tt.from, tt.subject, tt.body))
			if got.Disposition != inbound.ForRequest || !request.ValidID(got.RequestID) {
				t.Fatalf("mail outcome %+v", got)
			}
			r := storedRequest(t, got.RequestID)
			if r.Type != tt.typ || r.Email != tt.from || r.Jurisdiction != "EU" || r.Mail.Key == "" {
				t.Fatalf("request %s %s %s, mail key %q", r.Type, r.Jurisdiction, r.Email, r.Mail.Key)
			}
			if tag := rawMailTag(t, got.MailID); tag != inbound.ForRequest {
				t.Fatalf("raw mail tagged %q while the request is open", tag)
			}
			mailTo(t, tt.from, got.RequestID, tt.ack)
			confirmWith(t, tt.from, got.RequestID, tt.confirm)
			if tt.typ == request.Delete {
				approve(t, got.RequestID)
			}
			waitRequestStatus(t, got.RequestID, request.Completed)
			checkHistory(t, got.RequestID)
			if tag := rawMailTag(t, got.MailID); tag != "deleted" {
				t.Fatalf("raw mail %q after the request closed", tag)
			}
		})
	}
}

// TestMailedLetterOfTwoRequests: a letter that asks for a copy and then
// for erasure becomes both requests, each verified by its own link that
// names it. The erasure, confirmed first, waits until the copy is
// delivered; the raw message stays until the last of them closes.
func TestMailedLetterOfTwoRequests(t *testing.T) {
	const from = "letter.two@example.com"
	got := sendMail(t, "", rawMail(from, "Closing my account",
		"Content-Type: text/plain; charset=utf-8\n\nHello,\n\nplease send me a copy of all the personal data you hold about me. Once I have it, delete my account and all my data.\n\nThanks\n"))
	if got.Disposition != inbound.ForRequest || len(got.RequestIDs) != 2 || got.RequestID != got.RequestIDs[0] {
		t.Fatalf("mail outcome %+v", got)
	}
	access, del := got.RequestIDs[0], got.RequestIDs[1]
	if a, d := storedRequest(t, access), storedRequest(t, del); a.Type != request.Access || d.Type != request.Delete ||
		a.Mail.Key != d.Mail.Key || !slices.Equal(d.Mail.Siblings, []string{access}) {
		t.Fatalf("requests %s and %s of one mail: %+v, %+v", a.Type, d.Type, a.Mail.Siblings, d.Mail.Siblings)
	}
	for id, typ := range map[string]string{access: "Access to your data", del: "Deletion of your data"} {
		if m := mailTo(t, from, id, "Confirm your privacy request"); !strings.Contains(m.Text, "It asks for: "+typ+".") {
			t.Fatalf("the verification of %s does not name %q", id, typ)
		}
	}
	confirmWith(t, from, del, "Confirm your privacy request")
	confirmWith(t, from, access, "Confirm your privacy request")
	waitRequestStatus(t, access, request.Completed)
	approve(t, del)
	waitRequestStatus(t, del, request.Completed)
	events, err := stack.App.Store().Events(context.Background(), del)
	if err != nil {
		t.Fatal(err)
	}
	delivered := storedRequest(t, access).CompletedAt
	for _, ev := range events {
		if ev.Action == "review_requested" && ev.At.Before(delivered) {
			t.Fatalf("the erasure went on at %s, before the copy was delivered at %s", ev.At, delivered)
		}
	}
	if tag := rawMailTag(t, got.MailID); tag != "deleted" {
		t.Fatalf("raw mail %q after both requests closed", tag)
	}
}

// TestMailedCorrectionByHand: a correction letter whose new values the
// rules cannot read with confidence becomes a correction request all the
// same; once the subject confirms it waits for an operator, who reads the
// letter and gives the values, and the request completes.
func TestMailedCorrectionByHand(t *testing.T) {
	const from = "letter.correct@example.com"
	got := sendMail(t, "", rawMail(from, "Wrong address",
		"Content-Type: text/plain; charset=utf-8\n\nHi,\n\nyou've got my address slightly wrong: the house number is swapped round and the postcode has an extra space in it. Could you fix that please?\n\nHarold\n"))
	if got.Disposition != inbound.ForRequest {
		t.Fatalf("mail outcome %+v", got)
	}
	if r := storedRequest(t, got.RequestID); r.Type != request.Correct || len(r.Correction.Values) != 0 {
		t.Fatalf("request %s with corrections of %v", r.Type, r.Correction.Values.Fields())
	}
	if m := mailTo(t, from, got.RequestID, "Confirm your privacy request"); !strings.Contains(m.Text, "our privacy team reads the new values from it") {
		t.Fatal("the verification does not say a person reads the new values")
	}
	confirmWith(t, from, got.RequestID, "Confirm your privacy request")
	eventually(t, "operator review", 30*time.Second, func() bool { return storedRequest(t, got.RequestID).Review.TaskToken != "" })
	op := stack.App.Operator()
	if err := op.Approve(context.Background(), got.RequestID, "e2e", nil); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("approving without the values: %v", err)
	}
	if err := op.ApproveCorrections(context.Background(), got.RequestID, "e2e", request.Corrections{"postal_code": "SW1A 1AA"}); err != nil {
		t.Fatal(err)
	}
	waitRequestStatus(t, got.RequestID, request.Completed)
	if r := storedRequest(t, got.RequestID); !slices.Equal(r.Correction.Fields, []string{"postal_code"}) || len(r.Correction.Values) != 0 {
		t.Fatalf("corrected %v, still holding %v", r.Correction.Fields, r.Correction.Values.Fields())
	}
}

// TestMailWithFailedDMARCStillNeedsVerification: a sender whose domain
// fails DMARC may be forged. A mailed CCPA opt-out, which the law lets go
// unverified, is then verified by the link mailed to From; the same mail
// from a sender that passes DMARC is carried out at once. The audit log
// keeps the verdicts.
func TestMailWithFailedDMARCStillNeedsVerification(t *testing.T) {
	optOut := func(from string) string {
		return rawMail(from, "Do Not Sell or Share My Personal Information",
			"\nI am a California resident and opt out of the sale and sharing of my personal information under the CCPA.\n")
	}
	const forged, genuine = "maybe.forged@example.com", "genuine.optout@example.com"
	unverified := sendMail(t, "spf=FAIL&dkim=FAIL&dmarc=FAIL", optOut(forged))
	verified := sendMail(t, "", optOut(genuine))
	for _, got := range []mailed{unverified, verified} {
		if got.Disposition != inbound.ForRequest {
			t.Fatalf("mail outcome %+v", got)
		}
		if r := storedRequest(t, got.RequestID); r.Type != request.OptOut || r.Jurisdiction != "US-CA" {
			t.Fatalf("request %s %s", r.Type, r.Jurisdiction)
		}
	}
	mailTo(t, forged, unverified.RequestID, "Confirm your privacy request")
	if st := storedRequest(t, unverified.RequestID).Status; st != request.PendingVerification {
		t.Fatalf("status %s, want %s", st, request.PendingVerification)
	}
	events, err := stack.App.Store().Events(context.Background(), unverified.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) == 0 || !strings.Contains(events[0].Note, "dmarc=FAIL") {
		t.Fatalf("first audit event %+v", events)
	}
	// Nothing moves without the subject's confirmation: the workflow waits.
	checkExecution(t, resources.RequestWorkflow, unverified.RequestID, "RUNNING")

	waitRequestStatus(t, verified.RequestID, request.Completed)
	if n := len(mailsTo(t, genuine, verified.RequestID, "Confirm your privacy request")); n != 0 {
		t.Fatalf("the authenticated opt-out was asked to confirm %d times", n)
	}
}

// TestSpoofedReplyToGetsNothing: a mail whose Reply-To differs from From is
// answered at From only.
func TestSpoofedReplyToGetsNothing(t *testing.T) {
	const from, replyTo = "spoofed.victim@example.com", "attacker@example.net"
	got := sendMail(t, "", rawMail(from, "Subject access request",
		"Reply-To: "+replyTo+"\n\nPlease send me a copy of all personal data you hold about me.\n"))
	if got.Disposition != inbound.ForRequest {
		t.Fatalf("mail outcome %+v", got)
	}
	mailTo(t, from, got.RequestID, "Confirm your privacy request")
	noMailTo(t, replyTo)
}

// TestMailForTheOperatorInbox: mail the rules cannot classify, and spam,
// wait in the operators' inbox unanswered; an operator turns one into a
// request of the type they judge and discards the other, and both
// decisions are in the mail's audit log.
func TestMailForTheOperatorInbox(t *testing.T) {
	ctx := context.Background()
	const asker, spammer = "order.question@example.com", "spam.sender@example.com"
	unclear := sendMail(t, "", rawMail(asker, "Where is my order?", "\nHello, I ordered a jumper last week. When will it ship?\n"))
	spam := sendMail(t, "spam=FAIL", rawMail(spammer, "Delete my data", "\nPlease delete my data.\n"))
	if unclear.Disposition != inbound.ForOperator || unclear.Reason != inbound.ReasonUnclassified {
		t.Fatalf("unclassified mail: %+v", unclear)
	}
	if spam.Disposition != inbound.Quarantined || spam.Reason != inbound.ReasonSpam {
		t.Fatalf("spam: %+v", spam)
	}
	items, err := stack.App.Inbox().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range items {
		ids = append(ids, it.ID)
	}
	if !slices.Contains(ids, unclear.MailID) || !slices.Contains(ids, spam.MailID) {
		t.Fatalf("inbox %v lacks %s or %s", ids, unclear.MailID, spam.MailID)
	}
	if tag := rawMailTag(t, unclear.MailID); tag != inbound.ForOperator {
		t.Fatalf("unclassified raw mail tagged %q", tag)
	}
	noMailTo(t, asker)
	noMailTo(t, spammer)

	id, err := stack.App.Inbox().MakeRequest(ctx, unclear.MailID, request.Access, "", "e2e")
	if err != nil {
		t.Fatal(err)
	}
	mailTo(t, asker, id, "Confirm your privacy request")
	if err := stack.App.Inbox().Discard(ctx, spam.MailID, "spam", "e2e"); err != nil {
		t.Fatal(err)
	}
	if tag := rawMailTag(t, spam.MailID); tag != inbound.Discarded {
		t.Fatalf("discarded raw mail tagged %q", tag)
	}
	items, err = stack.App.Inbox().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.ID == unclear.MailID || it.ID == spam.MailID {
			t.Fatalf("%s is still in the inbox", it.ID)
		}
	}
	for mailID, want := range map[string]string{unclear.MailID: "operator:e2e made_request", spam.MailID: "operator:e2e discarded"} {
		events, err := stack.App.Store().Events(ctx, inbound.AuditID(mailID))
		if err != nil || len(events) != 2 || events[0].Action != "queued" || events[1].Actor+" "+events[1].Action != want {
			t.Fatalf("audit of %s: %+v %v", mailID, events, err)
		}
	}
}

// TestMailRedeliveredMakesNoSecondRequest: Lambda delivers an event again
// when the function failed after the request was stored (here: the mail's
// label is missing, as if writing it had failed). The request's id is the
// mail's, so the second delivery finds that request instead of making one.
func TestMailRedeliveredMakesNoSecondRequest(t *testing.T) {
	t.Parallel()
	const from = "mail.twice@example.com"
	raw := rawMail(from, "Subject access request", "Content-Type: text/plain; charset=utf-8\n\nPlease send me a copy of my personal data (Article 15 GDPR).\n")
	first := sendMail(t, "", raw)
	if first.Disposition != inbound.ForRequest || !request.ValidID(first.RequestID) {
		t.Fatalf("mail outcome %+v", first)
	}
	s3c := s3.NewFromConfig(stack.AWS, func(o *s3.Options) { o.UsePathStyle = true })
	bucket := devstack.LocalConfig(stack.Region, stack.APIURL).RawMailBucket
	key := stack.App.RawMail().Key(first.MailID)
	if _, err := s3c.DeleteObjectTagging(context.Background(), &s3.DeleteObjectTaggingInput{Bucket: &bucket, Key: &key}); err != nil {
		t.Fatal(err)
	}

	fn := devstack.FunctionARN(stack.Region, "inbound")
	// A redelivery carries the first delivery's timestamp: the mail's
	// arrival, which the request keeps as its received time.
	arrived := storedRequest(t, first.RequestID).ReceivedAt
	ev := devstack.SESEvent(first.MailID, []byte(strings.ReplaceAll(raw, "\n", "\r\n")), arrived, fn, inbound.Verdicts{SPF: inbound.Pass, DKIM: inbound.Pass, DMARC: inbound.Pass, Spam: inbound.Pass, Virus: inbound.Pass})
	body, _ := json.Marshal(ev)
	resp, err := http.Post(stack.LambdaURL+"/2015-03-31/functions/"+url.PathEscape(fn)+"/invocations", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var again struct{ Mails []mailed }
	if err := json.Unmarshal(out, &again); err != nil || len(again.Mails) != 1 {
		t.Fatalf("redelivery answered %s (%v)", out, err)
	}
	if got := again.Mails[0]; got.RequestID != first.RequestID || got.Disposition != inbound.ForRequest {
		t.Fatalf("redelivery made %+v, want request %s again", got, first.RequestID)
	}
	if tag := rawMailTag(t, first.MailID); tag != inbound.ForRequest {
		t.Fatalf("raw mail tagged %q after the redelivery", tag)
	}
	mailTo(t, from, first.RequestID, "Confirm your privacy request")
	if n := len(mailsTo(t, from, "", "We received your privacy request")); n != 1 {
		t.Fatalf("%d acknowledgements for one mail", n)
	}
}
