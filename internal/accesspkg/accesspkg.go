// Package accesspkg writes the access package a subject downloads: a zip with
// one machine-readable JSON file per source and a manifest that says what is
// in it.
package accesspkg

import (
	"archive/zip"
	"encoding/json"
	"io"
	"time"
)

// Part is the subject's records from one source.
type Part struct {
	SourceID    string
	Kind        string
	Description string
	Records     []map[string]any
}

// Manifest describes the package.
type Manifest struct {
	RequestID   string           `json:"request_id"`
	GeneratedAt time.Time        `json:"generated_at"`
	Sources     []ManifestSource `json:"sources"`
}

// ManifestSource is one source in the manifest.
type ManifestSource struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Description string `json:"description,omitempty"`
	Records     int    `json:"records"`
	File        string `json:"file"`
}

// ManifestFile is the name of the manifest inside the zip.
const ManifestFile = "manifest.json"

// Write writes the zip to w and returns its manifest.
func Write(w io.Writer, requestID string, parts []Part, generatedAt time.Time) (Manifest, error) {
	m := Manifest{RequestID: requestID, GeneratedAt: generatedAt.UTC(), Sources: []ManifestSource{}}
	zw := zip.NewWriter(w)
	for _, p := range parts {
		name := p.SourceID + ".json"
		records := p.Records
		if records == nil {
			records = []map[string]any{}
		}
		if err := writeJSON(zw, name, generatedAt, records); err != nil {
			return Manifest{}, err
		}
		m.Sources = append(m.Sources, ManifestSource{ID: p.SourceID, Kind: p.Kind, Description: p.Description, Records: len(p.Records), File: name})
	}
	if err := writeJSON(zw, ManifestFile, generatedAt, m); err != nil {
		return Manifest{}, err
	}
	return m, zw.Close()
}

func writeJSON(zw *zip.Writer, name string, modified time.Time, v any) error {
	f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: modified})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
