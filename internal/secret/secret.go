// Package secret makes the unguessable tokens that authorize a subject (status,
// verification and download links) and checks them without leaking timing.
// Only hashes of tokens are stored.
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// tokenBytes gives 256 bits of entropy per token.
const tokenBytes = 32

// NewToken returns a fresh URL-safe random token.
func NewToken() string {
	b := make([]byte, tokenBytes)
	// crypto/rand.Read never fails on supported platforms (Go 1.24+).
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hash returns the hex SHA-256 of a token, the form in which tokens are stored.
// Tokens carry 256 bits of entropy, so a fast hash is enough: there is nothing
// to brute-force as there would be with a password.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Matches reports in constant time whether token hashes to storedHash.
// An empty stored hash never matches (the token was used or never issued).
func Matches(token, storedHash string) bool {
	want := Hash(token)
	ok := subtle.ConstantTimeCompare([]byte(want), []byte(storedHash)) == 1
	return ok && storedHash != ""
}

// CodeAlphabet holds the characters of confirmation codes: digits and
// consonants without the look-alikes 0/O, 1/I/L and U/V, so a code read
// from a phone and typed on a laptop comes out right and spells no word.
const CodeAlphabet = "23456789BCDFGHJKMNPQRSTWXZ"

// CodeLength is the number of characters in a code: 26^8 ≈ 2·10^11
// possibilities (37 bits). A code is only as strong as the limit on wrong
// attempts that guards it; it is never the only secret of a link.
const CodeLength = 8

// NewCode returns a fresh confirmation code of CodeLength characters, each
// drawn uniformly from CodeAlphabet.
func NewCode() string {
	out := make([]byte, 0, CodeLength)
	b := make([]byte, 1)
	// 234 is the largest multiple of 26 below 256: rejecting bytes at or
	// above it keeps every character equally likely.
	const limit = 256 - 256%len(CodeAlphabet)
	for len(out) < CodeLength {
		_, _ = rand.Read(b)
		if int(b[0]) < limit {
			out = append(out, CodeAlphabet[int(b[0])%len(CodeAlphabet)])
		}
	}
	return string(out)
}

// FormatCode writes a code the way mails show it: two groups of four.
func FormatCode(code string) string {
	if len(code) != CodeLength {
		return code
	}
	return code[:4] + "-" + code[4:]
}

// NormalizeCode turns what a person typed into the stored form: upper case,
// without spaces or hyphens. Anything that cannot be a code gives "".
func NormalizeCode(s string) string {
	if len(s) > 4*CodeLength { // bound the work on hostile input
		return ""
	}
	out := make([]byte, 0, CodeLength)
	for _, c := range []byte(s) {
		switch {
		case c == ' ' || c == '-' || c == '\t':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		out = append(out, c)
	}
	if len(out) != CodeLength {
		return ""
	}
	for _, c := range out {
		if !strings.ContainsRune(CodeAlphabet, rune(c)) {
			return ""
		}
	}
	return string(out)
}

// CodeHash returns the stored form of a request's confirmation code. The
// request id is part of the hash, so a code is worth nothing on another
// request and no table of hashes serves two requests. A code has far fewer
// bits than a token: what keeps it safe is that it expires with the link and
// that wrong attempts lock the request, not the hash.
func CodeHash(requestID, code string) string {
	sum := sha256.Sum256([]byte("dsr-code\x00" + requestID + "\x00" + code))
	return hex.EncodeToString(sum[:])
}

// CodeMatches reports in constant time whether code, as typed, is the code
// of the request whose stored code hash is storedHash. An empty stored hash
// never matches.
func CodeMatches(requestID, typed, storedHash string) bool {
	want := CodeHash(requestID, NormalizeCode(typed))
	ok := subtle.ConstantTimeCompare([]byte(want), []byte(storedHash)) == 1
	return ok && storedHash != "" && NormalizeCode(typed) != ""
}
