package webhook

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	secret := []byte(strings.Repeat("k", MinSecretBytes))
	other := []byte(strings.Repeat("o", MinSecretBytes))
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	body := []byte(`{"request_id":"r1"}`)
	good := Sign(secret, at, body)
	cases := []struct {
		name   string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"signed now", good, body, at, nil},
		{"within tolerance, late", good, body, at.Add(Tolerance), nil},
		{"within tolerance, early clock", good, body, at.Add(-Tolerance), nil},
		{"replayed later", good, body, at.Add(Tolerance + time.Second), ErrStale},
		{"from the future", good, body, at.Add(-Tolerance - time.Second), ErrStale},
		{"body changed", good, []byte(`{"request_id":"r2"}`), at, ErrBadSignature},
		{"other secret", Sign(other, at, body), body, at, ErrBadSignature},
		{"no header", "", body, at, ErrNoSignature},
		{"no time", strings.Split(good, ",")[1], body, at, ErrBadSignature},
		{"time moved", strings.Replace(good, "t=", "t=1", 1), body, at, ErrBadSignature},
		{"not hex", "t=1,v1=zz", body, at, ErrBadSignature},
		{"rotation: old and new", good + ",v1=" + strings.Split(Sign(other, at, body), "v1=")[1], body, at, nil},
		{"rotation: neither", Sign(other, at, body) + ",v1=00", body, at, ErrBadSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := Verify(secret, c.header, c.body, c.now); !errors.Is(err, c.want) {
				t.Errorf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}
