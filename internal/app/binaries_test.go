package app

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/resources"
)

// linked says which extras each function's main takes (see Extras).
var linked = map[string]struct{ s3Sources, receiptKey bool }{
	"api":                 {},
	"acknowledge":         {},
	"start-verification":  {},
	"resolve-identities":  {s3Sources: true},
	"collect-source":      {s3Sources: true},
	"finish-large-source": {receiptKey: true},
	"build-package":       {},
	"erase-source":        {s3Sources: true, receiptKey: true},
	"await-hold":          {},
	"write-receipt":       {receiptKey: true},
	"await-findings":      {},
	"await-manual-tasks":  {},
	"await-review":        {},
	"record-suppression":  {},
	"apply-corrections":   {},
	"close-request":       {},
	"check-deadline":      {},
	"check-siblings":      {},
	"deadline-report":     {},
	"sweeper":             {},
	"inbound":             {},
	"tell-recipients":     {},
}

// The packages that the extras bring, a large part of a binary each.
const (
	parquetPackage = "github.com/parquet-go/parquet-go"
	kmsPackage     = "github.com/aws/aws-sdk-go-v2/service/kms"
)

// TestMainsImportOnlyTheExtrasTheyUse: the Parquet library and the KMS
// client are in the binaries of the functions that read S3 sources or hash
// keys for receipts, and in no other.
func TestMainsImportOnlyTheExtrasTheyUse(t *testing.T) {
	deps := functionDeps(t)
	for _, f := range resources.Functions {
		want, ok := linked[f.Name]
		if !ok {
			t.Errorf("%s: say in linked which extras its main takes", f.Name)
			continue
		}
		for pkg, wanted := range map[string]bool{parquetPackage: want.s3Sources, kmsPackage: want.receiptKey} {
			if got := slices.Contains(deps[f.Name], pkg); got != wanted {
				t.Errorf("%s links %s: %v, want %v", f.Name, pkg, got, wanted)
			}
		}
	}
}

// functionDeps lists the packages each function's main depends on, by
// function name.
func functionDeps(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-tags", "lambda.norpc", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", "../../functions/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		deps[filepath.Base(fields[0])] = fields[1:]
	}
	return deps
}

// TestQuietFunctionsKeepOnlyTheClientCallsTheyMake: a binary that executes
// a template keeps every exported method of every type it puts in an
// interface, since a template may call any of them by name; the AWS
// clients' hundreds of operations among them, which double its size. The
// functions that execute none must not link template execution, as a
// package variable whose value reaches it would make every binary do.
// Linking takes a while: one function of each kind that executes none is
// checked (a task, a task with the extras, a scheduled one, the mail
// handler); the others mail subjects or serve pages.
func TestQuietFunctionsKeepOnlyTheClientCallsTheyMake(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	quiet := []string{"check-siblings", "erase-source", "deadline-report", "inbound"}
	var pkgs []string
	for _, name := range quiet {
		pkgs = append(pkgs, "../../functions/"+name)
	}
	dir := t.TempDir()
	build := exec.Command("go", append([]string{"build", "-tags", "lambda.norpc", "-o", dir + "/"}, pkgs...)...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// No function deletes a bucket: the operation is in a binary only when
	// every method of the S3 client is.
	const unused = "github.com/aws/aws-sdk-go-v2/service/s3.(*Client).DeleteBucket"
	for _, name := range quiet {
		out, err := exec.Command("go", "tool", "nm", filepath.Join(dir, name)).Output()
		if err != nil {
			t.Fatalf("go tool nm %s: %v", name, err)
		}
		if strings.Contains(string(out), " "+unused+"\n") {
			t.Errorf("%s keeps every method of the AWS clients: something it links executes a template", name)
		}
	}
}
