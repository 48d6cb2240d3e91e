package load

import (
	"net/http"
	"testing"
	"time"
)

func TestLoopback(t *testing.T) {
	for raw, ok := range map[string]bool{
		"http://127.0.0.1:8080": true, "http://localhost:8080": true, "http://[::1]:8080": true, "http://127.0.0.2": true,
		"https://api.example.com": false, "http://10.0.0.5:8080": false, "ftp://127.0.0.1": false, "127.0.0.1:8080": false,
	} {
		if err := loopback(raw); (err == nil) != ok {
			t.Errorf("loopback(%q) = %v, want ok %v", raw, err, ok)
		}
	}
}

// Latencies are taken from the answered requests only, and the rate is
// answers over the time from the first send to the last answer.
func TestSummarize(t *testing.T) {
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var results []result
	for i := range 100 {
		results = append(results, result{status: http.StatusAccepted, id: "x", latency: time.Duration(i+1) * time.Millisecond, end: first.Add(time.Duration(i) * 100 * time.Millisecond)})
	}
	results = append(results, result{status: http.StatusTooManyRequests, latency: time.Millisecond, end: first},
		result{status: http.StatusServiceUnavailable, latency: time.Second, end: first.Add(10 * time.Second)}, result{latency: time.Minute})
	rep := summarize(Config{}, results, first)
	if rep.Sent != 103 || rep.Answered != 102 || rep.Accepted != 100 || rep.Limited != 1 || rep.Errors != 2 {
		t.Errorf("counts %+v", rep)
	}
	if rep.P50 != 51*time.Millisecond || rep.P99 != 100*time.Millisecond || rep.Max != time.Second {
		t.Errorf("p50 %v p99 %v max %v", rep.P50, rep.P99, rep.Max)
	}
	if rep.RPS != 10.2 {
		t.Errorf("rps %v, want 102 answers in 10 s", rep.RPS)
	}
}
