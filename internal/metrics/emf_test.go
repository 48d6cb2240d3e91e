package metrics

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/request"
)

func TestCount(t *testing.T) {
	var buf bytes.Buffer
	NewEMF(&buf).Count("RequestsOverdue", &request.Request{ID: "dsr-1", Type: request.Access, Jurisdiction: "EU", Email: "a@example.com"})
	line := buf.String()
	if strings.Count(line, "\n") != 1 || strings.Contains(line, "a@example.com") {
		t.Fatalf("line %q", line)
	}
	var got struct {
		AWS struct {
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		Type, Jurisdiction string
		RequestsOverdue    int
	}
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatal(err)
	}
	m := got.AWS.CloudWatchMetrics[0]
	if m.Namespace != Namespace || m.Metrics[0].Name != "RequestsOverdue" || got.RequestsOverdue != 1 || got.Type != "access" || got.Jurisdiction != "EU" || len(m.Dimensions[0]) != 2 || len(m.Dimensions) != 2 || len(m.Dimensions[1]) != 0 {
		t.Fatalf("%+v", got)
	}
}

func TestDays(t *testing.T) {
	var buf bytes.Buffer
	NewEMF(&buf).Days(DaysToComplete, 12.5, &request.Request{Type: request.Delete, Jurisdiction: "US-CA"})
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got[DaysToComplete] != 12.5 || got["Type"] != "delete" {
		t.Fatalf("%v", got)
	}
}

func TestGauge(t *testing.T) {
	var buf bytes.Buffer
	NewEMF(&buf).Gauge(DueSoon, 4)
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got[DueSoon] != 4.0 || !strings.Contains(buf.String(), `"Dimensions":[[]]`) {
		t.Fatalf("%s", buf.String())
	}
}
