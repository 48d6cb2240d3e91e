package policy

import (
	"fmt"
	"slices"

	"github.com/privacy-pipeline/dsr/internal/i18n"
	"github.com/privacy-pipeline/dsr/internal/statute"
)

// Deadlines applies the company's promises to the law's deadlines of a
// request: a promised response within ResponseDays calendar days of
// receipt (counted as the law counts, from the day after receipt, in the
// jurisdiction's time zone) replaces a later legal due date; the last day
// for an extension notice is then no later than it, so an extension is
// announced before the promised date passes. With Extensions never, no
// request is extended. The citations say where each number came from.
func (p *Policy) Deadlines(d statute.Deadlines) statute.Deadlines {
	if p == nil {
		return d
	}
	if p.ResponseDays > 0 {
		promised := statute.DateOf(d.Received, d.Location()).AddDays(p.ResponseDays)
		if promised.Before(d.Due) {
			d.Due = promised
			if d.ExtensionNoticeBy != nil && promised.Before(*d.ExtensionNoticeBy) {
				by := promised
				d.ExtensionNoticeBy = &by
			}
			d.Citations = append(slices.Clone(d.Citations), fmt.Sprintf("company policy: answered within %d days of receipt", p.ResponseDays))
		}
	}
	if p.ExtensionsForbidden() {
		d.ExtensionAllowed, d.ExtensionNoticeBy, d.ExtendedDue = false, nil, nil
		d.Citations = append(slices.Clone(d.Citations), "company policy: no extensions")
	}
	return d
}

// Level raises the law's verification level of a request type where the
// policy asks more. It never asks verification where the law forbids it
// (a level of none stays none: CCPA opt-outs and limits).
func (p *Policy) Level(l statute.Level, typ string) statute.Level {
	if p == nil || p.Verification == nil || l.None {
		return l
	}
	v := p.Verification
	if len(v.Types) > 0 && !slices.Contains(v.Types, typ) {
		return l
	}
	raised := l
	raised.DataPoints = max(l.DataPoints, v.DataPoints)
	raised.Declaration = l.Declaration || v.Declaration
	if raised != l {
		raised.Cite = l.Cite + "; company policy: stricter verification"
	}
	return raised
}

// Language is the language a request is answered in: the subject's own
// when the company offers it, else the first the company offers. Without
// a list, every language with a catalogue is offered.
func (p *Policy) Language(l i18n.Lang) i18n.Lang {
	if p == nil || len(p.Languages) == 0 || slices.Contains(p.Languages, string(l)) {
		return l
	}
	return i18n.Lang(p.Languages[0])
}
