package mailparse

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse: whatever arrives, Parse ends without panicking, fails only
// with its own errors, returns valid UTF-8 within the text limit, and names
// a sender only when the message has exactly one.
// `go test -fuzz FuzzParse ./internal/mailparse/` explores further.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"From: a@example.com\r\nSubject: x\r\n\r\nbody\r\n",
		crlf("From: a@example.com\nContent-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nL=F6schen\n--b\nContent-Type: text/html\n\n<p>x</p>\n--b--\n"),
		crlf("From: a@example.com\nContent-Type: text/plain; charset=windows-1252\nContent-Transfer-Encoding: base64\n\nUHl5ZORu\n"),
		crlf("From: =?utf-8?B?w6TDtg==?= <a@example.com>\nSubject: =?iso-8859-1?q?=E4?=\nContent-Type: text/html\n\n<script>x</script><div>y"),
		nested(4),
		manyParts(12),
		crlf("From: a@example.com\nFrom: b@example.com\n\nbody\n"),
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	lim := Limits{MaxBytes: 64 << 10, MaxParts: 10, MaxDepth: 3, MaxTextBytes: 1024}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(strings.NewReader(string(raw)), lim)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrTooComplex) {
				t.Fatalf("an error of no known kind: %v", err)
			}
			return
		}
		if len(m.Text) > lim.MaxTextBytes {
			t.Fatalf("text of %d bytes over the limit", len(m.Text))
		}
		if m.From != "" && (m.Senders != 1 || len(m.Authors) != 1 || m.Authors[0] != m.From) {
			t.Fatalf("from %q among %d senders %q", m.From, m.Senders, m.Authors)
		}
		for _, s := range append(append([]string{m.Text, m.Subject, m.From}, m.ReplyTo...), m.Authors...) {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8: %q", s)
			}
		}
	})
}
