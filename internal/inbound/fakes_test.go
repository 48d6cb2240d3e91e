package inbound

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/portal"
	"github.com/privacy-pipeline/dsr/internal/request"
)

type fakeRaw struct {
	mu      sync.Mutex
	objects map[string]string
	tags    map[string]string
	failTag bool
}

func newFakeRaw() *fakeRaw { return &fakeRaw{objects: map[string]string{}, tags: map[string]string{}} }

func (f *fakeRaw) Open(_ context.Context, key string) (io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	raw, ok := f.objects[key]
	if !ok {
		return nil, apperr.E(apperr.NotFound, "No such message.")
	}
	return io.NopCloser(bytes.NewReader([]byte(raw))), nil
}

func (f *fakeRaw) Disposition(_ context.Context, key string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.objects[key]; !ok {
		return "", apperr.E(apperr.NotFound, "No such message.")
	}
	return f.tags[key], nil
}

func (f *fakeRaw) SetDisposition(_ context.Context, key, d string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failTag {
		return apperr.E(apperr.Unavailable, "down")
	}
	f.tags[key] = d
	return nil
}

type fakeQueue struct {
	items   []Item
	failPut bool
}

func (q *fakeQueue) Put(_ context.Context, it Item) error {
	if q.failPut {
		return apperr.E(apperr.Unavailable, "down")
	}
	q.items = append(q.items, it)
	return nil
}

func (q *fakeQueue) List(context.Context) ([]Item, error) { return slices.Clone(q.items), nil }

func (q *fakeQueue) Take(_ context.Context, id string) (Item, error) {
	i := slices.IndexFunc(q.items, func(it Item) bool { return it.ID == id })
	if i < 0 {
		return Item{}, apperr.E(apperr.NotFound, "No such mail in the inbox.")
	}
	it := q.items[i]
	q.items = slices.Delete(q.items, i, i+1)
	return it, nil
}

// fakePortal validates like the real one and refuses what refuse says. It
// offers every type, or those in offered, and the demo's correctable fields.
type fakePortal struct {
	got     []request.Submission
	refuse  error
	offered []request.Type
	// correctable overrides the fields a correction may change.
	correctable []string
}

func (p *fakePortal) Offered(string) []portal.Offer {
	var out []portal.Offer
	for _, t := range request.SupportedTypes() {
		if p.offered != nil && !slices.Contains(p.offered, t) {
			continue
		}
		o := portal.Offer{Type: t}
		if t == request.Correct {
			o.Fields = []string{"name", "phone", "postal_code"}
			if p.correctable != nil {
				o.Fields = p.correctable
			}
		}
		out = append(out, o)
	}
	return out
}

func (p *fakePortal) Submit(_ context.Context, in request.Submission) (portal.Receipt, error) {
	if p.refuse != nil {
		return portal.Receipt{}, p.refuse
	}
	in, err := in.Validate()
	if err != nil {
		return portal.Receipt{}, err
	}
	p.got = append(p.got, in)
	return portal.Receipt{ID: request.MailRequestID(in.Mail.Key, in.Mail.Part, in.Mail.ReceivedAt, in.Mail.ReceivedAt), Status: "received"}, nil
}

type fakeAudit struct{ events map[string][]request.Event }

func (a *fakeAudit) Record(_ context.Context, id string, ev request.Event) error {
	if a.events == nil {
		a.events = map[string][]request.Event{}
	}
	a.events[id] = append(a.events[id], ev)
	return nil
}

func (a *fakeAudit) actions(id string) string {
	var s []string
	for _, ev := range a.events[id] {
		s = append(s, ev.Actor+" "+ev.Action+" "+ev.Note)
	}
	return strings.Join(s, "; ")
}
