package secret

import (
	"strings"
	"testing"
)

func TestNewTokenIsUniqueAndLongEnough(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok := NewToken()
		if len(tok) < 43 {
			t.Fatalf("token length %d < 43", len(tok))
		}
		if seen[tok] {
			t.Fatal("duplicate token")
		}
		seen[tok] = true
	}
}

func TestMatches(t *testing.T) {
	tok := NewToken()
	tests := []struct {
		name   string
		token  string
		stored string
		want   bool
	}{
		{"right token", tok, Hash(tok), true},
		{"other token", NewToken(), Hash(tok), false},
		{"empty stored hash", "", "", false},
		{"token equal to its hash", Hash(tok), Hash(tok), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Matches(tt.token, tt.stored); got != tt.want {
				t.Errorf("Matches() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNewCode(t *testing.T) {
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 2000 {
		c := NewCode()
		if len(c) != CodeLength || NormalizeCode(c) != c {
			t.Fatalf("code %q is not a normalized %d-character code", c, CodeLength)
		}
		if seen[c] {
			t.Fatalf("duplicate code %q", c)
		}
		seen[c] = true
		for _, r := range c {
			counts[r]++
		}
	}
	// 16,000 characters over 26 letters: about 615 each. A character
	// missing or drawn twice as often would mean a broken draw.
	for _, r := range CodeAlphabet {
		if n := counts[r]; n < 400 || n > 850 {
			t.Errorf("character %q drawn %d times in 16000", r, n)
		}
	}
}

func TestNormalizeCode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"BCDF2345", "BCDF2345"},
		{"bcdf-2345", "BCDF2345"},
		{" bcdf 2345 ", "BCDF2345"},
		{"BCDF-234", ""},       // too short
		{"BCDF-23456", ""},     // too long
		{"BCDF-2340", ""},      // 0 is not in the alphabet
		{"BCDO-2345", ""},      // nor O
		{"BCDF-234\u00e9", ""}, // nor anything outside ASCII
		{"", ""},
		{strings.Repeat(" ", 100) + "BCDF2345", ""}, // too much to read
	}
	for _, tt := range tests {
		if got := NormalizeCode(tt.in); got != tt.want {
			t.Errorf("NormalizeCode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := FormatCode("BCDF2345"); got != "BCDF-2345" {
		t.Errorf("FormatCode = %q", got)
	}
}

func TestCodeMatches(t *testing.T) {
	const id, other = "dsr-20260101-aaaaaaaaaaaaaaaa", "dsr-20260101-bbbbbbbbbbbbbbbb"
	code := NewCode()
	stored := CodeHash(id, code)
	tests := []struct {
		name, id, typed, stored string
		want                    bool
	}{
		{"right code", id, code, stored, true},
		{"typed in lower case with a hyphen", id, strings.ToLower(FormatCode(code)), stored, true},
		{"another request's code", other, code, stored, false},
		{"code of this request on another", id, code, CodeHash(other, code), false},
		{"wrong code", id, "BBBBBBBB", stored, false},
		{"empty stored hash", id, code, "", false},
		{"empty code against the hash of empty", id, "", CodeHash(id, ""), false},
		{"the hash itself", id, stored, stored, false},
		{"a token's hash", id, code, Hash(code), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CodeMatches(tt.id, tt.typed, tt.stored); got != tt.want {
				t.Errorf("CodeMatches() = %v, want %v", got, tt.want)
			}
		})
	}
}
