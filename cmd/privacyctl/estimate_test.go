package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestEstimate(t *testing.T) {
	const file = "../../internal/estimate/testdata/lake.yaml"
	tests := []struct {
		name string
		args []string
		code int
		want []string // in stdout, or in stderr for a failure
	}{
		{"a registry with sizes", []string{"estimate", file}, 0, []string{
			"lake      s3 parquet  100.0 GB", "One erasure: about", "us-east-1",
			"rates not measured for jsonl+gzip: see estimate.Rates",
			"1.0% of an S3 source's objects hold the subject"}},
		{"flags after the file", []string{"estimate", file, "--touched", "0.05", "--items", "3"}, 0, []string{"5.0% of an S3 source's objects", "3 items per subject"}},
		{"flags before the file", []string{"estimate", "--parquet-read=0.5", file}, 0, []string{"a Parquet scan reads 50% of a file"}},
		{"no file", []string{"estimate"}, 2, []string{"estimate needs one registry file"}},
		{"a share out of range", []string{"estimate", file, "--touched", "3"}, 2, []string{"shares between 0 and 1"}},
		{"a registry with problems", []string{"estimate", "estimate_test.go"}, 1, []string{"estimate_test.go:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			out := stdout.String()
			if tt.code != 0 {
				out = stderr.String()
			}
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tt.code, stdout.String(), stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
