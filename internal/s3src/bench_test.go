package s3src_test

import (
	"bytes"
	"compress/gzip"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/bench"
	"github.com/privacy-pipeline/dsr/internal/s3src"
)

// benchObject is an 8 MB generated object, one row in 10,000 the subject's,
// and the number of the subject's rows in it.
func benchObject(format string) ([]byte, int) {
	g := bench.NewGenerator(format, 1, 10_000, 1_000_000)
	obj := g.Object(8 << 20)
	return obj, g.Matched()
}

func benchmarkScan(b *testing.B, format, compression string) {
	obj, matched := benchObject(format)
	size := int64(len(obj))
	if compression == "gzip" {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(obj); err != nil {
			b.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			b.Fatal(err)
		}
		obj = buf.Bytes()
	}
	m := s3src.NewMatcher(bench.Source(format, compression), bench.Identities())
	b.SetBytes(size)
	for b.Loop() {
		c, err := m.Scan(bytes.NewReader(obj), func(map[string]any) error { return nil })
		if err != nil || c.Matched != matched {
			b.Fatalf("matched %d of %d: %v", c.Matched, matched, err)
		}
	}
}

func BenchmarkScanJSONL(b *testing.B)     { benchmarkScan(b, "jsonl", "") }
func BenchmarkScanCSV(b *testing.B)       { benchmarkScan(b, "csv", "") }
func BenchmarkScanJSONArray(b *testing.B) { benchmarkScan(b, "json", "") }
func BenchmarkScanJSONLGzip(b *testing.B) { benchmarkScan(b, "jsonl", "gzip") }

func benchmarkRewrite(b *testing.B, format string) {
	obj, matched := benchObject(format)
	m := s3src.NewMatcher(bench.Source(format, ""), bench.Identities())
	var out bytes.Buffer
	b.SetBytes(int64(len(obj)))
	for b.Loop() {
		out.Reset()
		c, err := m.Rewrite(bytes.NewReader(obj), &out)
		if err != nil || c.Matched != matched {
			b.Fatalf("removed %d of %d: %v", c.Matched, matched, err)
		}
	}
}

func BenchmarkRewriteJSONL(b *testing.B)     { benchmarkRewrite(b, "jsonl") }
func BenchmarkRewriteCSV(b *testing.B)       { benchmarkRewrite(b, "csv") }
func BenchmarkRewriteJSONArray(b *testing.B) { benchmarkRewrite(b, "json") }
