package registry

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A key template names, per subject, the S3 "folder" that holds only that
// subject's objects: "users/{user_id}/" resolves, for user id u-1001, to
// "users/u-1001/", and every object under it is the subject's.
//
// Two rules make a resolved prefix belong to one subject only and stay under
// the source's prefix:
//   - every placeholder is followed by "/", so a value is always a whole
//     segment's end: "users/{user_id}/" for u-1 cannot reach "users/u-10/";
//   - a value never holds "/", "..", control characters or invalid UTF-8,
//     is never empty, and is escaped (EscapeKeyValue), so it cannot climb out
//     of its segment or stand for another value.

// KeyTemplate is a parsed key_template.
type KeyTemplate struct {
	parts []templatePart
}

type templatePart struct {
	text     string // static text, or
	identity string // a placeholder's identity
}

// keyTemplateText are the characters allowed in a template's static text.
const keyTemplateText = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.=/"

// ParseKeyTemplate parses a template such as "users/{user_id}/". Known
// identities are checked by the registry; this checks the form.
func ParseKeyTemplate(s string) (KeyTemplate, error) {
	var t KeyTemplate
	if s == "" {
		return t, errors.New("is empty")
	}
	if strings.HasPrefix(s, "/") {
		return t, errors.New("must not start with /")
	}
	for rest := s; rest != ""; {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			open = len(rest)
		}
		if text := rest[:open]; text != "" {
			if i := strings.IndexFunc(text, func(r rune) bool { return !strings.ContainsRune(keyTemplateText, r) }); i >= 0 {
				return t, fmt.Errorf("has %q outside a placeholder; use letters, digits and - _ . = /", text[i:i+1])
			}
			t.parts = append(t.parts, templatePart{text: text})
			rest = rest[open:]
			continue
		}
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return t, errors.New("has a { without }")
		}
		name := rest[1:end]
		if !identityPattern.MatchString(name) {
			return t, fmt.Errorf("has a placeholder {%s} that is not an identity name", name)
		}
		rest = rest[end+1:]
		if !strings.HasPrefix(rest, "/") {
			return t, fmt.Errorf("must have / right after {%s}, so a value is a whole folder name (users/{%s}/)", name, name)
		}
		t.parts = append(t.parts, templatePart{identity: name})
	}
	if len(t.Identities()) == 0 {
		return t, errors.New("has no placeholder; use prefix for a fixed folder")
	}
	for _, seg := range strings.Split(t.String(), "/") {
		if seg == "." || seg == ".." || strings.Contains(seg, "..") {
			return t, errors.New("must not hold . or .. (a folder . or .., or .. anywhere)")
		}
	}
	if strings.Contains(t.String(), "//") {
		return t, errors.New("must not hold an empty folder (//)")
	}
	return t, nil
}

// String is the template as written.
func (t KeyTemplate) String() string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.identity != "" {
			b.WriteString("{" + p.identity + "}")
		} else {
			b.WriteString(p.text)
		}
	}
	return b.String()
}

// Identities are the identity kinds the template's placeholders name, once each.
func (t KeyTemplate) Identities() []string {
	var ids []string
	for _, p := range t.parts {
		if p.identity != "" && !slices.Contains(ids, p.identity) {
			ids = append(ids, p.identity)
		}
	}
	return ids
}

// Static is the text before the first placeholder: every resolved prefix
// starts with it.
func (t KeyTemplate) Static() string {
	if len(t.parts) > 0 && t.parts[0].identity == "" {
		return t.parts[0].text
	}
	return ""
}

// Resolve fills the placeholders with one value per identity, each checked
// and escaped by EscapeKeyValue.
func (t KeyTemplate) Resolve(values map[string]string) (string, error) {
	var b strings.Builder
	for _, p := range t.parts {
		if p.identity == "" {
			b.WriteString(p.text)
			continue
		}
		v, ok := values[p.identity]
		if !ok {
			return "", fmt.Errorf("no value for {%s}", p.identity)
		}
		e, err := EscapeKeyValue(v)
		if err != nil {
			return "", err
		}
		b.WriteString(e)
	}
	return b.String(), nil
}

// ErrKeyValue is returned for an identity value that cannot be part of an S3
// key. The value itself is never in the error: it is personal data.
var ErrKeyValue = errors.New("an identity value cannot be part of an S3 key")

// maxKeyValue bounds one value in a key (S3 keys are at most 1024 bytes).
const maxKeyValue = 256

// EscapeKeyValue returns v as it goes into a key. Values that are empty, hold
// "/", "\", "..", control characters or invalid UTF-8, or are longer than 256
// bytes are refused (ErrKeyValue). Letters, digits and - _ . ~ @ + = , ! * ' ( )
// stay as they are (an email address or a UUID is unchanged); every other
// byte becomes %XX (upper-case hex), "%" included, so two different values
// never give the same key.
func EscapeKeyValue(v string) (string, error) {
	switch {
	case v == "", len(v) > maxKeyValue, !utf8.ValidString(v),
		strings.ContainsAny(v, `/\`), strings.Contains(v, ".."), v == ".",
		strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0:
		return "", ErrKeyValue
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < utf8.RuneSelf && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~@+=,!*'()", c) >= 0) {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String(), nil
}
