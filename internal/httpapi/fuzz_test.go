package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/i18n"
	"github.com/privacy-pipeline/dsr/internal/portal"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// The fuzz targets below feed arbitrary bodies to POST /v1/requests. Their
// seeds run with every `go test`; `go test -fuzz FuzzSubmitJSON ./internal/httpapi`
// (or FuzzSubmitForm) searches further. For every input: no panic, never a
// 5xx, every answer one the OpenAPI document describes, every 4xx either
// problem+json or the HTML form, and no input echoed where HTML would read it
// as markup.

var fuzzReceipt = portal.Receipt{ID: testID, Status: "received", StatusURL: "https://api.example/v1/requests/" + testID + "?token=st-123"}

// submit serves one POST /v1/requests with the domain's submission rules behind it.
func submit(t testing.TB, contentType, body string) (*http.Request, *http.Response, []byte) {
	t.Helper()
	h := New(&specPortal{fakePortal: fakePortal{receipt: fuzzReceipt}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	req := httptest.NewRequest("POST", "/v1/requests", strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 500 {
		t.Fatalf("status %d for %q\n%s", res.StatusCode, body, out)
	}
	if ok, why := loadSpec(t).checkResponse(req, res, out); !ok {
		t.Errorf("the answer to %q does not match the document:%s\n%s", body, why, out)
	}
	return req, res, out
}

func mediaType(res *http.Response) string {
	mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	return mt
}

// checkProblem checks an RFC 9457 answer: its status is the answer's and its
// JSON carries no raw markup characters (encoding/json escapes them), so even
// a client that renders it as HTML reads no tags from it.
func checkProblem(t *testing.T, res *http.Response, out []byte) problemBody {
	t.Helper()
	if mt := mediaType(res); mt != "application/problem+json" {
		t.Fatalf("%d answered with %q, want application/problem+json\n%s", res.StatusCode, mt, out)
	}
	p := decodeProblem(t, string(out))
	if p.Status != res.StatusCode || p.Title != http.StatusText(res.StatusCode) || p.Type != "about:blank" {
		t.Errorf("problem %+v does not match status %d", p, res.StatusCode)
	}
	if bytes.ContainsAny(out, "<>") {
		t.Errorf("problem JSON holds raw markup characters: %s", out)
	}
	return p
}

// acceptedOrEmailOnly checks an answer to a request that the document allows:
// it is accepted, or refused only for its email address, the one field whose
// rules (RFC 5322 parsing, a dot in the domain) JSON Schema's "email" format
// does not express, or refused for its size.
func acceptedOrEmailOnly(t *testing.T, res *http.Response, out []byte, fields []apperr.FieldError, body string) {
	t.Helper()
	switch {
	case res.StatusCode == http.StatusAccepted:
	case res.StatusCode == http.StatusRequestEntityTooLarge && len(body) > MaxSubmissionBytes:
	case res.StatusCode == http.StatusBadRequest && len(fields) == 1 && fields[0].Field == "email":
	default:
		t.Errorf("the document allows %q, but the answer is %d\n%s", body, res.StatusCode, out)
	}
}

func FuzzSubmitJSON(f *testing.F) {
	for _, seed := range []string{
		`{"type":"access","email":"ada@example.com","jurisdiction":"EU"}`,
		`{"type":"delete","email":"Ada@Example.com","jurisdiction":"us-ca"}`,
		`{"type":" access ","email":" ada@example.com ","jurisdiction":" UK "}`,
		`{"type":"access","email":"ada@example.com","jurisdiction":"EU","colour":"red"}`,
		`{"type":"access","email":"ada@example.com","jurisdiction":"EU","<script>alert(1)</script>":1}`,
		`{"type":"<script>alert(1)</script>","email":"\"><img src=x onerror=alert(1)>@example.com","jurisdiction":"</option>"}`,
		`{"type":1,"email":true,"jurisdiction":null}`,
		`{"type":{"a":[1,2]},"email":["x"]}`,
		`{"TYPE":"access","Email":"ada@example.com","jurisdiction":"EU"}`,
		`{"type":"access","type":"delete","email":"ada@example.com","jurisdiction":"EU"}`,
		`{"type":"access","email":"ada\u0000@example.com","jurisdiction":"EU"}`,
		`{"type":"access","email":"\ud800@example.com","jurisdiction":"EU"}`,
		"{\"type\":\"access\",\"email\":\"\xff\xfe@example.com\",\"jurisdiction\":\"EU\"}",
		`{"type":"access","email":"a@b","jurisdiction":"EU"}`,
		`{"type":"access","email":"\"a b\"@example.com","jurisdiction":"EU"}`,
		`{"type":"access","email":"Ada <ada@example.com>","jurisdiction":"EU"}`,
		`{}`, `null`, `[]`, `"access"`, `0`, `1e999`, `true`, ``, ` `, `{`, `}`, `{"type":`, `{"type":"access"}{"type":"delete"}`,
		`{"type":"access"} `, `{"type":"access"} x`, "\ufeff{}", `[{"type":"access"}]`,
		`{"type":"access","email":"` + strings.Repeat("a", 300) + `@example.com","jurisdiction":"EU"}`,
		strings.Repeat("[", 10000),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req, res, out := submit(t, "application/json", body)
		var fields []apperr.FieldError
		switch res.StatusCode {
		case http.StatusAccepted:
			if mt := mediaType(res); mt != "application/json" {
				t.Fatalf("202 answered with %q", mt)
			}
			var got portal.Receipt
			if err := json.Unmarshal(out, &got); err != nil || got != fuzzReceipt {
				t.Errorf("receipt = %+v (%v), want %+v", got, err, fuzzReceipt)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			fields = checkProblem(t, res, out).Errors
			for _, fe := range fields {
				if fe.Field == "" || fe.Detail == "" {
					t.Errorf("field error without a field or detail: %+v", fields)
				}
			}
		default:
			t.Fatalf("status %d for %q\n%s", res.StatusCode, body, out)
		}
		if ok, _ := loadSpec(t).checkRequest(req, []byte(body)); ok {
			acceptedOrEmailOnly(t, res, out, fields, body)
		}
	})
}

func FuzzSubmitForm(f *testing.F) {
	enc := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	for _, seed := range []string{
		enc("type", "access", "email", "ada@example.com", "jurisdiction", "EU"),
		enc("type", "delete", "email", "Ada@Example.com", "jurisdiction", "us-ca", "send", ""),
		enc("type", "access", "email", `x"><script>alert(1)</script>`, "jurisdiction", "EU"),
		enc("type", `"><script>alert(1)</script>`, "email", "ada@example.com", "jurisdiction", `</option></select><script>x</script>`),
		enc("type", "access", "email", `" autofocus onfocus="alert(1)`, "jurisdiction", "UK"),
		enc("type", "access", "email", "' onmouseover='alert(1)", "jurisdiction", "UK"),
		enc("type", "access", "email", "a&amp;b&#34;@example.com", "jurisdiction", "UK"),
		enc("type", "access", "email", "line\r\nbreak\rx\x00y@example.com", "jurisdiction", "UK"),
		enc("type", "access", "email", "\xff\xfe@example.com", "jurisdiction", "UK"),
		enc("type", "access", "email", "javascript:alert(1)", "jurisdiction", "UK"),
		enc("type", "access", "type", "delete", "email", "ada@example.com", "jurisdiction", "EU"),
		"type=access&email=ada@example.com&jurisdiction=EU",
		"type=access;email=ada@example.com",
		"type=access&email=%zz&jurisdiction=EU",
		"type=access&email=%&jurisdiction=EU",
		"email", "=", "&&&", "", "%", "+",
		"type=access&email=" + strings.Repeat("a", 300) + "@example.com&jurisdiction=EU",
		"email=" + strings.Repeat("%3C", 6000),
	} {
		f.Add(seed)
	}
	// The page for an accepted request depends on its type and language
	// only: it is compared with the page for a plain request of both.
	acceptedPage := func(t *testing.T, body string) []byte {
		vals, _ := url.ParseQuery(body)
		in, _ := request.Submission{Type: vals.Get("type"), Email: "ada@example.com", Jurisdiction: "EU", Language: vals.Get("language")}.Validate()
		_, _, page := submit(t, "application/x-www-form-urlencoded", enc("type", in.Type, "email", "ada@example.com", "jurisdiction", "EU", "language", in.Language))
		return page
	}
	f.Fuzz(func(t *testing.T, body string) {
		req, res, out := submit(t, "application/x-www-form-urlencoded", body)
		var fields []apperr.FieldError
		switch {
		case res.StatusCode == http.StatusAccepted:
			if mt := mediaType(res); mt != "text/html" {
				t.Fatalf("202 answered with %q", mt)
			}
			if want := acceptedPage(t, body); !bytes.Equal(out, want) {
				t.Errorf("the page for an accepted request depends on the input %q:\n%s", body, out)
			}
		case res.StatusCode == http.StatusBadRequest && mediaType(res) == "text/html":
			fields = checkFormPage(t, body, out)
		case res.StatusCode == http.StatusBadRequest || res.StatusCode == http.StatusRequestEntityTooLarge:
			checkProblem(t, res, out)
		default:
			t.Fatalf("status %d (%s) for %q\n%s", res.StatusCode, mediaType(res), body, out)
		}
		if ok, _ := loadSpec(t).checkRequest(req, []byte(body)); ok {
			acceptedOrEmailOnly(t, res, out, fields, body)
		}
	})
}

// element is one start tag of a page, attributes unescaped as a browser
// reads them.
type element struct {
	tag   string
	attrs map[string]string
	keys  []string // attribute names in order
	text  string   // the text up to the next tag, if it is not closed before
}

func parseElements(t *testing.T, page []byte) []element {
	t.Helper()
	var out []element
	open := -1 // the element whose text is being read
	z := html.NewTokenizer(bytes.NewReader(page))
	for {
		switch z.Next() {
		case html.ErrorToken:
			if !errors.Is(z.Err(), io.EOF) {
				t.Fatalf("page does not tokenize: %v", z.Err())
			}
			return out
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			e := element{tag: tok.Data, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				if _, dup := e.attrs[a.Key]; dup {
					t.Errorf("<%s> has attribute %q twice", tok.Data, a.Key)
				}
				e.attrs[a.Key] = a.Val
				e.keys = append(e.keys, a.Key)
			}
			out = append(out, e)
			open = len(out) - 1
		case html.EndTagToken:
			open = -1
		case html.TextToken:
			if open >= 0 {
				out[open].text += string(z.Text())
			}
		}
	}
}

// shape is a page's markup without the input: each tag with its attribute
// names, in order.
func shape(els []element) []string {
	var s []string
	for _, e := range els {
		s = append(s, e.tag+"["+strings.Join(e.keys, " ")+"]")
	}
	return s
}

// asRead is how a browser reads a string written into an attribute: line
// breaks normalized, NUL replaced (HTML's own rules, not an escape failure).
func asRead(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.ReplaceAll(s, "\x00", "\ufffd")
}

// canonicalBody is a form body with the same errors as vals (the same
// fields wrong, or right) and none of its text: the law when it is valid,
// an offered type when it is, a plain address or none.
func canonicalBody(vals url.Values, e *apperr.Error) string {
	wrong := map[string]bool{}
	for _, f := range e.Fields {
		wrong[f.Field] = true
	}
	c := url.Values{"language": {vals.Get("language")}}
	pick := func(field, good, bad string) {
		if wrong[field] {
			c.Set(field, bad)
		} else {
			c.Set(field, good)
		}
	}
	pick("jurisdiction", strings.ToUpper(strings.TrimSpace(vals.Get("jurisdiction"))), "XX")
	pick("type", strings.TrimSpace(vals.Get("type")), "")
	pick("email", "ada@example.com", "")
	pick("language", vals.Get("language"), "xx")
	return c.Encode()
}

// checkFormPage checks the form shown again for invalid input: its markup is
// that of a plain input with the same errors, whatever the input; the input
// comes back only as the email field's value, exactly as typed, and as the
// choice checked; the summary lists the domain's field errors in the page's
// language, each linked to its field.
func checkFormPage(t *testing.T, body string, page []byte) []apperr.FieldError {
	t.Helper()
	vals, err := url.ParseQuery(body)
	if err != nil {
		t.Fatalf("the form was shown again for an unreadable body %q", body)
	}
	in := request.Submission{Type: vals.Get("type"), Email: vals.Get("email"), Jurisdiction: vals.Get("jurisdiction"), Language: vals.Get("language")}
	_, verr := in.Validate()
	var e *apperr.Error
	if !errors.As(verr, &e) || len(e.Fields) == 0 {
		t.Fatalf("the form was shown again for valid input %+v", in)
	}
	lang, ok := i18n.Parse(in.Language)
	if !ok {
		lang = i18n.English
	}

	_, _, plain := submit(t, "application/x-www-form-urlencoded", canonicalBody(vals, e))
	els := parseElements(t, page)
	// Which choice is checked depends on the input; compare without it.
	uncheck := func(s []string) []string {
		out := slices.Clone(s)
		for i, x := range out {
			out[i] = strings.Replace(x, " checked]", "]", 1)
		}
		return out
	}
	if got, want := shape(els), shape(parseElements(t, plain)); !slices.Equal(uncheck(got), uncheck(want)) {
		t.Fatalf("input %q changed the page's markup:\n got %v\nwant %v\n%s", body, got, want, page)
	}

	lawStep := !slices.Contains(request.Jurisdictions, strings.ToUpper(strings.TrimSpace(in.Jurisdiction)))
	var summary []string
	inSummary := false
	for _, el := range els {
		switch {
		case el.tag == "input" && el.attrs["id"] == "email":
			if el.attrs["value"] != asRead(in.Email) {
				t.Errorf("email field value = %q, want %q as typed", el.attrs["value"], in.Email)
			}
		case el.tag == "input" && el.attrs["type"] == "radio":
			if _, checked := el.attrs["checked"]; checked != (el.attrs["value"] == strings.TrimSpace(in.Type)) {
				t.Errorf("choice %q checked: %v, for input %q", el.attrs["value"], checked, in.Type)
			}
		case el.tag == "div" && el.attrs["class"] == "summary":
			inSummary = true
		case el.tag == "h1":
			inSummary = false
		case inSummary && el.tag == "a":
			summary = append(summary, el.attrs["href"]+" "+el.text)
		case inSummary && el.tag == "li" && strings.TrimSpace(el.text) != "":
			summary = append(summary, strings.TrimSpace(el.text))
		}
	}
	var want []string
	for _, fe := range e.Fields {
		switch {
		case lawStep && fe.Field == "jurisdiction", !lawStep && (fe.Field == "type" || fe.Field == "email"):
			want = append(want, "#"+fe.Field+" "+fe.In(lang))
		case !lawStep:
			want = append(want, fe.In(lang))
		}
	}
	if !slices.Equal(summary, want) {
		t.Errorf("error summary = %q, want %q", summary, want)
	}
	return e.Fields
}
