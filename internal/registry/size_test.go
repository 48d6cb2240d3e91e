package registry

import (
	"strings"
	"testing"
)

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1048576", 1 << 20, true},
		{"250 GB", 250e9, true},
		{"1.5TiB", 3 << 39, true},
		{"12 mb", 12e6, true},
		{"", 0, false},
		{"10 parsecs", 0, false},
		{"-5 GB", 0, false},
		{"9 PiB", 9 << 50, true},
		{"2000 PB", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseBytes(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestSizeIsChecked(t *testing.T) {
	const head = "identities: [email]\nsources:\n  - id: logs\n    description: Web logs\n    categories: [internet_activity]\n    purposes: [Security.]\n    retention: {period: 90 days}\n    recipients: []\n    erasure: delete\n    s3: {bucket: logs, format: jsonl, match: [{field: email, identity: email}], "
	if _, err := Parse([]byte(head + "size: {bytes: 2 TB, objects: 40000}}\n")); err != nil {
		t.Fatalf("a size: %v", err)
	}
	for in, want := range map[string]string{
		"size: {bytes: lots, objects: 4}}\n": "size.bytes",
		"size: {bytes: 2 TB}}\n":             "size.objects",
		"size: {bytes: 2 TB, files: 3}}\n":   "files",
	} {
		if _, err := Parse([]byte(head + in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming %s", in, err, want)
		}
	}
}
