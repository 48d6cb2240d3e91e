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

// Metric names; the dashboard and alarms use the same.
const (
	Received       = "RequestsReceived"
	Verified       = "RequestsVerified"
	Completed      = "RequestsCompleted"
	Denied         = "RequestsDenied"
	Expired        = "RequestsExpired"
	Overdue        = "RequestsOverdue"
	Open           = "RequestsOpen"
	DueSoon        = "RequestsDueWithin3Days"
	DaysToComplete = "DaysToComplete"
	// HeadroomDays is how many days before its due date a request closed.
	HeadroomDays = "HeadroomDays"
	// StartedLate counts stored requests without a workflow that the
	// sweeper started.
	StartedLate = "RequestsStartedLate"
	// NotStarted counts stored requests whose workflow the sweeper could
	// not start; each sweep counts them again until they start, so their
	// alarm stays on.
	NotStarted = "RequestsNotStarted"
	// ExtensionUndecided counts requests that reached the last day for an
	// extension notice with nobody having decided whether to extend.
	ExtensionUndecided = "ExtensionsUndecided"
)

// EMF writes metrics to w.
type EMF struct {
	mu sync.Mutex
	w  io.Writer
}

// NewEMF returns a writer of embedded-metric-format lines.
func NewEMF(w io.Writer) *EMF { return &EMF{w: w} }

// Count adds one to the metric name for r's type and jurisdiction.
func (e *EMF) Count(name string, r *request.Request) { e.put(name, "Count", 1, r) }

// Days records a number of days for r's type and jurisdiction.
func (e *EMF) Days(name string, days float64, r *request.Request) { e.put(name, "None", days, r) }

// put writes one data point, once by type and jurisdiction and once in total
// (the empty dimension set), so alarms can watch the total.
func (e *EMF) put(name, unit string, value float64, r *request.Request) {
	e.write(name, unit, value, [][]string{{"Type", "Jurisdiction"}, {}},
		map[string]any{"Type": string(r.Type), "Jurisdiction": r.Jurisdiction})
}

// write emits one embedded-metric-format line.
func (e *EMF) write(name, unit string, value float64, dims [][]string, fields map[string]any) {
	line := map[string]any{
		"_aws": map[string]any{
			"Timestamp": time.Now().UnixMilli(),
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  Namespace,
				"Dimensions": dims,
				"Metrics":    []any{map[string]string{"Name": name, "Unit": unit}},
			}},
		},
		name: value,
	}
	for k, v := range fields {
		line[k] = v
	}
	b, _ := json.Marshal(line)
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _ = e.w.Write(append(b, '\n'))
}

// Gauge records a level that is not about one request, such as the number
// of open requests, without dimensions.
func (e *EMF) Gauge(name string, value float64) {
	e.write(name, "Count", value, [][]string{{}}, nil)
}
