// Package mailparse reads an inbound RFC 5322 message into what the pipeline
// needs to understand it: the sender, the subject and the readable text.
// It decodes MIME as mail clients write it (multipart, nested, quoted-printable,
// base64, legacy charsets, HTML-only bodies) and bounds every dimension of
// the input, because the input is whatever a stranger sends.
package mailparse

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"
)

// Limits bound the work one message may cause.
type Limits struct {
	// MaxBytes is the largest raw message accepted.
	MaxBytes int64
	// MaxParts is the most MIME parts walked, at every depth together.
	MaxParts int
	// MaxDepth is the deepest multipart nesting walked.
	MaxDepth int
	// MaxTextBytes is the most readable text kept; the rest is cut off and
	// Truncated is set.
	MaxTextBytes int
}

// DefaultLimits fit real requests with room to spare: a privacy request is a
// few lines, perhaps with a scanned ID document attached.
var DefaultLimits = Limits{MaxBytes: 10 << 20, MaxParts: 100, MaxDepth: 8, MaxTextBytes: 256 << 10}

// The errors Parse returns; every failure wraps exactly one of them.
var (
	ErrTooLarge   = errors.New("the message is larger than the limit")
	ErrTooComplex = errors.New("the message has too many or too deeply nested parts")
	ErrMalformed  = errors.New("the message is not a readable RFC 5322 message")
)

// Message is what an inbound message says, decoded to UTF-8.
type Message struct {
	// From is the author's address (lower case), the identity a request from
	// this message is made for. Empty unless the message names exactly one
	// author: one From header holding one address.
	From string
	// Senders counts the authors the From headers name together (a header
	// that cannot be read counts as one); Authors are the addresses among
	// them that can be read, for operators to see. They are never written to.
	Senders int
	Authors []string
	// ReplyTo are the addresses in Reply-To. They are shown to operators and
	// never written to: anyone can put any address there.
	ReplyTo   []string
	Subject   string
	MessageID string
	Date      time.Time
	// Text is the readable body: the plain-text parts, or the HTML parts
	// turned into text where a message has no plain text.
	Text string
	// Attachments counts the parts that are not readable text.
	Attachments int
	// Truncated is set when Text was cut at the limit.
	Truncated bool
	// Automatic is set for mail no person wrote: auto-replies, bounces and
	// list mail (RFC 3834). Answering them could start a mail loop.
	Automatic bool
}

// Parse reads a raw message within the limits.
func Parse(r io.Reader, lim Limits) (*Message, error) {
	raw, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if int64(len(raw)) > lim.MaxBytes {
		return nil, ErrTooLarge
	}
	msg, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	m := &Message{
		Subject:   decodeHeader(msg.Header.Get("Subject")),
		MessageID: strings.TrimSpace(msg.Header.Get("Message-Id")),
	}
	addresses := &mail.AddressParser{WordDecoder: wordDecoder}
	m.From, m.Senders, m.Authors = authors(addresses, msg.Header)
	if replyTo, err := addresses.ParseList(msg.Header.Get("Reply-To")); err == nil {
		for _, a := range replyTo {
			m.ReplyTo = append(m.ReplyTo, strings.ToLower(a.Address))
		}
	}
	if d, err := msg.Header.Date(); err == nil {
		m.Date = d.UTC()
	}
	m.Automatic = automatic(msg.Header)
	w := &walker{lim: lim, msg: m}
	if err := w.walk(textproto.MIMEHeader(msg.Header), msg.Body, 0); err != nil {
		return nil, err
	}
	m.Text = w.text()
	return m, nil
}

// authors reads every From header (Header.Get would read the first only, and
// a forger can put one before the real one): the one author's address when
// there is exactly one, how many the headers name, and those that can be read.
func authors(addresses *mail.AddressParser, h mail.Header) (from string, n int, all []string) {
	for _, v := range h["From"] {
		list, err := addresses.ParseList(v)
		if err != nil {
			n++ // it names someone, if not readably
			continue
		}
		n += len(list)
		for _, a := range list {
			all = append(all, strings.ToLower(a.Address))
		}
	}
	if n == 1 && len(all) == 1 {
		from = all[0]
	}
	return from, n, all
}

// automatic tells mail sent by programs by the headers they set: RFC 3834
// Auto-Submitted, the older vacation-responder headers, bulk and list
// precedence, list headers and the empty return path of bounces.
func automatic(h mail.Header) bool {
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && v != "no" {
		return true
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "bulk", "junk", "list", "auto_reply":
		return true
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond", "List-Id", "List-Unsubscribe"} {
		if h.Get(k) != "" {
			return true
		}
	}
	return strings.TrimSpace(h.Get("Return-Path")) == "<>"
}

var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

// decodeHeader decodes RFC 2047 encoded words; a header that is not valid
// encoded-word syntax is kept as it is, made valid UTF-8.
func decodeHeader(s string) string {
	d, err := wordDecoder.DecodeHeader(s)
	if err != nil {
		d = s
	}
	return strings.TrimSpace(strings.ToValidUTF8(d, "\uFFFD"))
}

// charsetReader decodes any charset the WHATWG encoding standard knows, which
// is what browsers and mail clients agree on (ISO-8859-1 read as
// Windows-1252, as senders mean it).
func charsetReader(charset string, r io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, fmt.Errorf("unknown charset %q", charset)
	}
	return enc.NewDecoder().Reader(r), nil
}

type walker struct {
	lim   Limits
	msg   *Message
	parts int
	plain []string
	html  []string
}

// walk reads one entity: a multipart container, a text part or an attachment.
func (w *walker) walk(h textproto.MIMEHeader, body io.Reader, depth int) error {
	w.parts++
	if w.parts > w.lim.MaxParts || depth > w.lim.MaxDepth {
		return ErrTooComplex
	}
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		// RFC 2045 §5.2: without a usable Content-Type, the body is plain text.
		mediaType, params = "text/plain", map[string]string{}
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		return w.walkMultipart(mediaType, params, body, depth)
	}
	disposition, _, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	if disposition == "attachment" || (mediaType != "text/plain" && mediaType != "text/html") {
		w.msg.Attachments++
		return nil
	}
	text, err := w.readText(h, body, params["charset"])
	if err != nil {
		return err
	}
	if mediaType == "text/html" {
		w.html = append(w.html, htmlToText(text))
	} else {
		w.plain = append(w.plain, text)
	}
	return nil
}

func (w *walker) walkMultipart(mediaType string, params map[string]string, body io.Reader, depth int) error {
	boundary := params["boundary"]
	if boundary == "" {
		return fmt.Errorf("%w: %s without a boundary", ErrMalformed, mediaType)
	}
	mr := multipart.NewReader(body, boundary)
	if mediaType != "multipart/alternative" {
		for {
			// NextRawPart leaves the transfer encoding to readText, which
			// handles base64 as well as quoted-printable.
			part, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%w: %v", ErrMalformed, err)
			}
			if err := w.walk(part.Header, part, depth+1); err != nil {
				return err
			}
		}
	}
	// Alternatives say the same thing twice: keep the plain text when there
	// is one, else the HTML.
	sub := &walker{lim: w.lim, msg: w.msg, parts: w.parts}
	var plain, html []string
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		sub.plain, sub.html = nil, nil
		if err := sub.walk(part.Header, part, depth+1); err != nil {
			return err
		}
		if plain == nil && len(sub.plain) > 0 {
			plain = sub.plain
		}
		if html == nil && len(sub.html) > 0 {
			html = sub.html
		}
	}
	w.parts = sub.parts
	if plain != nil {
		w.plain = append(w.plain, plain...)
	} else {
		w.html = append(w.html, html...)
	}
	return nil
}

// readText decodes a text part's transfer encoding and charset to UTF-8,
// reading no more than the text limit (and a little more, to notice the cut).
func (w *walker) readText(h textproto.MIMEHeader, body io.Reader, charset string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, &skipSpace{r: body})
	}
	charset = strings.ToLower(strings.TrimSpace(charset))
	if charset != "" && charset != "utf-8" && charset != "us-ascii" {
		if dec, err := charsetReader(charset, body); err == nil {
			body = dec
		}
		// An unknown charset is read as UTF-8: what is valid stays readable.
	}
	b, err := io.ReadAll(io.LimitReader(body, int64(w.lim.MaxTextBytes)+utf8.UTFMax))
	if err != nil {
		return "", fmt.Errorf("%w: body: %v", ErrMalformed, err)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), nil
}

// text joins the readable parts, plain text first, with normalized line
// ends, cut at the limit on a rune boundary.
func (w *walker) text() string {
	parts := w.plain
	if len(parts) == 0 {
		parts = w.html
	}
	s := strings.Join(parts, "\n")
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	s = strings.TrimSpace(s)
	if len(s) > w.lim.MaxTextBytes {
		cut := w.lim.MaxTextBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
		w.msg.Truncated = true
	}
	return s
}

// skipSpace drops the line breaks and spaces that base64 bodies carry
// between their lines.
type skipSpace struct{ r io.Reader }

func (s *skipSpace) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		k := 0
		for _, c := range p[:n] {
			if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
				p[k] = c
				k++
			}
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
}
