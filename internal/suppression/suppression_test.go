package suppression

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/request"
)

func TestSubjectKey(t *testing.T) {
	// The documented recipe, computed independently.
	sum := sha256.Sum256([]byte("suppression:jane.doe@example.com"))
	want := hex.EncodeToString(sum[:])
	for _, email := range []string{"jane.doe@example.com", " Jane.Doe@Example.COM\t"} {
		if got := SubjectKey(email); got != want {
			t.Errorf("SubjectKey(%q) = %s, want %s", email, got, want)
		}
	}
	if SubjectKey("john@example.com") == want {
		t.Error("two addresses share a key")
	}
	// A known value (printf 'suppression:a@b.co' | sha256sum), so a change
	// of the recipe cannot pass unnoticed: the company's systems depend on it.
	if got := SubjectKey("A@B.co"); got != "d0876c7e6a6bccb6ea2c454f9427fa17d60a3d8fd61b2f463d41a0987e1cafa7" {
		t.Errorf("SubjectKey(A@B.co) = %s", got)
	}
}

func TestFlagFor(t *testing.T) {
	tests := []struct {
		typ  request.Type
		want Flag
		ok   bool
	}{
		{request.OptOut, OptOutSaleSharing, true},
		{request.Limit, LimitSensitive, true},
		{request.Restrict, RestrictProcessing, true},
		{request.Object, Object, true},
		{request.Access, "", false},
		{request.Delete, "", false},
	}
	for _, tt := range tests {
		got, ok := FlagFor(tt.typ)
		if got != tt.want || ok != tt.ok {
			t.Errorf("FlagFor(%s) = %q, %v; want %q, %v", tt.typ, got, ok, tt.want, tt.ok)
		}
	}
	if len(flagOf) != len(Flags) {
		t.Errorf("%d types set flags, %d flags exist", len(flagOf), len(Flags))
	}
}
