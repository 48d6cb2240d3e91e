package devstack

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/sesmail"
)

func TestParseMailReadsRender(t *testing.T) {
	sent := time.Date(2025, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600))
	link := "https://api.example/v1/requests/dsr-20250304-0123456789abcdef/verify?token=AbC-_=x&y=" + strings.Repeat("z", 80)
	tests := []struct {
		name string
		msg  notify.Message
	}{
		{
			name: "ASCII",
			msg: notify.Message{To: "ada@example.com", Subject: "Confirm your privacy request",
				Text: "Hello,\n\nfollow this link:\n" + link + "\n", HTML: `<p>Hello,</p><p><a href="` + link + `">Confirm</a></p>`},
		},
		{
			name: "UTF-8",
			msg: notify.Message{To: "jürgen@example.de", Subject: "Bestätigen Sie Ihre Anfrage",
				Text: "Grüße aus Köln – “quoted” ✓\n", HTML: "<p>Grüße aus Köln – “quoted” ✓</p>"},
		},
		{
			name: "long UTF-8 subject",
			msg: notify.Message{To: "ada@example.com", Subject: strings.Repeat("Bestätigung Ihrer Datenschutzanfrage ", 4),
				Text: "x", HTML: "<p>x</p>"},
		},
		{
			name: "trailing spaces, equals signs and long lines",
			msg: notify.Message{To: "ada@example.com", Subject: "a=b?c",
				Text: "line with trailing space \ntab\t\n=3D is not decoded twice\n" + strings.Repeat("long ", 50) + "\n", HTML: strings.Repeat("<b>wide</b> ", 40)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := sesmail.Render("privacy@example.com", tc.msg, sent)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseMail(string(raw))
			if err != nil {
				t.Fatal(err)
			}
			if got.Subject != tc.msg.Subject {
				t.Errorf("Subject = %q, want %q", got.Subject, tc.msg.Subject)
			}
			if got.Text != tc.msg.Text {
				t.Errorf("Text = %q, want %q", got.Text, tc.msg.Text)
			}
			if got.HTML != tc.msg.HTML {
				t.Errorf("HTML = %q, want %q", got.HTML, tc.msg.HTML)
			}
			if !slices.Equal(got.To, []string{tc.msg.To}) {
				t.Errorf("To = %q, want [%q]", got.To, tc.msg.To)
			}
			if !got.SentAt.Equal(sent) || got.SentAt.Location() != time.UTC {
				t.Errorf("SentAt = %v, want %v in UTC", got.SentAt, sent)
			}
		})
	}
}

func TestParseMail(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    Mail
		wantErr bool
	}{
		{
			name: "single part",
			raw:  "To: Ada Lovelace <ada@example.com>, bob@example.com\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nDate: Tue, 04 Mar 2025 05:06:07 +0100\r\n\r\nplain body\r\n",
			want: Mail{To: []string{"ada@example.com", "bob@example.com"}, Subject: "Grüße", Text: "plain body\r\n", SentAt: time.Date(2025, 3, 4, 4, 6, 7, 0, time.UTC)},
		},
		{
			name: "no date, no To",
			raw:  "Subject: hi\r\n\r\nbody",
			want: Mail{Subject: "hi", Text: "body"},
		},
		{
			name:    "broken multipart",
			raw:     "Subject: hi\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nunterminated",
			wantErr: true,
		},
		{
			name:    "not a message",
			raw:     "no header line\r\n",
			wantErr: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMail(tc.raw)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if !slices.Equal(got.To, tc.want.To) || got.Subject != tc.want.Subject || got.Text != tc.want.Text || got.HTML != tc.want.HTML || !got.SentAt.Equal(tc.want.SentAt) {
				t.Errorf("ParseMail = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// readMailbox reads moto's SES store: oldest first, destinations when the
// message names no To.
func TestReadMailbox(t *testing.T) {
	newer, err := sesmail.Render("privacy@example.com", notify.Message{To: "ada@example.com", Subject: "second", Text: "2", HTML: "2"}, time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	older := "Subject: first\r\nDate: Tue, 04 Mar 2025 00:00:00 +0000\r\n\r\n1"
	moto := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/moto-api/data.json" {
			http.NotFound(w, r)
			return
		}
		var data struct {
			SES struct {
				RawMessage []map[string]any `json:"RawMessage"`
			} `json:"ses"`
		}
		data.SES.RawMessage = []map[string]any{
			{"destinations": []string{"ada@example.com"}, "raw_data": string(newer)},
			{"destinations": []string{"bob@example.com"}, "raw_data": older},
		}
		_ = json.NewEncoder(w).Encode(data)
	}))
	defer moto.Close()
	mails, err := readMailbox(moto.URL)
	if err != nil {
		t.Fatal(err)
	}
	if len(mails) != 2 || mails[0].Subject != "first" || mails[1].Subject != "second" {
		t.Fatalf("mails = %+v, want first then second", mails)
	}
	if !slices.Equal(mails[0].To, []string{"bob@example.com"}) || !slices.Equal(mails[1].To, []string{"ada@example.com"}) {
		t.Errorf("To = %v, %v", mails[0].To, mails[1].To)
	}
}
