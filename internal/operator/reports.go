package operator

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// Lister selects requests.
type Lister interface {
	List(ctx context.Context, q request.Query) ([]*request.Request, error)
}

// Reports answers the operators' questions about many requests: what is
// open and when it is due, the record of requests regulators ask for, and
// yearly metrics.
type Reports struct {
	Store Lister
	Clock clock.Clock
}

// Filter narrows a list of requests.
type Filter struct {
	Status       request.Status // empty: every open request
	Jurisdiction string
	Overdue      bool
	// DueWithin keeps requests due within this many days from today; 0 keeps all.
	DueWithin int
	// NeedsDecision keeps the requests whose deadline watch waits for the
	// operators to decide whether to extend.
	NeedsDecision bool
}

// Row is one request in a list.
type Row struct {
	ID           string    `json:"id"`
	Type         string    `json:"type"`
	Status       string    `json:"status"`
	Jurisdiction string    `json:"jurisdiction"`
	ReceivedAt   time.Time `json:"received_at"`
	Due          string    `json:"due"`
	DaysLeft     int       `json:"days_left"`
	Extended     bool      `json:"extended"`
	Overdue      bool      `json:"overdue"`
	WaitsFor     string    `json:"waits_for"`
}

// waitsFor says in words what a request is waiting for.
func waitsFor(r *request.Request) string {
	switch {
	case r.Status.Closed():
		return ""
	case r.Status == request.PendingVerification && r.Agent.PowerOfAttorney:
		return "an operator to review the agent's power of attorney"
	case r.Extension.TaskToken != "":
		return "a decision whether to extend (privacyctl extend, or keep-date)"
	case r.Extension.Decision == request.ExtensionUndecided && r.NeedsOperator && !r.Overdue:
		return "an operator: nobody decided on an extension"
	case r.NeedsOperator:
		return "an operator (failed or overdue)"
	case r.Review.TaskToken != "":
		return "an operator's review"
	case r.OnHold:
		return "the release of a legal hold"
	case r.Status == request.PendingVerification && r.Verification.Locked:
		return "an operator to verify the subject (too many wrong attempts)"
	case r.Status == request.PendingVerification:
		return "the subject's confirmation"
	default:
		return "the workflow"
	}
}

// List returns the requests that match f, soonest due first.
func (rp *Reports) List(ctx context.Context, f Filter) ([]Row, error) {
	statuses := request.OpenStatuses
	if f.Status != "" {
		statuses = []request.Status{f.Status}
	}
	reqs, err := rp.Store.List(ctx, request.Query{Statuses: statuses})
	if err != nil {
		return nil, err
	}
	today := rp.Clock.Now().UTC()
	var rows []Row
	for _, r := range reqs {
		daysLeft := int(r.Deadlines.Due.EndOfDay(time.UTC).Sub(today).Hours() / 24)
		switch {
		case f.Jurisdiction != "" && r.Jurisdiction != f.Jurisdiction,
			f.Overdue && !r.Overdue,
			f.NeedsDecision && r.Extension.TaskToken == "",
			f.DueWithin > 0 && daysLeft > f.DueWithin:
			continue
		}
		rows = append(rows, Row{ID: r.ID, Type: string(r.Type), Status: string(r.Status), Jurisdiction: r.Jurisdiction,
			ReceivedAt: r.ReceivedAt, Due: r.Deadlines.Due.String(), DaysLeft: daysLeft, Extended: r.Extended,
			Overdue: r.Overdue, WaitsFor: waitsFor(r)})
	}
	slices.SortStableFunc(rows, func(a, b Row) int { return a.DaysLeft - b.DaysLeft })
	return rows, nil
}

// Record is one line of the record of requests and responses that CCPA
// Regs §7101 requires to be kept for 24 months (Colorado Rule 6.11 asks the
// same): no personal data beyond the request id.
type Record struct {
	RequestID    string `json:"request_id"`
	RequestDate  string `json:"request_date"`
	Nature       string `json:"nature"`
	Jurisdiction string `json:"jurisdiction"`
	Manner       string `json:"manner"`
	ResponseDate string `json:"response_date"`
	Response     string `json:"response"`
	DenialBasis  string `json:"denial_basis"`
}

// Records returns the record of requests received since the given time.
func (rp *Reports) Records(ctx context.Context, since time.Time) ([]Record, error) {
	reqs, err := rp.Store.List(ctx, request.Query{Since: since})
	if err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(reqs))
	for _, r := range reqs {
		rec := Record{RequestID: r.ID, RequestDate: r.ReceivedAt.UTC().Format(time.DateOnly), Nature: string(r.Type),
			Jurisdiction: r.Jurisdiction, Manner: "web form or API", Response: string(r.Status)}
		if at, ok := respondedAt(r); ok {
			rec.ResponseDate = at.UTC().Format(time.DateOnly)
		}
		switch r.Status {
		case request.Denied:
			rec.DenialBasis = strings.Join(r.Denial.Reasons, "; ")
		case request.Expired:
			rec.DenialBasis = "identity not verified"
		}
		out = append(out, rec)
	}
	return out, nil
}

// respondedAt is when a closed request got its answer.
func respondedAt(r *request.Request) (time.Time, bool) {
	switch {
	case !r.Status.Closed():
		return time.Time{}, false
	case !r.CompletedAt.IsZero():
		return r.CompletedAt, true
	default:
		return r.UpdatedAt, true
	}
}

// TypeMetrics are the figures CCPA Regs §7102 asks for, for one request type.
type TypeMetrics struct {
	Type     string `json:"type"`
	Received int    `json:"received"`
	Complied int    `json:"complied_in_whole_or_part"`
	Denied   int    `json:"denied"`
	Open     int    `json:"open"`
	// MedianDays is the median number of days from receipt to answer of the
	// requests answered; nil when none was.
	MedianDays *float64 `json:"median_days_to_respond"`
}

// Metrics returns, per request type, the figures for requests received in year.
func (rp *Reports) Metrics(ctx context.Context, year int) ([]TypeMetrics, error) {
	if year < 2018 || year > 9999 {
		return nil, apperr.InvalidFields(apperr.FieldError{Field: "year", Detail: "Give a year from 2018 on."})
	}
	since := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	reqs, err := rp.Store.List(ctx, request.Query{Since: since, Until: since.AddDate(1, 0, 0).Add(-time.Nanosecond)})
	if err != nil {
		return nil, err
	}
	byType := map[string]*TypeMetrics{}
	days := map[string][]float64{}
	for _, r := range reqs {
		m := byType[string(r.Type)]
		if m == nil {
			m = &TypeMetrics{Type: string(r.Type)}
			byType[m.Type] = m
		}
		m.Received++
		switch r.Status {
		case request.Completed:
			m.Complied++
		case request.Denied, request.Expired:
			m.Denied++
		case request.Cancelled:
		default:
			m.Open++
		}
		if at, ok := respondedAt(r); ok && r.Status != request.Cancelled {
			days[m.Type] = append(days[m.Type], at.Sub(r.ReceivedAt).Hours()/24)
		}
	}
	var out []TypeMetrics
	for _, t := range request.AllTypes {
		if m := byType[string(t)]; m != nil {
			m.MedianDays = median(days[m.Type])
			out = append(out, *m)
		}
	}
	return out, nil
}

func median(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	slices.Sort(xs)
	m := xs[len(xs)/2]
	if len(xs)%2 == 0 {
		m = (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
	}
	m = float64(int(m*10+0.5)) / 10
	return &m
}

// Backlog counts the open requests and those due within days, for the
// scheduled report that alarms before deadlines pass.
func (rp *Reports) Backlog(ctx context.Context, days int) (open, dueSoon int, err error) {
	rows, err := rp.List(ctx, Filter{})
	if err != nil {
		return 0, 0, err
	}
	for _, r := range rows {
		if r.DaysLeft <= days {
			dueSoon++
		}
	}
	return len(rows), dueSoon, nil
}
