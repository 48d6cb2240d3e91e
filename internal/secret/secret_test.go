package secret

import "testing"

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
