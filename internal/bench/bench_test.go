package bench

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
)

// subjectRows parses generated data and counts the rows of the subject, and
// all rows. It fails on data that is not valid in its format.
func subjectRows(t *testing.T, format string, data []byte) (subject, rows int) {
	t.Helper()
	var records []map[string]string
	switch format {
	case "jsonl":
		for line := range strings.Lines(string(data)) {
			var r map[string]any
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			records = append(records, map[string]string{"user_id": r["user_id"].(string), "email": r["email"].(string)})
		}
	case "json":
		var rs []map[string]any
		if err := json.Unmarshal(data, &rs); err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			records = append(records, map[string]string{"user_id": r["user_id"].(string), "email": r["email"].(string)})
		}
	case "csv":
		all, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"ts", "user_id", "email", "event", "path", "user_agent", "session", "amount"}; !slices.Equal(all[0], want) {
			t.Fatalf("header %q", all[0])
		}
		for _, r := range all[1:] {
			records = append(records, map[string]string{"user_id": r[1], "email": r[2]})
		}
	}
	for _, r := range records {
		mine := r["user_id"] == SubjectUserID
		if mine != (r["email"] == SubjectEmail) {
			t.Fatalf("row %v: user_id and email disagree", r)
		}
		if mine {
			subject++
		}
	}
	return subject, len(records)
}

func TestGenerator(t *testing.T) {
	for _, format := range []string{"jsonl", "csv", "json"} {
		t.Run(format, func(t *testing.T) {
			g := NewGenerator(format, 7, 50, 1000)
			obj := g.Object(256 << 10)
			if len(obj) < 256<<10 {
				t.Errorf("object of %d bytes", len(obj))
			}
			subject, rows := subjectRows(t, format, obj)
			if subject != g.Matched() || rows != g.Rows() {
				t.Errorf("parsed %d rows, %d the subject's; generator says %d, %d", rows, subject, g.Rows(), g.Matched())
			}
			if subject < rows/100 || subject > rows/25 {
				t.Errorf("%d of %d rows are the subject's, want about 1 in 50", subject, rows)
			}
			if again := NewGenerator(format, 7, 50, 1000).Object(256 << 10); !bytes.Equal(again, obj) {
				t.Error("same seed, different data")
			}

			g = NewGenerator(format, 7, 50, 1000)
			data, err := io.ReadAll(g.Stream(300 << 10))
			if err != nil {
				t.Fatal(err)
			}
			if len(data) < 300<<10 || len(data) > 300<<10+64<<10+1024 {
				t.Errorf("stream of %d bytes", len(data))
			}
			subject, rows = subjectRows(t, format, data)
			if subject != g.Matched() || rows != g.Rows() {
				t.Errorf("stream: parsed %d rows, %d the subject's; generator says %d, %d", rows, subject, g.Rows(), g.Matched())
			}
		})
	}
}

func TestRun(t *testing.T) {
	cfg := Config{ScanBytes: 1 << 20, PoolBytes: 1 << 20, ObjectBytes: 256 << 10, BigObject: 1 << 20, EraseObject: 20 << 20, MatchEvery: 100, Subjects: 1000, Workers: 2}
	var names []string
	err := Run(cfg, func(f Figure) {
		names = append(names, f.Name)
		if f.Value <= 0 || (f.Unit != "MB" && f.Unit != "MB/s") {
			t.Errorf("figure %s", f)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"peak_rss_scan_1mib_jsonl_object", "peak_rss_scan_1mib_csv_object", "peak_rss_scan_1mib_json_object",
		"peak_rss_erase_20mib_jsonl_object", "erase_20mib_jsonl_object",
		"scan_jsonl_per_core", "scan_jsonl_per_cpu_second", "scan_jsonl_2_workers_per_core", "rewrite_jsonl",
		"scan_csv_per_core", "scan_csv_per_cpu_second", "scan_csv_2_workers_per_core", "rewrite_csv",
		"scan_json_array_per_core", "scan_json_array_per_cpu_second",
		"scan_jsonl_gzip_per_core", "scan_jsonl_gzip_per_cpu_second",
		"peak_rss_scan_1mib_parquet_object", "peak_rss_erase_1mib_parquet_object", "erase_1mib_parquet_object",
		"scan_parquet_per_core", "scan_parquet_per_cpu_second", "scan_parquet_2_workers_per_core", "rewrite_parquet",
	}
	if !slices.Equal(names, want) {
		t.Errorf("figures %q, want %q", names, want)
	}
}

func TestFigureString(t *testing.T) {
	if got := (Figure{"scan_jsonl_per_core", 835.3, "MB/s"}).String(); got != "scan_jsonl_per_core 835.3 MB/s" {
		t.Errorf("got %q", got)
	}
}
