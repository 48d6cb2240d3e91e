package apperr

import (
	"errors"
	"fmt"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/i18n"
)

func TestKindOf(t *testing.T) {
	cause := errors.New("sdk: connection reset")
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{"plain error is internal", cause, Internal},
		{"nil-free kind", E(NotFound, "No such request."), NotFound},
		{"wrapped keeps kind", fmt.Errorf("loading: %w", E(Conflict, "Already used.")), Conflict},
		{"wrap with cause", Wrap(Unavailable, "Storage is unavailable.", cause), Unavailable},
		{"fields", InvalidFields(FieldError{Field: "email", Detail: "Enter an email address."}), Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KindOf(tt.err); got != tt.want {
				t.Errorf("KindOf() = %v, want %v", got, tt.want)
			}
			if !Is(tt.err, tt.want) {
				t.Errorf("Is(%v) = false", tt.want)
			}
		})
	}
}

func TestWrapKeepsCauseForErrorsIs(t *testing.T) {
	cause := errors.New("boom")
	err := Wrap(Internal, "Internal error.", cause)
	if !errors.Is(err, cause) {
		t.Fatal("errors.Is does not find the cause")
	}
	if Is(nil, Internal) {
		t.Fatal("nil must not have a kind")
	}
}

// TestLanguages: an error built from a catalogue key speaks English to API
// clients and the reader's language on pages; one without a key keeps its
// English text everywhere.
func TestLanguages(t *testing.T) {
	tests := []struct {
		name        string
		english, de string
		got         func(l i18n.Lang) string
	}{
		{"keyed field", "Enter your email address.", "Geben Sie Ihre E-Mail-Adresse ein.",
			func(l i18n.Lang) string { return Field("email", "error.email.required").In(l) }},
		{"field with placeholder", "Choose one of: access, delete.", "Wählen Sie eine der folgenden Arten: access, delete.",
			func(l i18n.Lang) string {
				return Field("type", "error.type.unsupported", "types", "access, delete").In(l)
			}},
		{"plain field", "Unknown field.", "Unknown field.",
			func(l i18n.Lang) string { return FieldError{Field: "x", Detail: "Unknown field."}.In(l) }},
		{"keyed error", "Internal error.", "Interner Fehler.",
			func(l i18n.Lang) string { return Keyed(Internal, "error.internal").In(l) }},
		{"plain error", "Already used.", "Already used.",
			func(l i18n.Lang) string { return E(Conflict, "Already used.").In(l) }},
	}
	for _, tt := range tests {
		if got := tt.got(i18n.English); got != tt.english {
			t.Errorf("%s in English: %q, want %q", tt.name, got, tt.english)
		}
		if got := tt.got(i18n.German); got != tt.de {
			t.Errorf("%s in German: %q, want %q", tt.name, got, tt.de)
		}
	}
	if f := Field("type", "error.type.unsupported", "types", "access"); f.Detail != "Choose one of: access." {
		t.Errorf("Detail is %q, want the English text", f.Detail)
	}
}
