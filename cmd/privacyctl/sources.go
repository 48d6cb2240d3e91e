package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/privacy-pipeline/dsr/internal/registry"
)

// errInvalid marks a file that was read but did not pass the checks; the
// problems are already printed, so main adds nothing and exits 1.
var errInvalid = errors.New("invalid")

// sources runs the data-source registry commands.
func sources(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		return fmt.Errorf("%w: sources needs a command: privacyctl sources check FILE", errUsage)
	}
	if len(args) != 2 || strings.HasPrefix(args[1], "-") {
		return fmt.Errorf("%w: sources check needs one registry file", errUsage)
	}
	file := args[1]
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	reg, err := registry.Parse(b)
	if err != nil {
		for _, line := range strings.Split(strings.TrimRight(err.Error(), "\n"), "\n") {
			fmt.Fprintf(stderr, "%s: %s\n", file, line)
		}
		return errInvalid
	}
	summarize(stdout, file, reg)
	return nil
}

// summarize prints one line per source: where it is, what finds the
// subject there, and what the subject is told about it.
func summarize(w io.Writer, file string, reg *registry.Registry) {
	fmt.Fprintf(w, "%s: valid; %d sources; identities %s\n", file, len(reg.Sources), strings.Join(reg.Identities, ", "))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tWHERE\tFINDS BY\tERASURE\tCATEGORIES\tRECIPIENTS\tRETENTION")
	for _, s := range reg.Sources {
		var where string
		switch {
		case s.DynamoDB != nil:
			d := s.DynamoDB
			where = "dynamodb " + d.Table
			if d.Index != "" {
				where += " (" + d.Index + ")"
			}
			if d.GetItem() {
				where += " get_item"
			}
			if k := d.SortKey; k != nil && k.Value != "" {
				where += " " + k.Attribute + "=" + k.Value
			} else if k != nil {
				where += " " + k.Attribute + "^=" + k.BeginsWith
			}
		case s.S3 != nil:
			where = "s3://" + s.S3.Bucket + "/" + s.S3.Prefix + s.S3.KeyTemplate + " " + s.S3.Format
			if s.S3.Compression != "" {
				where += "+" + s.S3.Compression
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", s.ID, where, strings.Join(s.LookupIdentities(), ","), erasureOf(s),
			strings.Join(s.Categories, ","), len(s.Recipients), s.Retention)
	}
	tw.Flush()
}

// erasureOf says in a few words what a delete request does in a source.
func erasureOf(s *registry.Source) string {
	switch {
	case s.Erasure == registry.EraseAnonymize:
		return "anonymize " + strings.Join(s.Anonymize, ",")
	case s.Erasure == registry.EraseRetain && s.Retain.Until != "":
		return "retain until " + s.Retain.Until
	case s.Erasure == registry.EraseRetain && s.Retain.After != "" && s.Retain.From == registry.FromEndOfYear:
		return "retain " + s.Retain.Period + " after the year of " + s.Retain.After
	case s.Erasure == registry.EraseRetain && s.Retain.After != "":
		return "retain " + s.Retain.Period + " after " + s.Retain.After
	case s.Erasure == registry.EraseRetain:
		return "retain " + s.Retain.Period
	}
	return s.Erasure
}
