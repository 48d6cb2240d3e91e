package manualtask

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/privacy-pipeline/dsr/internal/apperr"
)

// MaxExport is the largest export an owner may upload: what fits, base64
// encoded with the form around it, in one API Gateway request to a Lambda
// function (6 MB).
const MaxExport = 4 << 20

// Media types of exports, by what their bytes are (never by the name or the
// type the browser claims).
const (
	MediaPDF  = "application/pdf"
	MediaJSON = "application/json"
	MediaCSV  = "text/csv"
)

// CheckExport finds what an uploaded export is from its content: a PDF
// (starting with %PDF-), a JSON document (an object or an array), or CSV
// (UTF-8 text in which every record has the header's number of fields).
// Anything else (HTML, images, archives, executables, a CSV with ragged
// rows) is refused, as is an empty file or one over MaxExport.
func CheckExport(b []byte) (Export, error) {
	switch {
	case len(b) == 0:
		return Export{}, apperr.InvalidFields(apperr.FieldError{Field: "file", Detail: "The file is empty."})
	case len(b) > MaxExport:
		return Export{}, apperr.E(apperr.TooLarge, "The file is larger than 4 MiB. Split it, or send it to the privacy team another way.")
	}
	sum := sha256.Sum256(b)
	e := Export{Size: len(b), SHA256: hex.EncodeToString(sum[:])}
	switch {
	case bytes.HasPrefix(b, []byte("%PDF-")):
		e.MediaType, e.Ext = MediaPDF, "pdf"
	case isJSON(b):
		e.MediaType, e.Ext = MediaJSON, "json"
	case isCSV(b):
		e.MediaType, e.Ext = MediaCSV, "csv"
	default:
		return Export{}, apperr.E(apperr.Unsupported, "The file is not CSV, JSON or PDF.")
	}
	return e, nil
}

func isJSON(b []byte) bool {
	t := bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), " \t\r\n")
	return len(t) > 0 && (t[0] == '{' || t[0] == '[') && json.Valid(t)
}

// isCSV accepts text, not markup, that reads as CSV with a consistent
// number of fields.
func isCSV(b []byte) bool {
	if !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		return false
	}
	if ct := http.DetectContentType(b); !strings.HasPrefix(ct, "text/plain") {
		return false // HTML, XML, and binary formats that are valid UTF-8
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))))
	r.FieldsPerRecord = 0 // the first record sets the count
	n := 0
	for {
		_, err := r.Read()
		if errors.Is(err, io.EOF) {
			return n > 0
		}
		if err != nil {
			return false
		}
		n++
	}
}
