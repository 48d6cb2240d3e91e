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
