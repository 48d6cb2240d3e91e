package manualtask

import (
	"context"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// Requests reads the request a task belongs to.
type Requests interface {
	Get(ctx context.Context, id string) (*request.Request, error)
}

// Page is what the owner's link shows: the task, the system, and whom to
// look for there (the subject's values of the identities the source lists,
// and only those). Only the holder of the link's token sees it.
type Page struct {
	Task        Task
	Description string
	Identities  []Identity
	// Corrections are, for a correction, the fields and their new values.
	Corrections []Identity
}

// Identity is a kind of identity and the subject's values of it.
type Identity struct {
	Kind   string
	Values []string
}

// Page returns what the link of a task shows, after checking its token.
func (s *Answerer) Page(ctx context.Context, requestID, sourceID, token string) (Page, error) {
	t, err := s.Authorized(ctx, requestID, sourceID, token)
	if err != nil {
		return Page{}, err
	}
	src := s.Registry.Source(sourceID)
	if src == nil || src.Manual == nil {
		return Page{}, apperr.E(apperr.NotFound, "This link is not valid. Ask the privacy team for a new one.")
	}
	r, err := s.Requests.Get(ctx, requestID)
	if err != nil {
		return Page{}, err
	}
	p := Page{Task: t, Description: src.Description}
	for _, kind := range src.Manual.Identities {
		if vs := r.Identities[kind]; len(vs) > 0 {
			p.Identities = append(p.Identities, Identity{Kind: kind, Values: vs})
		}
	}
	if t.Type == "correct" {
		for _, field := range r.Correction.Values.Fields() {
			p.Corrections = append(p.Corrections, Identity{Kind: field, Values: []string{r.Correction.Values[field]}})
		}
	}
	return p, nil
}
