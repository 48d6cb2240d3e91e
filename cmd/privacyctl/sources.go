package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/privacy-pipeline/dsr/internal/app"
	"github.com/privacy-pipeline/dsr/internal/devstack"
	"github.com/privacy-pipeline/dsr/internal/dynsrc"
	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/s3src"
)

// errInvalid marks a file that was read but did not pass the checks; the
// problems are already printed, so main adds nothing and exits 1.
var errInvalid = errors.New("invalid")

// sourceChecker checks one source where it lives (dynsrc, s3src).
type sourceChecker interface {
	Check(ctx context.Context, src *registry.Source) error
	// Sample reads a little of the source and says where its values would
	// not match as the registry compares them.
	Sample(ctx context.Context, src *registry.Source) ([]string, error)
}

// dynamoChecker samples a table with a Scan, which only this tool does.
type dynamoChecker struct {
	*dynsrc.Adapter
	scan dynsrc.Scanner
}

func (c dynamoChecker) Sample(ctx context.Context, src *registry.Source) ([]string, error) {
	return c.Adapter.Sample(ctx, c.scan, src)
}

// sources runs the data-source registry commands.
func sources(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		return fmt.Errorf("%w: sources needs a command: privacyctl sources check FILE [--aws | --local]", errUsage)
	}
	fs := flag.NewFlagSet("sources check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	live := fs.Bool("aws", false, "also check every source in the environment's AWS account")
	local := fs.Bool("local", false, "also check every source on the local stack (make dev)")
	var flags, files []string // the file before or after the flags
	for _, a := range args[1:] {
		if strings.HasPrefix(a, "-") {
			flags = append(flags, a)
		} else {
			files = append(files, a)
		}
	}
	if err := fs.Parse(flags); err != nil {
		return fmt.Errorf("%w: sources check: %v", errUsage, err)
	}
	if len(files) != 1 {
		return fmt.Errorf("%w: sources check needs one registry file", errUsage)
	}
	file := files[0]
	if *live && *local {
		return fmt.Errorf("%w: sources check takes --aws or --local, not both", errUsage)
	}
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
	if !*live && !*local {
		return nil
	}
	ctx := context.Background()
	var awsCfg aws.Config
	if *local {
		awsCfg, err = devstack.LocalAWS(ctx, envOr("AWS_REGION", "us-east-1"), devstack.DefaultMotoURL)
	} else {
		awsCfg, err = app.LoadAWS(ctx)
	}
	if err != nil {
		return err
	}
	ddb := dynamodb.NewFromConfig(awsCfg)
	checkers := map[string]sourceChecker{
		"dynamodb": dynamoChecker{dynsrc.New(ddb), ddb},
		"s3":       s3src.New(s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = *local })),
	}
	if problems := checkLive(ctx, stdout, reg, checkers); problems > 0 {
		fmt.Fprintf(stderr, "%s: %d of %d sources cannot be used as the registry describes them\n", file, problems, len(reg.Sources))
		return errInvalid
	}
	return nil
}

// checkLive checks every source where it lives, printing one line each,
// and returns the number of sources with a problem.
func checkLive(ctx context.Context, w io.Writer, reg *registry.Registry, checkers map[string]sourceChecker) int {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tLIVE CHECK")
	problems := 0
	for _, src := range reg.Sources {
		if src.Webhook != nil {
			fmt.Fprintf(tw, "%s\tnothing to check here: its endpoint answers each request (its owner, %s, when it fails)\n", src.ID, src.Manual.Owner)
			continue
		}
		if src.Manual != nil {
			fmt.Fprintf(tw, "%s\tnothing to check: its owner (%s) answers each request\n", src.ID, src.Manual.Owner)
			continue
		}
		result := "ok"
		checker := checkers[src.Kind()]
		err := checker.Check(ctx, src)
		switch {
		case errors.Is(err, s3src.ErrEmpty):
			result = "ok, but " + err.Error()
		case err != nil:
			problems++
			result = err.Error()
		}
		fmt.Fprintf(tw, "%s\t%s\n", src.ID, result)
		if err != nil {
			continue
		}
		// What a sample of the records says the match rules would miss.
		warnings, err := checker.Sample(ctx, src)
		if err != nil {
			warnings = []string{"could not sample the records: " + err.Error()}
		}
		for _, w := range warnings {
			fmt.Fprintf(tw, "\twarning: %s\n", w)
		}
	}
	tw.Flush()
	return problems
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
			if d.Templated() {
				where += " " + d.PartitionKey + "=" + d.PartitionValue
			}
			if d.GetItem() {
				where += " get_item"
			}
			if k := d.SortKey; k != nil && k.Value != "" {
				where += " " + k.Attribute + "=" + k.Value
			} else if k != nil {
				where += " " + k.Attribute + "^=" + k.BeginsWith
			}
		case s.Webhook != nil:
			where = "webhook " + s.Webhook.URL + ", owner " + s.Manual.Owner + " (" + strings.Join(s.Manual.Types, ",") + ")"
		case s.Manual != nil:
			where = "manual, owner " + s.Manual.Owner + " (" + strings.Join(s.Manual.Types, ",") + ")"
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
	case s.Webhook != nil && s.Manual.Serves(registry.ManualDelete):
		return "by its endpoint (or its owner), attested"
	case s.Manual != nil && s.Manual.Serves(registry.ManualDelete):
		return "by its owner, attested"
	case s.Manual != nil:
		return "-"
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
