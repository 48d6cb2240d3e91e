package s3src

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/registry"
)

func lakeRegistrySource() *registry.Source {
	src := lakeSource()
	src.Bucket = bucket
	return &registry.Source{ID: "lake", Erasure: registry.EraseDelete, S3: src}
}

// TestParquetThroughS3: an access request finds her rows in a Parquet
// object read by ranges (never whole); erasure rewrites that object on
// If-Match, keeping its headers and tags, leaves the object without her
// alone, and reports the doubt of the other row by row group and row.
func TestParquetThroughS3(t *testing.T) {
	ctx := context.Background()
	lake := lakeFile(t, lakeGroups())
	other := lakeFile(t, [][]lakeRow{{{UserID: "u-1002", CustomerNo: 1002, Event: "login"}}})
	f := newFakeS3(nil)
	f.write("events/2026-11-01.parquet", lake)
	f.headers["events/2026-11-01.parquet"] = headers{contentType: "application/vnd.apache.parquet", metadata: map[string]string{"pipeline": "nightly"}}
	f.setTags("events/2026-11-01.parquet", ptr("team=analytics"))
	f.write("events/2026-11-02.parquet", other)
	otherETag := f.etags["events/2026-11-02.parquet"]
	a := newAdapter(t, f)

	rows, fs, err := a.Find(ctx, lakeRegistrySource(), lakeIdentities)
	if err != nil || len(rows) != 3 || len(fs) != 1 || fs[0].RowGroup != 2 || fs[0].Row != 4 || fs[0].Field != "attrs.shared_with" {
		t.Fatalf("find: %d rows, findings %+v, %v", len(rows), fs, err)
	}
	if f.whole != 0 {
		t.Fatalf("%d objects read whole", f.whole)
	}

	a.partSize = 5 << 20 // S3's smallest part: this object fits in one PutObject
	res, err := a.Erase(ctx, lakeRegistrySource(), lakeIdentities, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 3 || len(res.Touched) != 1 || res.Touched[0].Key != "events/2026-11-01.parquet" || res.Touched[0].Action != erasure.ActionRewritten {
		t.Fatalf("erase: %+v", res)
	}
	if len(res.Findings) != 1 || res.Findings[0].RowGroup != 2 || res.Findings[0].Row != 3 {
		t.Errorf("findings after the rewrite: %+v", res.Findings)
	}
	got := f.objects["events/2026-11-01.parquet"]
	if ids := strings.Join(columnValues(t, got, "user_id"), ","); ids != "u-1003,u-10010,u-1004,u-1002,u-1003,u-1002,u-1004" {
		t.Errorf("rows kept: %s", ids)
	}
	h := f.headers["events/2026-11-01.parquet"]
	if h.contentType != "application/vnd.apache.parquet" || h.metadata["pipeline"] != "nightly" || f.tags["events/2026-11-01.parquet"]["team"] != "analytics" {
		t.Errorf("headers %+v, tags %v", h, f.tags["events/2026-11-01.parquet"])
	}
	if f.etags["events/2026-11-02.parquet"] != otherETag || f.whole != 0 || f.gotIfMatches == 0 {
		t.Errorf("the other object changed, or objects were read whole (%d) or not on If-Match (%d)", f.whole, f.gotIfMatches)
	}
}

// TestParquetThroughS3Changes: an object changed between the scan and the
// rewrite is read again as it now is; a large rewrite goes in parts.
func TestParquetThroughS3Changes(t *testing.T) {
	ctx := context.Background()
	const key = "events/lake.parquet"
	f := newFakeS3(nil)
	f.write(key, lakeFile(t, lakeGroups()))
	changed := false
	f.afterGet = func(k string) {
		if !changed {
			changed = true
			groups := lakeGroups()
			groups = append(groups, []lakeRow{{UserID: "u-1009", Event: "late"}})
			f.write(key, lakeFile(t, groups))
		}
	}
	res, err := newAdapter(t, f).Erase(ctx, lakeRegistrySource(), lakeIdentities, false, nil)
	if err != nil || res.Deleted != 3 {
		t.Fatalf("erase: %+v, %v", res, err)
	}
	if ids := strings.Join(columnValues(t, f.objects[key], "user_id"), ","); ids != "u-1003,u-10010,u-1004,u-1002,u-1003,u-1002,u-1004,u-1009" {
		t.Errorf("rows kept: %s", ids)
	}

	var big [][]lakeRow
	for g := range 4 {
		var rows []lakeRow
		for i := range 20000 {
			id := "u-2" + strings.Repeat("0", 5) + string(rune('a'+g)) + string(rune('a'+i%26))
			if i%5000 == 7 {
				id = "u-1001"
			}
			rows = append(rows, lakeRow{UserID: id, CustomerNo: int64(100000 + i), Event: strings.Repeat("e", i%97)})
		}
		big = append(big, rows)
	}
	f = newFakeS3(nil)
	f.write(key, lakeFile(t, big))
	var sizes []int
	f.partSizes = &sizes
	a := newAdapter(t, f)
	a.partSize = 64 << 10
	res, err = a.Erase(ctx, lakeRegistrySource(), lakeIdentities, false, nil)
	if err != nil || res.Deleted != 16 || len(sizes) < 2 || f.completed != 1 {
		t.Fatalf("erase in parts: %+v, %v, parts %v", res, err, sizes)
	}
	if n := len(columnValues(t, f.objects[key], "user_id")); n != 80000-16 {
		t.Errorf("%d rows kept", n)
	}
}

// TestParquetThroughS3Damaged: an object that holds her rows and a page
// that cannot be read is left as it is, with a finding for each.
func TestParquetThroughS3Damaged(t *testing.T) {
	lake := lakeFile(t, lakeGroups())
	// Damage the first row group's event column (its values, not its
	// headers): the page's checksum fails.
	damaged := bytes.Clone(lake)
	i := bytes.Index(damaged, []byte("page_view"))
	damaged[i] = 'P'
	f := newFakeS3(nil)
	f.write("events/lake.parquet", damaged)
	before := f.etags["events/lake.parquet"]
	res, err := newAdapter(t, f).Erase(context.Background(), lakeRegistrySource(), lakeIdentities, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.etags["events/lake.parquet"] != before || res.Deleted != 0 {
		t.Fatalf("a damaged object was rewritten: %+v", res)
	}
	var reasons []string
	for _, fd := range res.Findings {
		reasons = append(reasons, fd.Reason)
	}
	if !strings.Contains(strings.Join(reasons, ","), erasure.FindingUnparseable) || !strings.Contains(strings.Join(reasons, ","), erasure.FindingUnreadable) {
		t.Errorf("findings %+v", res.Findings)
	}
}

// TestParquetThroughS3Versions: older versions that hold her rows are
// deleted for good after the rewrite, read by ranges too.
func TestParquetThroughS3Versions(t *testing.T) {
	f := newFakeS3(nil)
	f.versioning = types.BucketVersioningStatusEnabled
	f.write("events/lake.parquet", lakeFile(t, lakeGroups()))
	f.write("events/lake.parquet", lakeFile(t, lakeGroups()[:2]))
	res, err := newAdapter(t, f).Erase(context.Background(), lakeRegistrySource(), lakeIdentities, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.versionDeletes) != 2 || f.whole != 0 {
		t.Errorf("versions deleted %v, objects read whole %d; result %+v", f.versionDeletes, f.whole, res)
	}
}

// TestParquetThroughS3ByColumns: a row group too large to read whole is
// read column chunk by column chunk, each read ahead by a block, and
// rewritten through page buffers in temporary files: the same rows found and
// kept, never a whole read, no temporary file left.
func TestParquetThroughS3ByColumns(t *testing.T) {
	defer func(w, p int64) { maxWindow, pageBuffersInMemory = w, p }(maxWindow, pageBuffersInMemory)
	maxWindow, pageBuffersInMemory = 0, 0
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ctx := context.Background()
	f := newFakeS3(nil)
	f.write("events/2026-11-01.parquet", lakeFile(t, lakeGroups()))
	a := newAdapter(t, f)
	rows, _, err := a.Find(ctx, lakeRegistrySource(), lakeIdentities)
	if err != nil || len(rows) != 3 || f.whole != 0 {
		t.Fatalf("find: %d rows, %d whole reads, %v", len(rows), f.whole, err)
	}
	res, err := a.Erase(ctx, lakeRegistrySource(), lakeIdentities, false, nil)
	if err != nil || res.Deleted != 3 {
		t.Fatalf("erase: %+v, %v", res, err)
	}
	if ids := strings.Join(columnValues(t, f.objects["events/2026-11-01.parquet"], "user_id"), ","); ids != "u-1003,u-10010,u-1004,u-1002,u-1003,u-1002,u-1004" {
		t.Errorf("rows kept: %s", ids)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files left: %d", len(left))
	}
}
