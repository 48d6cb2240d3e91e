package registry

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseKeyTemplate(t *testing.T) {
	tests := []struct {
		in, want, static string
		ids              []string
	}{
		{"users/{user_id}/", "", "users/", []string{"user_id"}},
		{"{user_id}/", "", "", []string{"user_id"}},
		{"tenant=acme/user={user_id}/exports/", "", "tenant=acme/user=", []string{"user_id"}},
		{"accounts/{account_id}/users/{user_id}/", "", "accounts/", []string{"account_id", "user_id"}},
		{"a/{user_id}/b/{user_id}/", "", "a/", []string{"user_id"}},
		{"", "is empty", "", nil},
		{"/users/{user_id}/", "must not start with /", "", nil},
		{"users/", "has no placeholder", "", nil},
		{"users/{user_id}", "must have / right after {user_id}", "", nil},
		{"users/{user_id}.json", "must have / right after {user_id}", "", nil},
		{"users/{user_id}{email}/", "must have / right after {user_id}", "", nil},
		{"users/{User}/", "placeholder {User} that is not an identity name", "", nil},
		{"users/{}/", "placeholder {} that is not", "", nil},
		{"users/{user_id/", "has a { without }", "", nil},
		{"users/{user_id", "has a { without }", "", nil},
		{"../{user_id}/", "must not hold . or ..", "", nil},
		{"users/../{user_id}/", "must not hold . or ..", "", nil},
		{"users/./{user_id}/", "must not hold . or ..", "", nil},
		{"a..b/{user_id}/", "must not hold . or ..", "", nil},
		{"users//{user_id}/", "empty folder", "", nil},
		{"users/{user_id}//", "empty folder", "", nil},
		{"users}/{user_id}/", `has "}" outside a placeholder`, "", nil},
		{"us ers/{user_id}/", `has " " outside a placeholder`, "", nil},
		{"users\\{user_id}/", `has "\\" outside a placeholder`, "", nil},
		{"users\n/{user_id}/", `has "\n" outside a placeholder`, "", nil},
		{"users%2F/{user_id}/", `has "%" outside a placeholder`, "", nil},
		{"usérs/{user_id}/", `has "\xc3" outside a placeholder`, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			k, err := ParseKeyTemplate(tt.in)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.String() != tt.in || k.Static() != tt.static || !slices.Equal(k.Identities(), tt.ids) {
				t.Fatalf("%q: static %q identities %v", k.String(), k.Static(), k.Identities())
			}
		})
	}
}

// TestEscapeKeyValue: values an attacker could place in a source (a user id
// is whatever a sign-up form or an import wrote) never climb out of their
// folder, never name another subject's folder and never go into a key raw.
func TestEscapeKeyValue(t *testing.T) {
	tests := []struct {
		name, in, want string // want "" = refused
	}{
		{"user id", "u-1001", "u-1001"},
		{"email", "jane.doe+news@example.com", "jane.doe+news@example.com"},
		{"uuid", "0b6f6a52-9c1e-4c55-9d0e-3b1f0e6c1a2b", "0b6f6a52-9c1e-4c55-9d0e-3b1f0e6c1a2b"},
		{"space", "Jane Doe", "Jane%20Doe"},
		{"percent is escaped too", "a%2Fb", "a%252Fb"},
		{"query and fragment", "a?b#c&d", "a%3Fb%23c%26d"},
		{"braces", "{user_id}", "%7Buser_id%7D"},
		{"non-ASCII", "zoë", "zo%C3%AB"},
		{"colon", "c:x", "c%3Ax"},
		{"single dot inside", "a.b", "a.b"},
		{"leading dot", ".hidden", ".hidden"},
		{"empty", "", ""},
		{"slash", "u-1/../../admin", ""},
		{"only slash", "/", ""},
		{"dot dot", "..", ""},
		{"dot dot inside", "a..b", ""},
		{"dot", ".", ""},
		{"backslash", `..\x`, ""},
		{"backslash alone", `a\b`, ""},
		{"NUL", "u-1\x00", ""},
		{"newline", "u-1\nX-Header: 1", ""},
		{"tab", "u\t1", ""},
		{"DEL", "u\x7f", ""},
		{"C1 control", "u\u0085", ""},
		{"bidi override", "u\u202e1", ""},
		{"zero-width", "u\u200b1", ""},
		{"invalid UTF-8", "u\xff", ""},
		{"too long", strings.Repeat("a", 257), ""},
		{"longest", strings.Repeat("a", 256), strings.Repeat("a", 256)},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EscapeKeyValue(tt.in)
			if tt.want == "" {
				if !errors.Is(err, ErrKeyValue) || got != "" {
					t.Fatalf("EscapeKeyValue(%q) = %q, %v; want it refused", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("EscapeKeyValue(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			if strings.ContainsAny(got, "/\\") || strings.IndexFunc(got, func(r rune) bool { return r < ' ' || r > '~' }) >= 0 {
				t.Fatalf("%q holds a separator or a byte outside printable ASCII", got)
			}
			if other, ok := seen[got]; ok && other != tt.in {
				t.Fatalf("%q and %q escape alike", tt.in, other)
			}
			seen[got] = tt.in
		})
	}
}

func TestSubjectPrefixes(t *testing.T) {
	src := &S3Source{Prefix: "exports/", KeyTemplate: "accounts/{account_id}/users/{user_id}/"}
	tmpl, err := ParseKeyTemplate(src.KeyTemplate)
	if err != nil {
		t.Fatal(err)
	}
	src.template = tmpl
	tests := []struct {
		name    string
		ids     map[string][]string
		want    []string
		refused bool
	}{
		{"one each", map[string][]string{"account_id": {"a1"}, "user_id": {"u1"}}, []string{"exports/accounts/a1/users/u1/"}, false},
		{"every combination, once", map[string][]string{"account_id": {"a2", "a1", "a2"}, "user_id": {"u1", "u2"}},
			[]string{"exports/accounts/a1/users/u1/", "exports/accounts/a1/users/u2/", "exports/accounts/a2/users/u1/", "exports/accounts/a2/users/u2/"}, false},
		{"an identity missing", map[string][]string{"account_id": {"a1"}}, nil, false},
		{"escaped", map[string][]string{"account_id": {"a 1"}, "user_id": {"u@x"}}, []string{"exports/accounts/a%201/users/u@x/"}, false},
		{"hostile value", map[string][]string{"account_id": {"a1"}, "user_id": {"../../secrets"}}, nil, true},
		{"empty value", map[string][]string{"account_id": {"a1"}, "user_id": {""}}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := src.SubjectPrefixes(tt.ids)
			if tt.refused {
				if !errors.Is(err, ErrKeyValue) {
					t.Fatalf("got %v, %v; want ErrKeyValue", got, err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	if got, _ := (&S3Source{Prefix: "events/"}).SubjectPrefixes(nil); !slices.Equal(got, []string{"events/"}) {
		t.Fatalf("a source without a template scans its prefix, got %v", got)
	}
}

func TestParseKeyTemplateSource(t *testing.T) {
	tmpl := func(block string) string {
		return strings.Replace(valid, "      prefix: events/\n      format: jsonl\n      match:\n        - {field: user_id, identity: user_id}\n", block, 1)
	}
	r, err := Parse([]byte(tmpl("      prefix: exports/\n      key_template: users/{user_id}/\n      format: json\n")))
	if err != nil {
		t.Fatal(err)
	}
	s := r.Source("events")
	if !s.S3.Templated() || s.S3.ListPrefix() != "exports/users/" || !slices.Equal(s.LookupIdentities(), []string{"user_id"}) {
		t.Fatalf("templated %v list prefix %q lookup %v", s.S3.Templated(), s.S3.ListPrefix(), s.LookupIdentities())
	}
	tests := []struct{ name, block, want string }{
		{"unknown identity", "      key_template: users/{phone}/\n      format: json\n", `line 24: $.sources[2].s3.key_template: placeholder {phone} is not an identity`},
		{"bad form", "      key_template: users/{user_id}\n      format: json\n", `key_template "users/{user_id}" must have / right after {user_id}`},
		{"with match", "      key_template: users/{user_id}/\n      format: json\n      match: [{field: user_id, identity: user_id}]\n", "leave out match"},
		{"neither", "      prefix: x/\n      format: json\n", "list the fields that identify the subject's rows, or give a key_template"},
		{"prefix without slash", "      prefix: exports\n      key_template: users/{user_id}/\n      format: json\n", `prefix "exports" must end with /`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tmpl(tt.block)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}
