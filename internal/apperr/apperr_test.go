package apperr

import (
	"errors"
	"fmt"
	"testing"
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
		{"fields", InvalidFields(FieldError{"email", "Enter an email address."}), Invalid},
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
