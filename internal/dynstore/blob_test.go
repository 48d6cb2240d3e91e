package dynstore

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestPackUnpack(t *testing.T) {
	random := func(n int) []byte {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return []byte(hex.EncodeToString(b))
	}
	tests := []struct {
		name   string
		value  []byte
		chunks int
	}{
		{"empty", nil, 1},
		{"small", []byte(`{"sources":[]}`), 1},
		{"compresses into one", []byte(strings.Repeat(`{"key":"x","action":"deleted"},`, 100_000)), 1},
		{"several chunks", random(1_000_000), 3}, // 2 MB of hex is about 1.05 MB compressed
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chunks, err := pack(tt.value)
			if err != nil {
				t.Fatal(err)
			}
			if len(chunks) < tt.chunks-1 || len(chunks) > tt.chunks+1 {
				t.Errorf("%d chunks, want about %d", len(chunks), tt.chunks)
			}
			for i, c := range chunks {
				if len(c) > chunkBytes || len(c) == 0 {
					t.Errorf("chunk %d has %d bytes", i, len(c))
				}
			}
			got, err := unpack(chunks)
			if err != nil || !bytes.Equal(got, tt.value) {
				t.Fatalf("unpack: %d bytes, %v; want the %d packed", len(got), err, len(tt.value))
			}
		})
	}
}

func TestPackTooLarge(t *testing.T) {
	b := make([]byte, (maxChunks+1)*chunkBytes)
	_, _ = rand.Read(b) // incompressible
	if _, err := pack(b); !errors.Is(err, errTooLarge) {
		t.Fatalf("err %v, want errTooLarge", err)
	}
}

func TestUnpackRejects(t *testing.T) {
	if _, err := unpack([][]byte{[]byte("not gzip")}); err == nil {
		t.Fatal("unpacked garbage")
	}
	chunks, _ := pack(make([]byte, 1000))
	if _, err := unpack([][]byte{chunks[0][:len(chunks[0])-5]}); err == nil {
		t.Fatal("unpacked a truncated value")
	}
}
