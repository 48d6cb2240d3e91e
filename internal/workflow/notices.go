package workflow

import (
	"slices"
	"sync"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/links"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/statute"
)

// projectRules are the rules file the project embeds, loaded once, for
// Steps that were given none.
var projectRules = sync.OnceValues(statute.Load)

// remedy is what a notice of kind must carry for request r under its law,
// by the explicit keys of the rule for its type, with what they name: the
// law's authority, the company's lead authority where the law names none,
// and where the subject can opt out or read the privacy notice.
func (s *Steps) remedy(r *request.Request, kind statute.NoticeKind) (notify.Remedy, error) {
	rules := s.Rules
	if rules == nil {
		var err error
		if rules, err = projectRules(); err != nil {
			return notify.Remedy{}, apperr.Wrap(apperr.Internal, "The statutory rules could not be read.", err)
		}
	}
	c, err := rules.Notice(r.Jurisdiction, string(r.Type), kind)
	if err != nil {
		return notify.Remedy{}, apperr.Wrap(apperr.Internal, "What the notice must carry could not be found.", err)
	}
	rem := notify.Remedy{Elements: c.Carries, Law: c.Law, Lead: s.LeadAuthority, PrivacyNotice: s.PrivacyNoticeURL, DPO: s.DPO}
	if a := c.Authority; a != nil {
		rem.Authority, rem.Members = notify.Authority{Name: a.Name, URL: a.URL}, a.Members
	}
	if s.BaseURL != "" {
		// The form, opened at the request's law, offers the opt-out.
		rem.OptOutLink = links.Base(s.BaseURL).Form(r.Jurisdiction, r.Language)
		if slices.Contains(c.Carries, statute.Appeal) {
			// The form, opened at the appeal of this request.
			rem.AppealLink = links.Base(s.BaseURL).Appeal(r.Jurisdiction, r.ID, r.Language)
		}
	}
	return rem, nil
}
