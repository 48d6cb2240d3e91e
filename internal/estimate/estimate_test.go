package estimate

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/registry"
)

func s3Source(id, format, bytes string, objects int64) *registry.Source {
	return &registry.Source{ID: id, S3: &registry.S3Source{Bucket: "b", Format: format, Size: &registry.Size{Bytes: bytes, Objects: objects}}}
}

func near(got, want float64) bool { return math.Abs(got-want) <= 0.02*math.Abs(want) }

func TestErasure(t *testing.T) {
	reg := &registry.Registry{Sources: []*registry.Source{
		// 100 GB of JSON Lines in 2,000 objects: large, read at the stream's
		// cap (80 MB/s: 850 MB/s a core, 29% of a core at 512 MB), 20
		// objects rewritten at 107 MB/s × 29% = 31 MB/s.
		s3Source("events", "jsonl", "100 GB", 2000),
		// 100 GB of Parquet in 1,000 objects: few, but too many bytes for one
		// invocation (15 GB / 23 MB/s = 11 minutes): worked object by object.
		s3Source("lake", "parquet", "100 GB", 1000),
		// 100 GB in two objects: one object is more than an invocation can
		// read in five minutes (7.5 GB / 23 MB/s).
		s3Source("archive", "parquet", "100 GB", 2),
		{ID: "users", DynamoDB: &registry.DynamoDBSource{Table: "users"}},
		{ID: "folders", S3: &registry.S3Source{Bucket: "b", KeyTemplate: "u/{user_id}/"}},
		{ID: "unsized", S3: &registry.S3Source{Bucket: "b", Format: "csv"}},
		{ID: "crm", Manual: &registry.ManualSource{Owner: "crm-team@example.com"}},
	}}
	e := Erasure(reg, Stack, Defaults, USEast1)
	events, lake, archive, users, folders, unsized := e.Sources[0], e.Sources[1], e.Sources[2], e.Sources[3], e.Sources[4], e.Sources[5]

	if !events.Large || events.TooLongForOnce || !near(events.Read, 101000) || !near(events.Written, 1000) {
		t.Errorf("events: large %v, too long %v, read %.0f MB, written %.0f MB; want large, 101,000 MB read, 1,000 written", events.Large, events.TooLongForOnce, events.Read, events.Written)
	}
	// 1,250 s scanning and 32 s erasing, forty objects at a time.
	if want := 32 * time.Second; events.Time < want-time.Second || events.Time > want+time.Second {
		t.Errorf("events take %v, want about %v", events.Time, want)
	}
	// S3 requests ($0.0013), 2,020 express children ($0.0031), Lambda
	// ($0.0090) and a few transitions: about a cent and a half.
	if !near(events.Cost, 0.0137) {
		t.Errorf("events cost $%.4f, want about $0.0137", events.Cost)
	}
	if !lake.Large || lake.TooLongForOnce {
		t.Errorf("lake: large %v, too long %v; want it worked object by object, in time", lake.Large, lake.TooLongForOnce)
	}
	if !archive.Large || !archive.TooLongForOnce || !strings.Contains(archive.Note, "one object is more") {
		t.Errorf("archive: large %v, too long %v, note %q; want an object one invocation cannot finish, said so", archive.Large, archive.TooLongForOnce, archive.Note)
	}
	if users.Cost <= 0 || users.Cost > 0.0001 || folders.Cost <= 0 || folders.Time != time.Second {
		t.Errorf("users $%.6f, folders $%.6f in %v", users.Cost, folders.Cost, folders.Time)
	}
	if crm := e.Sources[6]; crm.Time != 0 || !strings.Contains(crm.Note, "owner's answer") {
		t.Errorf("crm: %+v; want the wait for its owner named, not timed", crm)
	}
	if !unsized.Unsized || unsized.Cost != 0 || unsized.Note == "" {
		t.Errorf("unsized: %+v; want it marked and left out", unsized)
	}
	// Four sources at a time: the archive alone is longest.
	if e.Time != archive.Time {
		t.Errorf("wall time %v, want the archive's %v", e.Time, archive.Time)
	}
	if sum := events.Cost + lake.Cost + archive.Cost + users.Cost + folders.Cost + e.Overhead; !near(e.Cost, sum) {
		t.Errorf("total $%.4f, sources and overhead $%.4f", e.Cost, sum)
	}
}

func TestWallTime(t *testing.T) {
	s := func(d ...time.Duration) []Source {
		var out []Source
		for _, x := range d {
			out = append(out, Source{Time: x})
		}
		return out
	}
	tests := []struct {
		sources []Source
		workers int
		want    time.Duration
	}{
		{s(), 4, 0},
		{s(5, 3, 2), 4, 5},
		{s(5, 3, 2), 1, 10},
		{s(4, 4, 4, 4, 4), 4, 8},
		{s(9, 1, 1, 1, 1, 1), 2, 9},
	}
	for _, tt := range tests {
		if got := wallTime(tt.sources, tt.workers); got != tt.want {
			t.Errorf("wallTime(%v, %d) = %v, want %v", tt.sources, tt.workers, got, tt.want)
		}
	}
}
