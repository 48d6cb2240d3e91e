package s3src

import (
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/registry"
)

// TestSampleWarnings: the sample names, by counts and field names, what a
// match rule would miss in records shaped as real companies' are.
func TestSampleWarnings(t *testing.T) {
	tests := []struct {
		name   string
		format string
		match  registry.Match
		head   string
		want   []string // fragments, one per warning
	}{
		{"numbers where the rule wants text", "jsonl", registry.Match{Field: "customer_no", Identity: "customer_no", Type: registry.TypeString},
			`{"customer_no":1001}` + "\n" + `{"customer_no":"1002"}` + "\n" + `{"customer_no":10` /* cut off */, []string{"1 of 2 sampled records hold customer_no as a number"}},
		{"text where the rule wants numbers", "json", registry.Match{Field: "customer_no", Identity: "customer_no", Type: registry.TypeNumber},
			`[{"customer_no":1001},{"customer_no":"1002"},{"customer_no":"1003"}]`, []string{"2 of 3 sampled records hold customer_no as text"}},
		{"any type: both match", "jsonl", registry.Match{Field: "customer_no", Identity: "customer_no"},
			`{"customer_no":1001}` + "\n" + `{"customer_no":"1002"}` + "\n", nil},
		{"capitals and spaces where the rule is exact", "csv", registry.Match{Field: "email", Identity: "email", Normalize: registry.NormalizeExact},
			"\ufeffemail,n\nAda@Example.com,1\n bob@example.com,2\ncy@example.com,3\n", []string{"1 of 3 sampled records hold email as an address with capital letters", "1 of 3 sampled records hold email with spaces around it"}},
		{"the email default ignores both", "csv", registry.Match{Field: "email", Identity: "email"},
			"email,n\nAda@Example.com,1\n bob@example.com,2\n", nil},
		{"leading zeros", "csv", registry.Match{Field: "user_id", Identity: "user_id"},
			"user_id\n01001\n1002\n", []string{"1 of 2 sampled records hold user_id as text with leading zeros"}},
		{"a field no record has", "jsonl", registry.Match{Field: "userId", Identity: "user_id"},
			`{"user_id":"u-1"}` + "\n", []string{"none of 1 sampled records has the field userId"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &registry.S3Source{Format: tt.format, Match: []registry.Match{tt.match}}
			got := sampleWarnings(src, sampleRecords(tt.format, []byte(tt.head)))
			if len(got) != len(tt.want) {
				t.Fatalf("warnings %q, want %d", got, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %q lacks %q", got[i], w)
				}
			}
			for _, w := range got {
				for _, value := range []string{"Ada@", "bob@", "1001", "1002", "01001"} {
					if strings.Contains(w, value) {
						t.Errorf("warning %q shows a value", w)
					}
				}
			}
		})
	}
}
