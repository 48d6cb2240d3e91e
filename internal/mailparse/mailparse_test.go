package mailparse

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// crlf writes a message as it travels: lines end in CRLF.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func TestParse(t *testing.T) {
	tests := []struct {
		name        string
		raw         string
		from        string
		replyTo     []string
		subject     string
		text        string // the whole text, or with a trailing "…", its start
		attachments int
	}{
		{
			name: "plain UTF-8, 8bit",
			raw: `From: Jürgen Weiß <Juergen.Weiss@Example.DE>
To: privacy@example.com
Subject: Löschung meiner Daten
Date: Tue, 3 Nov 2026 09:12:44 +0100
Message-ID: <a1@mail.example.de>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Sehr geehrte Damen und Herren,

bitte löschen Sie alle meine Daten.
`,
			from:    "juergen.weiss@example.de",
			subject: "Löschung meiner Daten",
			text:    "Sehr geehrte Damen und Herren,\n\nbitte löschen Sie alle meine Daten.",
		},
		{
			name: "alternative: quoted-printable ISO-8859-1 text wins over HTML",
			raw: `From: "Weiss, Jürgen" <j.weiss@example.de>
Subject: =?ISO-8859-1?Q?Auskunft_nach_Art._15_DSGVO_=FCber_meine_Daten?=
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

Bitte erteilen Sie mir Auskunft =FCber die zu meiner Person gespeicherten D=
aten.
--b1
Content-Type: text/html; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

<p>Bitte erteilen Sie mir Auskunft =FCber ...</p>
--b1--
`,
			from:    "j.weiss@example.de",
			subject: "Auskunft nach Art. 15 DSGVO über meine Daten",
			text:    "Bitte erteilen Sie mir Auskunft über die zu meiner Person gespeicherten Daten.",
		},
		{
			name: "mixed with nested alternative, base64 Windows-1252 text and a PDF",
			raw: `From: matti.virtanen@example.fi
Reply-To: Someone Else <other@example.net>
Subject: =?UTF-8?B?VGlldG9qZW5pIHBvaXN0YW1pbmVu?=
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

This is a multi-part message in MIME format.
--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=windows-1252
Content-Transfer-Encoding: base64

UHl5ZORuIGV0dOQgcG9pc3RhdHRlIGthaWtraSB0aWV0b25pLiBLaWl0b3MgliBNYXR0aQ==
--inner
Content-Type: text/html; charset=utf-8

<div>Pyydän että poistatte kaikki tietoni.</div>
--inner--
--outer
Content-Type: application/pdf; name="henkilokortti.pdf"
Content-Disposition: attachment; filename="henkilokortti.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQKJcfsj6IKNSAwIG9iago=
--outer--
`,
			from:        "matti.virtanen@example.fi",
			replyTo:     []string{"other@example.net"},
			subject:     "Tietojeni poistaminen",
			text:        "Pyydän että poistatte kaikki tietoni. Kiitos – Matti",
			attachments: 1,
		},
		{
			name: "HTML only, as some webmail sends it",
			raw: `From: Jane Roe <jane.roe@example.com>
Subject: Data request
MIME-Version: 1.0
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

<html><head><title>ignored</title><style>p {color: red}</style></head>
<body><div dir=3D"ltr">Hello,<br>I would like a copy of all personal data =
you hold about me.<div><br></div><div>Thanks &amp; regards,</div><div>Jane<=
/div><script>alert(1)</script></div></body></html>
`,
			from:    "jane.roe@example.com",
			subject: "Data request",
			text:    "Hello,\nI would like a copy of all personal data you hold about me.\nThanks & regards,\nJane",
		},
		{
			name: "no Content-Type is plain ASCII text",
			raw: `From: a@example.com
Subject: hi

Delete me please.
`,
			from:    "a@example.com",
			subject: "hi",
			text:    "Delete me please.",
		},
		{
			name: "an unknown charset is read as UTF-8",
			raw: `From: a@example.com
Subject: =?x-unknown?Q?caf=C3=A9?=
Content-Type: text/plain; charset=x-unknown

café
`,
			from:    "a@example.com",
			subject: "=?x-unknown?Q?caf=C3=A9?=",
			text:    "café",
		},
		{
			name: "two From addresses name no single author",
			raw: `From: a@example.com, b@example.com
Subject: group

text
`,
			from:    "",
			subject: "group",
			text:    "text",
		},
		{
			name: "ISO-8859-15 Finnish, quoted-printable subject in parts",
			raw: `From: =?iso-8859-15?q?P=E4ivi_M=E4kel=E4?= <paivi@example.fi>
Subject: =?iso-8859-15?q?Pyynt=F6_p=E4=E4st=E4_tietoihini?=
Content-Type: text/plain; charset=iso-8859-15
Content-Transfer-Encoding: quoted-printable

Haluan saada kopion minusta ker=E4tyist=E4 tiedoista. Hinta 5 =A4.
`,
			from:    "paivi@example.fi",
			subject: "Pyyntö päästä tietoihini",
			text:    "Haluan saada kopion minusta kerätyistä tiedoista. Hinta 5 €.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(strings.NewReader(crlf(tt.raw)), DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if m.From != tt.from {
				t.Errorf("from %q, want %q", m.From, tt.from)
			}
			if strings.Join(m.ReplyTo, ",") != strings.Join(tt.replyTo, ",") {
				t.Errorf("reply-to %q, want %q", m.ReplyTo, tt.replyTo)
			}
			if m.Subject != tt.subject {
				t.Errorf("subject %q, want %q", m.Subject, tt.subject)
			}
			if m.Text != tt.text {
				t.Errorf("text\n got %q\nwant %q", m.Text, tt.text)
			}
			if m.Attachments != tt.attachments {
				t.Errorf("attachments %d, want %d", m.Attachments, tt.attachments)
			}
			if m.Truncated {
				t.Error("truncated")
			}
		})
	}
}

func TestParseHeaders(t *testing.T) {
	raw := crlf(`From: a@example.com
Date: Tue, 3 Nov 2026 09:12:44 +0100
Message-ID: <x1@example.com>
Subject: s

b
`)
	m, err := Parse(strings.NewReader(raw), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 3, 8, 12, 44, 0, time.UTC); !m.Date.Equal(want) || m.MessageID != "<x1@example.com>" {
		t.Fatalf("date %v, message id %q", m.Date, m.MessageID)
	}
}

// TestParseSender: a request is made for the author in From only when the
// message names exactly one: a second From header, or a second address in
// one, leaves From empty (no header is read in preference to another) and
// counts the authors, so the mail goes to an operator.
func TestParseSender(t *testing.T) {
	tests := []struct {
		name    string
		headers string
		from    string
		senders int
		authors []string
	}{
		{"one address", "From: Jane Roe <Jane.Roe@example.com>", "jane.roe@example.com", 1, []string{"jane.roe@example.com"}},
		{"two From headers", "From: jane.roe@example.com\nFrom: mallory@example.net", "", 2, []string{"jane.roe@example.com", "mallory@example.net"}},
		{"two From headers, spelt differently", "FROM: jane.roe@example.com\nfrom: mallory@example.net", "", 2, []string{"jane.roe@example.com", "mallory@example.net"}},
		{"a second From header that cannot be read", "From: jane.roe@example.com\nFrom: <<>>", "", 2, []string{"jane.roe@example.com"}},
		{"a second From header that is empty", "From: jane.roe@example.com\nFrom:", "", 2, []string{"jane.roe@example.com"}},
		{"two addresses in one header", "From: jane.roe@example.com, mallory@example.net", "", 2, []string{"jane.roe@example.com", "mallory@example.net"}},
		{"a group of two", "From: team: jane.roe@example.com, mallory@example.net;", "", 2, []string{"jane.roe@example.com", "mallory@example.net"}},
		{"an empty group", "From: undisclosed-recipients:;", "", 0, nil},
		{"no From", "Sender: jane.roe@example.com", "", 0, nil},
		{"a From that cannot be read", "From: <<>>", "", 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := crlf(tt.headers + "\nSubject: Delete my data\nContent-Type: text/plain; charset=utf-8\n\nPlease delete my account.\n")
			m, err := Parse(strings.NewReader(raw), DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if m.From != tt.from || m.Senders != tt.senders || strings.Join(m.Authors, ",") != strings.Join(tt.authors, ",") {
				t.Fatalf("from %q, %d senders %q; want %q, %d %q", m.From, m.Senders, m.Authors, tt.from, tt.senders, tt.authors)
			}
		})
	}
}

func nested(depth int) string {
	var b strings.Builder
	b.WriteString("From: a@example.com\nSubject: deep\n")
	for i := range depth {
		b.WriteString("Content-Type: multipart/mixed; boundary=\"b" + strings.Repeat("x", i) + "\"\n\n--b" + strings.Repeat("x", i) + "\n")
	}
	b.WriteString("Content-Type: text/plain\n\ninnermost\n")
	for i := depth - 1; i >= 0; i-- {
		b.WriteString("--b" + strings.Repeat("x", i) + "--\n")
	}
	return crlf(b.String())
}

func manyParts(n int) string {
	var b strings.Builder
	b.WriteString("From: a@example.com\nSubject: many\nContent-Type: multipart/mixed; boundary=b\n\n")
	for range n {
		b.WriteString("--b\nContent-Type: text/plain\n\npart\n")
	}
	b.WriteString("--b--\n")
	return crlf(b.String())
}

func TestParseLimits(t *testing.T) {
	small := Limits{MaxBytes: 4096, MaxParts: 10, MaxDepth: 3, MaxTextBytes: 40}
	tests := []struct {
		name string
		raw  string
		want error
	}{
		{"over the size limit", crlf("From: a@example.com\nSubject: big\n\n" + strings.Repeat("x", 5000)), ErrTooLarge},
		{"nested deeper than the limit", nested(5), ErrTooComplex},
		{"nested within the limit", nested(3), nil},
		{"more parts than the limit", manyParts(10), ErrTooComplex},
		{"parts within the limit", manyParts(9), nil},
		{"multipart without a boundary", crlf("From: a@example.com\nContent-Type: multipart/mixed\n\nx\n"), ErrMalformed},
		{"no header block", "just some bytes", ErrMalformed},
		{"broken multipart body", crlf("From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\nbroken header line\n\nx\n--b--\n"), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.raw), small)
			if !errors.Is(err, tt.want) && !(tt.want == nil && err == nil) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseCutsTextAtTheLimitOnARuneBoundary(t *testing.T) {
	raw := crlf("From: a@example.com\nContent-Type: text/plain; charset=utf-8\n\n" + strings.Repeat("ä", 100) + "\n")
	m, err := Parse(strings.NewReader(raw), Limits{MaxBytes: 4096, MaxParts: 5, MaxDepth: 2, MaxTextBytes: 41})
	if err != nil {
		t.Fatal(err)
	}
	if !m.Truncated || m.Text != strings.Repeat("ä", 20) {
		t.Fatalf("truncated %v, text %q", m.Truncated, m.Text)
	}
}

func TestHTMLToText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<p>One</p><p>Two</p>", "One\nTwo"},
		{"foo<b>bar</b> baz", "foobar baz"},
		{"foo <b>bar</b>baz", "foo barbaz"},
		{"a&nbsp;&lt;b&gt; &#228;", "a <b> ä"}, // a no-break space is a space to a reader
		{"<ul><li>x</li><li>y</li></ul>", "- x\n- y"},
		{"<p>Yes</p><blockquote><p>Delete it?</p><blockquote>old</blockquote></blockquote><p>me</p>", "Yes\n> Delete it?\n> > old\nme"},
		{"<script>var a = '<p>';</script>shown<style/>also", "shownalso"},
		{"<a href=\"https://evil.example/x\">click</a>", "click"},
		{"unclosed <div>text", "unclosed\ntext"},
	}
	for _, tt := range tests {
		if got := htmlToText(tt.in); got != tt.want {
			t.Errorf("htmlToText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAutomaticMail(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"Auto-Submitted: auto-replied", true},
		{"Auto-Submitted: auto-generated", true},
		{"Auto-Submitted: no", false},
		{"Precedence: bulk", true},
		{"X-Autoreply: yes", true},
		{"List-Id: <news.example.com>", true},
		{"Return-Path: <>", true},
		{"Return-Path: <a@example.com>", false},
		{"X-Mailer: Thunderbird", false},
	}
	for _, tt := range tests {
		raw := crlf("From: a@example.com\n" + tt.header + "\nSubject: Out of office\n\nI am away.\n")
		m, err := Parse(strings.NewReader(raw), DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		if m.Automatic != tt.want {
			t.Errorf("%s: automatic %v, want %v", tt.header, m.Automatic, tt.want)
		}
	}
}
