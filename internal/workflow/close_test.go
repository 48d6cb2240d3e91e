package workflow

import (
	"testing"

	"github.com/privacy-pipeline/dsr/internal/request"
)

// TestCompletion: every type the pipeline carries out but an appeal (which
// is granted or denied, never completed) has a completion step.
func TestCompletion(t *testing.T) {
	for _, typ := range request.SupportedTypes() {
		if got, want := completion(typ) != nil, typ != request.Appeal; got != want {
			t.Errorf("%s: has a completion %v, want %v", typ, got, want)
		}
	}
}
