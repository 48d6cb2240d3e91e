package registry

import (
	"strings"
	"testing"
)

const valid = `
identities: [email, user_id]
sources:
  - id: users
    dynamodb: {table: demo-users, index: email-index, partition_key: email, identity: email}
    provides: {user_id: user_id}
    erasure: delete
  - id: orders
    dynamodb: {table: demo-orders, partition_key: user_id, identity: user_id}
    erasure: delete
  - id: events
    s3:
      bucket: demo-events
      prefix: events/
      format: jsonl
      match:
        - {field: user_id, identity: user_id}
    erasure: delete
`

func TestParseValid(t *testing.T) {
	r, err := Parse([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.IDs(), ","); got != "users,orders,events" {
		t.Fatalf("IDs() = %s", got)
	}
	if r.Source("orders").Kind() != "dynamodb" || r.Source("events").Kind() != "s3" {
		t.Fatal("wrong kinds")
	}
	if r.Source("nope") != nil {
		t.Fatal("Source(nope) should be nil")
	}
}

func TestParseS3Formats(t *testing.T) {
	tests := []struct {
		format, compression string
	}{
		{"jsonl", ""},
		{"jsonl", "gzip"},
		{"csv", ""},
		{"csv", "gzip"},
		{"json", ""},
		{"json", "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.format+"/"+tt.compression, func(t *testing.T) {
			y := strings.Replace(valid, "format: jsonl", "format: "+tt.format, 1)
			if tt.compression != "" {
				y = strings.Replace(y, "format: "+tt.format, "format: "+tt.format+"\n      compression: "+tt.compression, 1)
			}
			r, err := Parse([]byte(y))
			if err != nil {
				t.Fatal(err)
			}
			s3 := r.Source("events").S3
			if s3.Format != tt.format || s3.Compression != tt.compression {
				t.Fatalf("format %q compression %q, want %q %q", s3.Format, s3.Compression, tt.format, tt.compression)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // a fragment of the error, including the line where it matters
	}{
		{"unknown key", strings.Replace(valid, "erasure: delete\n  - id: orders", "erasure: delete\n    colour: red\n  - id: orders", 1), "colour"},
		{"undeclared identity", strings.Replace(valid, "identity: user_id}\n    erasure", "identity: phone}\n    erasure", 1), "line 9: $.sources[1].dynamodb.identity: identity \"phone\""},
		{"unreachable", strings.Replace(valid, "    provides: {user_id: user_id}\n", "", 1), "cannot be reached"},
		{"duplicate id", strings.Replace(valid, "id: orders", "id: users", 1), "used twice"},
		{"prefix escapes", strings.Replace(valid, "prefix: events/", "prefix: ../secrets/", 1), "must not start with / or contain .."},
		{"bad format", strings.Replace(valid, "format: jsonl", "format: xml", 1), "line 15: $.sources[2].s3.format: format \"xml\" is not supported; use one of jsonl, csv, json"},
		{"format upper case", strings.Replace(valid, "format: jsonl", "format: CSV", 1), "line 15: $.sources[2].s3.format: format \"CSV\""},
		{"no format", strings.Replace(valid, "      format: jsonl\n", "", 1), "$.sources[2].s3.format: format \"\" is not supported"},
		{"bad compression", strings.Replace(valid, "format: jsonl", "format: jsonl\n      compression: zip", 1), "line 16: $.sources[2].s3.compression: compression \"zip\" is not supported"},
		{"compression on the source", valid + "    compression: gzip\n", "unknown field \"compression\""},
		{"bad erasure", strings.Replace(valid, "erasure: delete\n  - id: events", "erasure: shred\n  - id: events", 1), "erasure \"shred\""},
		{"no email identity", strings.Replace(valid, "[email, user_id]", "[user_id]", 1), "must list \"email\""},
		{"no block", "identities: [email]\nsources:\n  - id: a\n    erasure: delete\n", "give a dynamodb or an s3 block"},
		{"bad id", strings.Replace(valid, "id: events", "id: Events/x", 1), "must be lower case"},
		{"no sources", "identities: [email]\nsources: []\n", "at least one source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}
