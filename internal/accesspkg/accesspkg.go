// Package accesspkg writes the access package a subject downloads, for access
// and portability requests alike: a zip with
//
//   - index.html: a report a person can open offline, without any external
//     resource: what each source holds, why, who receives it, how long it is
//     kept, and the records;
//   - manifest.json: the same facts and the counts, machine-readable;
//   - json/<source>.json: the records of each source exactly as collected
//     (portability: structured, commonly used, machine-readable);
//   - csv/<source>.csv: the same records as RFC 4180 CSV for spreadsheets.
package accesspkg

import (
	"archive/zip"
	"encoding/csv"
	"encoding/json"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/privacy-pipeline/dsr/internal/i18n"
	"github.com/privacy-pipeline/dsr/internal/registry"
)

// Part is the subject's records from one source.
type Part struct {
	Source  *registry.Source
	Records []map[string]any
	// Unreadable counts the places in the source that may hold the
	// subject's data but could not be read (see erasure.Finding).
	Unreadable int
}

// Package is what goes into one zip.
type Package struct {
	RequestID   string
	RequestType string
	// Language is the request's: the report is written in it.
	Language    i18n.Lang
	GeneratedAt time.Time
	Parts       []Part
}

// Manifest describes the package.
type Manifest struct {
	RequestID   string           `json:"request_id"`
	RequestType string           `json:"request_type"`
	GeneratedAt time.Time        `json:"generated_at"`
	Sources     []ManifestSource `json:"sources"`
}

// ManifestSource is one source in the manifest: what it holds of the subject
// and what the subject is told about it (GDPR Art 15(1), CCPA §1798.110).
type ManifestSource struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Description string `json:"description,omitempty"`
	Records     int    `json:"records"`
	// Unreadable counts the places in the source that may hold the
	// subject's data but could not be read; an operator looks at them.
	Unreadable int    `json:"unreadable,omitempty"`
	JSONFile   string `json:"json_file,omitempty"`
	CSVFile    string `json:"csv_file,omitempty"`
	// File is, for a manual source, the export its owner made, as it
	// was uploaded; MediaType says what it is.
	File       string               `json:"file,omitempty"`
	MediaType  string               `json:"media_type,omitempty"`
	Categories []ManifestCategory   `json:"categories"`
	Purposes   []string             `json:"purposes"`
	Recipients []registry.Recipient `json:"recipients"`
	Retention  registry.Retention   `json:"retention"`
}

// ManifestCategory is a category of personal data, by id and in words.
type ManifestCategory struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

// Names of the files inside the zip.
const (
	ManifestFile = "manifest.json"
	ReportFile   = "index.html"
)

// JSONFile and CSVFile are where a source's records go. Source ids are
// validated to [a-z][a-z0-9-]* by the registry, so they are safe file names;
// the folders keep them apart from the manifest and the report.
func JSONFile(sourceID string) string { return "json/" + sourceID + ".json" }
func CSVFile(sourceID string) string  { return "csv/" + sourceID + ".csv" }

// ExportFile is where a manual source's export goes, by its extension.
func ExportFile(sourceID, ext string) string { return "files/" + sourceID + "." + ext }

// Records yields the records of one source, in order, to yield; each call
// starts from the first record (a package reads every source twice: once
// for its JSON file and its columns, once for its CSV file).
type Records func(yield func(map[string]any) error) error

// SourceRecords are one source's records, as Records, for Stream; for a
// manual source, the file its owner exported instead (or none, where the
// owner found nothing).
type SourceRecords struct {
	Source     *registry.Source
	Records    Records
	Unreadable int
	File       *File
}

// File is an export a manual source's owner uploaded (checked for its type
// and size when it was).
type File struct {
	Ext, MediaType string
	Open           func() (io.ReadCloser, error)
}

// Write writes the zip of records held in memory to w and returns its
// manifest (see Stream).
func Write(w io.Writer, p Package) (Manifest, error) {
	sources := make([]SourceRecords, len(p.Parts))
	for i, part := range p.Parts {
		sources[i] = SourceRecords{Source: part.Source, Unreadable: part.Unreadable, Records: func(yield func(map[string]any) error) error {
			for _, r := range part.Records {
				if err := yield(r); err != nil {
					return err
				}
			}
			return nil
		}}
	}
	return Stream(w, p.RequestID, p.RequestType, p.Language, p.GeneratedAt, sources)
}

// Stream writes the zip to w, one record at a time: memory holds a record,
// a source's column names and the records the report shows
// (MaxReportRows per source), never a source whole. Per source it writes
// the JSON file, then the CSV file; then the manifest and the report, the
// report in lang (the request's language).
func Stream(w io.Writer, requestID, requestType string, lang i18n.Lang, generatedAt time.Time, sources []SourceRecords) (Manifest, error) {
	at := generatedAt.UTC()
	m := Manifest{RequestID: requestID, RequestType: requestType, GeneratedAt: at, Sources: []ManifestSource{}}
	zw := zip.NewWriter(w)
	create := func(name string) (io.Writer, error) {
		return zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: at})
	}
	report := make([]shown, len(sources))
	for i, src := range sources {
		ms := manifestSource(Part{Source: src.Source, Unreadable: src.Unreadable})
		if src.Source.Manual != nil {
			ms.JSONFile, ms.CSVFile = "", ""
			if src.File != nil {
				ms.File, ms.MediaType = ExportFile(src.Source.ID, src.File.Ext), src.File.MediaType
				if err := copyFile(create, ms.File, src.File); err != nil {
					return Manifest{}, err
				}
			}
			m.Sources = append(m.Sources, ms)
			continue
		}
		n, columns, first, err := writeJSONRecords(create, ms.JSONFile, src.Records)
		if err != nil {
			return Manifest{}, err
		}
		ms.Records = n
		f, err := create(ms.CSVFile)
		if err != nil {
			return Manifest{}, err
		}
		if err := writeCSV(f, columns, src.Records); err != nil {
			return Manifest{}, err
		}
		m.Sources = append(m.Sources, ms)
		report[i] = shown{columns: columns, records: first}
	}
	if err := writeJSON(create, ManifestFile, m); err != nil {
		return Manifest{}, err
	}
	f, err := create(ReportFile)
	if err != nil {
		return Manifest{}, err
	}
	if err := writeReport(f, lang, m, report); err != nil {
		return Manifest{}, err
	}
	return m, zw.Close()
}

func copyFile(create func(string) (io.Writer, error), name string, f *File) error {
	w, err := create(name)
	if err != nil {
		return err
	}
	r, err := f.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.Copy(w, r)
	return err
}

// writeJSONRecords writes the records as one indented JSON array, one at a
// time, and returns how many there were, the names of their fields (sorted)
// and the first MaxReportRows of them.
func writeJSONRecords(create func(string) (io.Writer, error), name string, records Records) (int, []string, []map[string]any, error) {
	f, err := create(name)
	if err != nil {
		return 0, nil, nil, err
	}
	n := 0
	columns := map[string]bool{}
	var first []map[string]any
	err = records(func(r map[string]any) error {
		sep := ",\n  "
		if n == 0 {
			sep = "[\n  "
		}
		b, err := json.MarshalIndent(r, "  ", "  ")
		if err != nil {
			return err
		}
		if _, err := io.WriteString(f, sep); err != nil {
			return err
		}
		if _, err := f.Write(b); err != nil {
			return err
		}
		for k := range r {
			columns[k] = true
		}
		if n < MaxReportRows {
			first = append(first, r)
		}
		n++
		return nil
	})
	if err != nil {
		return 0, nil, nil, err
	}
	end := "\n]\n"
	if n == 0 {
		end = "[]\n"
	}
	if _, err := io.WriteString(f, end); err != nil {
		return 0, nil, nil, err
	}
	return n, slices.Sorted(maps.Keys(columns)), first, nil
}

func manifestSource(p Part) ManifestSource {
	s := p.Source
	ms := ManifestSource{
		ID: s.ID, Kind: s.Kind(), Description: s.Description, Records: len(p.Records), Unreadable: p.Unreadable,
		JSONFile: JSONFile(s.ID), CSVFile: CSVFile(s.ID),
		Categories: []ManifestCategory{}, Purposes: s.Purposes, Recipients: s.Recipients,
	}
	for _, c := range s.Categories {
		ms.Categories = append(ms.Categories, ManifestCategory{ID: c, Label: registry.CategoryLabel(c)})
	}
	if ms.Purposes == nil {
		ms.Purposes = []string{}
	}
	if ms.Recipients == nil {
		ms.Recipients = []registry.Recipient{}
	}
	if s.Retention != nil {
		ms.Retention = *s.Retention
	}
	return ms
}

func writeJSON(create func(string) (io.Writer, error), name string, v any) error {
	f, err := create(name)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Columns are the fields of records, the union over all of them, sorted: a
// stable order however the records were stored.
func Columns(records []map[string]any) []string {
	seen := map[string]bool{}
	for _, r := range records {
		for k := range r {
			seen[k] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// WriteCSV writes records as RFC 4180 CSV (CRLF line ends, quotes where
// needed) with a header row of Columns. A field a record lacks is empty.
func WriteCSV(w io.Writer, records []map[string]any) error {
	return writeCSV(w, Columns(records), func(yield func(map[string]any) error) error {
		for _, r := range records {
			if err := yield(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeCSV is WriteCSV of records read one at a time, under the columns
// given.
func writeCSV(w io.Writer, cols []string, records Records) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if len(cols) > 0 {
		if err := cw.Write(cols); err != nil {
			return err
		}
	}
	row := make([]string, len(cols))
	err := records(func(r map[string]any) error {
		for i, c := range cols {
			row[i] = spreadsheetSafe(Text(r[c]))
		}
		return cw.Write(row)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// Text renders one value for a person: strings as they are, numbers as
// written, nested values as compact JSON, a missing value as "".
func Text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		if v {
			return "true"
		}
		return "false"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// spreadsheetSafe keeps a spreadsheet from running a value as a formula
// (CSV injection): text that starts with = + - @ or a tab or carriage return,
// and is not a plain number, gets a leading apostrophe. The JSON files keep
// the exact values.
func spreadsheetSafe(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) || isNumber(s) {
		return s
	}
	return "'" + s
}

func isNumber(s string) bool {
	var n json.Number
	return json.Unmarshal([]byte(s), &n) == nil
}
