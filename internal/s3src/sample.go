package s3src

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/registry"
)

// sampleObjects and sampleBytes bound what Sample reads: the start of a
// few objects.
const (
	sampleObjects = 3
	sampleBytes   = 64 << 10
)

// Sample reads the start of a few objects of a source with a fixed prefix
// and says, by counts, where the values its match rules look at would not
// match as the registry compares them: numbers where a rule wants text (or
// the reverse), addresses with capital letters or spaces where a rule
// compares exactly, ids as text with leading zeros, a field no record has.
// It shows no value it reads.
func (a *Adapter) Sample(ctx context.Context, src *registry.Source) ([]string, error) {
	if src.S3.Templated() {
		return nil, nil // whole objects: nothing is matched
	}
	out, err := a.api.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &src.S3.Bucket, Prefix: aws.String(src.S3.Prefix), MaxKeys: aws.Int32(sampleObjects)})
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, "An S3 source is unavailable.", err)
	}
	var records []map[string]any
	for _, obj := range out.Contents {
		if src.S3.Format == registry.FormatParquet {
			rows, err := a.sampleParquet(ctx, src, aws.ToString(obj.Key))
			if err != nil {
				return nil, err
			}
			records = append(records, rows...)
			continue
		}
		head, err := a.head(ctx, src, aws.ToString(obj.Key))
		if err != nil {
			return nil, err
		}
		records = append(records, sampleRecords(src.S3.Format, head)...)
	}
	return sampleWarnings(src.S3, records), nil
}

// head returns the start of an object, decompressed as far as it goes.
func (a *Adapter) head(ctx context.Context, src *registry.Source, key string) ([]byte, error) {
	out, err := a.api.GetObject(ctx, &s3.GetObjectInput{Bucket: &src.S3.Bucket, Key: &key, Range: aws.String(fmt.Sprintf("bytes=0-%d", sampleBytes-1))})
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, "An S3 source is unavailable.", err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, sampleBytes))
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, "An S3 source is unavailable.", err)
	}
	if src.S3.Compression != registry.CompressionGzip {
		return b, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, nil // Check says so
	}
	text, _ := io.ReadAll(io.LimitReader(zr, 4*sampleBytes)) // cut short: what was read
	return text, nil
}

// sampleRecords parses the whole records at the start of an object.
func sampleRecords(format string, head []byte) []map[string]any {
	head = bytes.TrimPrefix(head, []byte(utf8BOM))
	var out []map[string]any
	switch format {
	case registry.FormatJSONL:
		lines := bytes.Split(head, []byte{'\n'})
		for _, line := range lines[:len(lines)-1] { // the last may be cut off
			if row, ok := decodeRow(line); ok {
				out = append(out, row)
			}
		}
	case registry.FormatCSV:
		rr := newRecordReader(bytes.NewReader(head))
		rec, err := rr.next()
		if err != nil {
			return nil
		}
		names, ok := parseRecord(rec, nil)
		if !ok {
			return nil
		}
		for {
			rec, err := rr.next()
			if err != nil || !bytes.HasSuffix(rec, []byte{'\n'}) {
				return out // the end, or a record cut off
			}
			fields, ok := parseRecord(rec, nil)
			if !ok {
				continue
			}
			row := map[string]any{}
			for i, f := range fields {
				if i < len(names) {
					row[names[i]] = f
				}
			}
			out = append(out, row)
		}
	case registry.FormatJSON:
		dec := json.NewDecoder(bytes.NewReader(head))
		dec.UseNumber()
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			if row, ok := decodeRow(head); ok { // a file that is one object
				out = append(out, row)
			}
			return out
		}
		for dec.More() {
			var row map[string]any
			if dec.Decode(&row) != nil {
				break
			}
			out = append(out, row)
		}
	}
	return out
}

// sampleWarnings says, per match rule, what in the sampled records it would
// not match. Only counts and field names.
func sampleWarnings(src *registry.S3Source, records []map[string]any) []string {
	var warnings []string
	for _, m := range src.Match {
		var has, nums, strs, upper, spaced, zeros int
		for _, rec := range records {
			v, ok := rec[m.Field]
			if !ok {
				continue
			}
			has++
			switch v := v.(type) {
			case json.Number:
				nums++
			case string:
				strs++
				if v != strings.TrimSpace(v) {
					spaced++
				}
				if v != strings.ToLower(v) && strings.Contains(v, "@") {
					upper++
				}
				if len(v) > 1 && v[0] == '0' && strings.Trim(v, "0123456789") == "" {
					zeros++
				}
			}
		}
		of := func(n int, what string) string {
			return fmt.Sprintf("%d of %d sampled records hold %s %s", n, len(records), m.Field, what)
		}
		switch {
		case len(records) == 0:
			continue
		case has == 0:
			warnings = append(warnings, fmt.Sprintf("none of %d sampled records has the field %s", len(records), m.Field))
			continue
		}
		if m.Type == registry.TypeString && nums > 0 {
			warnings = append(warnings, of(nums, "as a number; type: string matches text only"))
		}
		if m.Type == registry.TypeNumber && strs > 0 && src.Format != registry.FormatCSV {
			warnings = append(warnings, of(strs, "as text; type: number matches numbers only"))
		}
		if !m.FoldsCase() && upper > 0 {
			warnings = append(warnings, of(upper, "as an address with capital letters; normalize: exact tells it apart from the address a request gives (always lower case)"))
		}
		if !m.TrimsSpace() && spaced > 0 {
			warnings = append(warnings, of(spaced, "with spaces around it; only normalize: email ignores them"))
		}
		if zeros > 0 {
			warnings = append(warnings, of(zeros, "as text with leading zeros, which never matches the same number without them"))
		}
	}
	return warnings
}

// sampleParquet reads up to sampleRows rows of the first row group of a
// Parquet object, by ranges: its footer and that row group. An object that
// cannot be read yields none (Check says so).
func (a *Adapter) sampleParquet(ctx context.Context, src *registry.Source, key string) ([]map[string]any, error) {
	r, err := openRanged(ctx, a.api, src.S3.Bucket, key, nil, nil)
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, "An S3 source is unavailable.", err)
	}
	rows, err := parquetRows(r, r.size, sampleRows)
	if err != nil && r.Failure() != nil {
		return nil, apperr.Wrap(apperr.Unavailable, "An S3 source is unavailable.", r.Failure())
	}
	return rows, nil
}

// sampleRows bounds the rows sampled from one Parquet object.
const sampleRows = 100
