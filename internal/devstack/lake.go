package devstack

import (
	"bytes"

	"github.com/parquet-go/parquet-go"
)

// The demo company's analytics lake: web sessions in Parquet, as a data
// platform writes them (Zstandard, dictionary-encoded ids, a struct and a
// list column, two row groups, the writer's key-value metadata). The subject
// has a session in each row group between other people's; u-10010 only looks
// like her.

// DemoLakeKey is the lake's object in the demo-events bucket.
const DemoLakeKey = "lake/sessions/2026-11.parquet"

// DemoLakeSession is one row of the lake.
type DemoLakeSession struct {
	SessionID string         `parquet:"session_id" json:"session_id"`
	UserID    string         `parquet:"user_id,dict" json:"user_id"`
	Email     string         `parquet:"email,dict" json:"email"`
	Started   string         `parquet:"started" json:"started"`
	Device    DemoLakeDevice `parquet:"device" json:"device"`
	Pages     []string       `parquet:"pages,list" json:"pages"`
	Seconds   int64          `parquet:"seconds" json:"seconds"`
}

// DemoLakeDevice is a session's device, a struct column.
type DemoLakeDevice struct {
	OS      string `parquet:"os,dict" json:"os"`
	Browser string `parquet:"browser,dict" json:"browser"`
}

func demoLakeGroups() [][]DemoLakeSession {
	return [][]DemoLakeSession{
		{
			{"s-1", "u-1002", "john.roe@example.com", "2026-11-01T08:00:00Z", DemoLakeDevice{"Windows", "Edge"}, []string{"/", "/pricing"}, 95},
			{"s-2", DemoSubjectUserID, DemoSubject, "2026-11-01T09:30:00Z", DemoLakeDevice{"Linux", "Firefox"}, []string{"/", "/products/1", "/checkout"}, 310},
			{"s-3", "u-1003", "ana.lima@example.org", "2026-11-02T12:10:00Z", DemoLakeDevice{"Android", "Chrome"}, []string{"/blog"}, 42},
		},
		{
			{"s-4", "u-10010", "look.alike@example.org", "2026-11-03T10:00:00Z", DemoLakeDevice{"macOS", "Safari"}, []string{"/"}, 12},
			{"s-5", DemoSubjectUserID, DemoSubject, "2026-11-04T19:45:00Z", DemoLakeDevice{"iOS", "Safari"}, []string{"/account"}, 61},
			{"s-6", "u-1004", "li.wei@example.net", "2026-11-05T07:05:00Z", DemoLakeDevice{"Linux", "Chrome"}, nil, 5},
			{"s-7", DemoCRMUserID, DemoCRMSubject, "2026-11-06T15:20:00Z", DemoLakeDevice{"Windows", "Firefox"}, []string{"/team"}, 48},
		},
	}
}

// demoLake writes the lake's object.
func demoLake() ([]byte, error) {
	var b bytes.Buffer
	w := parquet.NewGenericWriter[DemoLakeSession](&b, parquet.Compression(&parquet.Zstd),
		parquet.KeyValueMetadata("writer", "demo data platform 2.3"))
	for _, g := range demoLakeGroups() {
		if _, err := w.Write(g); err != nil {
			return nil, err
		}
		if err := w.Flush(); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
