package app

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/privacy-pipeline/dsr/internal/workflow"
)

// fakeSources and fakeKeys are extras that say who they are.
type fakeSources struct{ missing }

type fakeKeys struct{}

func (fakeKeys) HashKey(context.Context, string) (string, error) { return "hashed", nil }

// TestStepsTakeTheExtrasGiven: the steps use the extras a main gives, and
// without one, the tasks that reach it fail, naming it.
func TestStepsTakeTheExtrasGiven(t *testing.T) {
	sources := fakeSources{}
	given := Extras{
		S3Sources:   func(*s3.Client) S3Sources { return sources },
		ReceiptKeys: func(aws.Config, string) workflow.KeyHasher { return fakeKeys{} },
	}
	tests := []struct {
		name        string
		extras      Extras
		wantSources S3Sources
		wantKeyErr  string // what hashing fails naming; "" where it hashes
	}{
		{name: "none", extras: Extras{}, wantSources: missing("the reader of S3 sources"), wantKeyErr: "the receipt key"},
		{name: "both", extras: given, wantSources: sources},
		{name: "receipt key only", extras: Extras{ReceiptKeys: given.ReceiptKeys}, wantSources: missing("the reader of S3 sources")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New(Config{RequestsTable: "requests", ExportsBucket: "exports", MailFrom: "privacy@example.com", BaseURL: "https://dsr.example"},
				aws.Config{Region: "us-east-1"}, slog.New(slog.NewTextHandler(io.Discard, nil)), tt.extras)
			if err != nil {
				t.Fatal(err)
			}
			steps := a.steps()
			if steps.Objects != tt.wantSources || steps.Adapters["s3"] != tt.wantSources {
				t.Errorf("S3 sources %#v and %#v, want %#v", steps.Objects, steps.Adapters["s3"], tt.wantSources)
			}
			_, err = steps.KeyHasher.HashKey(context.Background(), "key")
			switch {
			case tt.wantKeyErr == "" && err != nil:
				t.Errorf("hashing: %v", err)
			case tt.wantKeyErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantKeyErr)):
				t.Errorf("hashing: %v, want an error naming %q", err, tt.wantKeyErr)
			}
		})
	}
}
