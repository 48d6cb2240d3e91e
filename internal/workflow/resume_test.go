package workflow

import "testing"

func TestResumePoint(t *testing.T) {
	tests := []struct {
		failedAt, want string
		ok             bool
	}{
		{"Build the access package", "Build the access package", true},
		{"Erase from each source", "Find the subject's identities in every source", true},
		{"Wait for the other requests of the same mail", "Check the other requests of the same mail", true},
		{"Wait for the owners of manual sources to export", "Build the access package", true},
		{"Wait for the owners of manual sources to attest erasure", "Tell the recipients of the erasure", true},
		{"Wait for an operator to resolve the findings", "Tell the recipients of the erasure", true},
		{"Wait for the subject to confirm their email", "", false},
		{"Acknowledge receipt and start the deadline watch", "", false},
	}
	for _, tt := range tests {
		if got, ok := ResumePoint(tt.failedAt); got != tt.want || ok != tt.ok {
			t.Errorf("ResumePoint(%q) = %q, %v; want %q, %v", tt.failedAt, got, ok, tt.want, tt.ok)
		}
	}
}
