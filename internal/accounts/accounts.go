// Package accounts reads the account source of the data-source registry:
// the details held about the customer whose email address a request gives,
// which verification levels above email check a requester's details against.
package accounts

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/registry"
)

// Finder finds a subject's records in one source (dynsrc for DynamoDB), and
// the places it could not read (none in DynamoDB).
type Finder interface {
	Find(ctx context.Context, src *registry.Source, ids map[string][]string) ([]map[string]any, []erasure.Finding, error)
}

// Accounts reads the registry's account source.
type Accounts struct {
	src    *registry.Source
	kinds  []registry.Category
	finder Finder
}

// New returns the account reader of reg, or nil when reg marks no account
// source.
func New(reg *registry.Registry, finder Finder) *Accounts {
	src := reg.Account()
	if src == nil {
		return nil
	}
	return &Accounts{src: src, kinds: reg.AccountKinds(), finder: finder}
}

// Kinds are the data points the account source holds.
func (a *Accounts) Kinds() []registry.Category { return a.kinds }

// DataPoints returns the data points of the account of email: one query by
// the address, whether or not it has an account. No account gives an empty
// map; a value that is not a string or a number is left out.
func (a *Accounts) DataPoints(ctx context.Context, email string) (map[string]string, error) {
	recs, _, err := a.finder.Find(ctx, a.src, map[string][]string{registry.StartIdentity: {email}})
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	if len(recs) == 0 {
		return out, nil
	}
	for kind, attr := range a.src.DataPoints {
		switch v := recs[0][attr].(type) {
		case string:
			out[kind] = v
		case json.Number: // how dynsrc gives numbers
			out[kind] = v.String()
		case int, int64, float64:
			out[kind] = fmt.Sprint(v)
		}
	}
	return out, nil
}
