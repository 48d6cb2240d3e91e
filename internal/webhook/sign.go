// Package webhook calls the company's own HTTPS endpoints: webhook sources
// (systems that find or erase a subject's data when asked) and recipients
// told of an erasure or a correction. Every call and every answer is signed
// with a secret the two sides share: an HMAC-SHA256 over a timestamp and the
// body, so neither side acts on a message the other did not send, nor on an
// old one replayed.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries a message's signature: "t=UNIX_SECONDS,v1=HEX",
// where HEX is HMAC-SHA256(secret, "UNIX_SECONDS." + body).
const SignatureHeader = "Privacy-Signature"

// Tolerance is how far a signature's time may lie from the receiver's clock,
// either way: a message older than that is refused as a replay.
const Tolerance = 5 * time.Minute

// MinSecretBytes is the shortest secret accepted: 256 bits.
const MinSecretBytes = 32

// Sign returns the signature header's value for body sent at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Reasons a signature is refused. None says more than which check failed.
var (
	ErrNoSignature  = errors.New("the message is not signed")
	ErrBadSignature = errors.New("the signature does not match the message")
	ErrStale        = errors.New("the signature's time is outside the tolerance: an old message, or a clock far off")
)

// Verify checks header (the SignatureHeader value) against body: a v1
// signature by secret, made within Tolerance of now. Several v1 values are
// accepted, so a secret can be rotated while both are in use. The
// comparison takes constant time.
func Verify(secret []byte, header string, body []byte, now time.Time) error {
	if header == "" {
		return ErrNoSignature
	}
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrBadSignature
	}
	want := mac(secret, ts, body)
	ok := false
	for _, s := range sigs {
		ok = hmac.Equal(s, want) || ok
	}
	if !ok {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > Tolerance || d < -Tolerance {
		return ErrStale
	}
	return nil
}
