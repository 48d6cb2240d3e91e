// Package apperr is the one error model of the project. Every error that
// reaches a client or a workflow carries a Kind; adapters translate their own
// failures into it, and the HTTP layer maps Kinds to status codes in one place.
//
// Messages in an *Error are written for the person on the other end: they never
// contain personal data or the text of an underlying SDK error.
package apperr

import (
	"errors"
	"fmt"
	"time"

	"github.com/privacy-pipeline/dsr/internal/i18n"
)

// Kind classifies an error by what the caller can do about it.
type Kind int

const (
	Internal    Kind = iota // a fault of ours; the caller can only retry later
	Invalid                 // the input is wrong; FieldErrors say where
	NotFound                // no such thing, or the caller may not know it exists
	Conflict                // the state does not allow it (already used, already closed)
	Forbidden               // the caller has no right to it
	TooLarge                // the input exceeds a size limit
	Unsupported             // unsupported media type
	RateLimited             // too many requests
	Unavailable             // a dependency is temporarily unavailable
)

func (k Kind) String() string {
	switch k {
	case Invalid:
		return "invalid"
	case NotFound:
		return "not found"
	case Conflict:
		return "conflict"
	case Forbidden:
		return "forbidden"
	case TooLarge:
		return "too large"
	case Unsupported:
		return "unsupported"
	case RateLimited:
		return "rate limited"
	case Unavailable:
		return "unavailable"
	default:
		return "internal"
	}
}

// FieldError names one input field and what is wrong with it.
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
	// Key and Args name Detail's text in the message catalogue, so a page
	// can say it in the reader's language; Detail is the English text.
	Key  string   `json:"-"`
	Args []string `json:"-"`
}

// Field builds a FieldError from a catalogue key and its placeholder
// values (name, value pairs).
func Field(field, key string, args ...string) FieldError {
	return FieldError{Field: field, Detail: i18n.English.T(key, args...), Key: key, Args: args}
}

// In returns the detail in language l: the catalogue's text where the
// error has a key, else the English detail.
func (f FieldError) In(l i18n.Lang) string {
	if f.Key == "" {
		return f.Detail
	}
	return l.T(f.Key, f.Args...)
}

// Error is an error with a Kind, a safe message and an optional cause that is
// kept for logs of our own and never shown to clients.
type Error struct {
	Kind   Kind
	Msg    string
	Fields []FieldError
	// RetryAfter, when set, says how long a RateLimited or Conflict caller
	// should wait before trying again.
	RetryAfter time.Duration
	Err        error
	// Key names Msg in the message catalogue, as FieldError.Key does.
	Key string
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Kind, e.Msg, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an *Error.
func E(kind Kind, msg string) *Error { return &Error{Kind: kind, Msg: msg} }

// Keyed builds an *Error whose message is the catalogue's text of key.
func Keyed(kind Kind, key string) *Error {
	return &Error{Kind: kind, Msg: i18n.English.T(key), Key: key}
}

// In returns the message in language l, as FieldError.In does.
func (e *Error) In(l i18n.Lang) string {
	if e.Key == "" {
		return e.Msg
	}
	return l.T(e.Key)
}

// Wrap builds an *Error that keeps err as its cause.
func Wrap(kind Kind, msg string, err error) *Error { return &Error{Kind: kind, Msg: msg, Err: err} }

// InvalidFields builds an Invalid error with field-level details.
func InvalidFields(fields ...FieldError) *Error {
	return &Error{Kind: Invalid, Msg: i18n.English.T("error.request"), Key: "error.request", Fields: fields}
}

// KindOf reports the Kind of err: that of the outermost *Error in its chain,
// Internal when there is none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err has the given kind.
func Is(err error, kind Kind) bool { return err != nil && KindOf(err) == kind }
