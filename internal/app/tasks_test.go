package app

import (
	"io"
	"log/slog"
	"maps"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/privacy-pipeline/dsr/internal/resources"
)

// TestHandlersServeEveryFunction: the local stack hosts a handler for every
// function the state machines and the schedules invoke, under its name;
// the API is served over HTTP instead.
func TestHandlersServeEveryFunction(t *testing.T) {
	a, err := New(Config{RequestsTable: "requests", ExportsBucket: "exports", MailFrom: "privacy@example.com", BaseURL: "https://dsr.example"},
		aws.Config{Region: "us-east-1"}, slog.New(slog.NewTextHandler(io.Discard, nil)), Extras{})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range resources.Functions {
		if f.Name != resources.API.Name {
			want = append(want, f.Name)
		}
	}
	slices.Sort(want)
	if got := slices.Sorted(maps.Keys(a.Handlers())); !slices.Equal(got, want) {
		t.Errorf("handlers for %q, want %q", got, want)
	}
}
