// Package metrics writes CloudWatch metrics in the embedded metric format:
// one JSON line on stdout per data point, which Lambda's log pipeline turns
// into metrics without an API call. Dimensions are the request's type and
// jurisdiction, never anything personal.
package metrics

import (
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/privacy-pipeline/dsr/internal/request"
)

// Namespace of the pipeline's metrics.
const Namespace = "PrivacyPipeline"

// EMF writes metrics to w.
type EMF struct {
	mu sync.Mutex
	w  io.Writer
}

// NewEMF returns a writer of embedded-metric-format lines.
func NewEMF(w io.Writer) *EMF { return &EMF{w: w} }

// Count adds one to the metric name for r's type and jurisdiction.
func (e *EMF) Count(name string, r *request.Request) {
	line := map[string]any{
		"_aws": map[string]any{
			"Timestamp": time.Now().UnixMilli(),
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  Namespace,
				"Dimensions": [][]string{{"Type", "Jurisdiction"}},
				"Metrics":    []any{map[string]string{"Name": name, "Unit": "Count"}},
			}},
		},
		"Type":         string(r.Type),
		"Jurisdiction": r.Jurisdiction,
		name:           1,
	}
	b, _ := json.Marshal(line)
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _ = e.w.Write(append(b, '\n'))
}
