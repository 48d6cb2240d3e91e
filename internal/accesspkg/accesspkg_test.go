package accesspkg

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"testing"
	"time"
)

func TestWrite(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	parts := []Part{
		{SourceID: "users", Kind: "dynamodb", Records: []map[string]any{{"user_id": "u-1", "plan": "pro"}}},
		{SourceID: "events", Kind: "s3"},
	}
	var buf bytes.Buffer
	m, err := Write(&buf, "dsr-1", parts, now)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = b
	}
	if len(files) != 3 {
		t.Fatalf("files %v", len(files))
	}
	var got Manifest
	if err := json.Unmarshal(files[ManifestFile], &got); err != nil {
		t.Fatal(err)
	}
	if got.RequestID != "dsr-1" || len(got.Sources) != 2 || got.Sources[0].Records != 1 || got.Sources[1].Records != 0 || got.Sources[0].File != "users.json" {
		t.Fatalf("manifest %+v", got)
	}
	if m.Sources[1].Kind != "s3" {
		t.Fatalf("returned manifest %+v", m)
	}
	var users []map[string]any
	if err := json.Unmarshal(files["users.json"], &users); err != nil || users[0]["plan"] != "pro" {
		t.Fatalf("users.json %s", files["users.json"])
	}
	if string(bytes.TrimSpace(files["events.json"])) != "[]" {
		t.Fatalf("empty source should be [], got %s", files["events.json"])
	}
}
