package statute

import (
	"fmt"
	"slices"
)

// The elements a notice may carry, by the key the rules file uses. Each is a
// thing the law requires a notice to tell (or, marked in the rules, a thing
// we tell because it is true and useful), beyond the notice's own facts
// (reasons, dates). The workflow picks them from the rule of the request's
// law and type, by key; notify renders each in the subject's language.
const (
	// SupervisoryAuthority: the right to lodge a complaint with a
	// supervisory authority (GDPR Art 12(4), Art 77), named where the
	// jurisdiction has one; under a law with many (EU), the company's lead
	// authority if it names one, and the authority of the member state where
	// the subject lives, works or where the infringement took place.
	SupervisoryAuthority = "supervisory_authority"
	// JudicialRemedy: the right to seek a judicial remedy (GDPR Art 12(4), Art 79).
	JudicialRemedy = "judicial_remedy"
	// Appeal: how to appeal the decision (US state laws on the Virginia model).
	Appeal = "appeal"
	// AGComplaint: after a denied appeal, how to submit a complaint to the
	// state's Attorney General (its online mechanism where it has one).
	AGComplaint = "ag_complaint"
	// OPCComplaint: the right to complain to the Privacy Commissioner of
	// Canada (PIPEDA s.8(4), s.8(7)).
	OPCComplaint = "opc_complaint"
	// CAIReview: review by the Commission d'accès à l'information, applied
	// for within 30 days (Quebec).
	CAIReview = "cai_review_30_days"
	// ProvisionReliedOn: the provision of law a refusal rests on (Quebec).
	ProvisionReliedOn = "provision_relied_on"
	// OfferOfHelp: an offer to help the subject understand a refusal (Quebec).
	OfferOfHelp = "offer_of_help"
	// AuthorityPetition: the right to petition the national authority about
	// one's data (LGPD Art 18 §1).
	AuthorityPetition = "authority_petition"
	// AuthorityReport: reporting the matter to an authority that may
	// investigate (FADP Art 49).
	AuthorityReport = "authority_report"
	// AuthorityComplaint: the authority that oversees the law and takes
	// complaints, where no remedy is required but one exists.
	AuthorityComplaint = "authority_complaint"
	// Objection: how to object to the decision with the controller (PIPA
	// Art 38(5)).
	Objection = "objection"
	// OptOutOffer: an unverifiable deletion request is offered as an opt-out
	// of sale and sharing, which needs no verification (CCPA Regs §7022).
	OptOutOffer = "opt_out_offer"
	// CategoriesInstead: an unverifiable request for specific pieces of
	// information is treated as one for categories and, as that cannot be
	// verified either, the subject is pointed to the privacy notice (CCPA
	// Regs §7024).
	CategoriesInstead = "categories_instead"
	// WrittenStatement: after a denied correction, the subject may send a
	// written statement of up to 250 words to be kept with the data (CCPA
	// Regs §7023).
	WrittenStatement = "written_statement_250_words"
	// RetainedUseLimited: after a deletion in part, the rest was deleted and
	// what was kept is used only for the exception named (CCPA Regs §7022).
	RetainedUseLimited = "retained_use_limited"
	// VerificationProcess: the acknowledgement describes, in general, how
	// the request is verified (CCPA Regs §7021(a)).
	VerificationProcess = "verification_process"
	// HowHandled: the acknowledgement says how the request will be handled
	// (CCPA Regs §7021(a)).
	HowHandled = "how_handled"
)

// Elements lists every element a rules file may name.
var Elements = []string{
	SupervisoryAuthority, JudicialRemedy, Appeal, AGComplaint, OPCComplaint, CAIReview,
	ProvisionReliedOn, OfferOfHelp, AuthorityPetition, AuthorityReport, AuthorityComplaint,
	Objection, OptOutOffer, CategoriesInstead, WrittenStatement, RetainedUseLimited,
	VerificationProcess, HowHandled,
}

// namesAuthority lists the elements that name the jurisdiction's authority.
var namesAuthority = []string{SupervisoryAuthority, AGComplaint, OPCComplaint, CAIReview,
	AuthorityPetition, AuthorityReport, AuthorityComplaint}

// Authority is a body a notice names, with where to reach it. Names stay in
// their own language.
type Authority struct {
	Name string `yaml:"name"`
	URL  string `yaml:"url"`
	// Members lists the authorities where a law has no single one (the
	// GDPR's: one per member state); Name and URL are then empty.
	Members string `yaml:"members"`
	// Cite is where the law makes it the body to turn to; Status how well
	// the name and address are verified (V, S, M, as for periods: an
	// address from our knowledge is M).
	Cite   string `yaml:"cite"`
	Status string `yaml:"status"`
	Note   string `yaml:"note"`
}

// NoticeKind names a notice whose content the law sets.
type NoticeKind string

// The notices whose content the rules set.
const (
	AckNotice        NoticeKind = "ack"
	ExtensionNotice  NoticeKind = "extension"
	DenialNotice     NoticeKind = "denial"
	UnverifiedNotice NoticeKind = "unverified"
	PartialNotice    NoticeKind = "partial"
)

// NoticeKinds lists every notice kind.
var NoticeKinds = []NoticeKind{AckNotice, ExtensionNotice, DenialNotice, UnverifiedNotice, PartialNotice}

// NoticeContent is what one notice must carry under one law, for one type
// of request.
type NoticeContent struct {
	// Carries are the elements, in the order the notice gives them.
	Carries []string
	// Authority is the body the elements name; nil where none is (a law
	// that names no authority, or a notice that names none).
	Authority *Authority
	// Law is the law's name, which a refusal relying on it names.
	Law          string
	Cite, Status string
}

// Notice returns what a notice of kind must carry for a request of type typ
// under the law of code. A notice the law sets nothing for carries nothing.
func (r *Rules) Notice(code, typ string, kind NoticeKind) (NoticeContent, error) {
	j := r.Jurisdiction(code)
	if j == nil {
		return NoticeContent{}, fmt.Errorf("%w %q", ErrUnknownJurisdiction, code)
	}
	if !slices.Contains(RequestTypes, typ) {
		return NoticeContent{}, fmt.Errorf("%w %q", ErrUnknownType, typ)
	}
	if j.rule(typ).NotProvided {
		return NoticeContent{}, fmt.Errorf("%s %s: %w", j.Code, typ, ErrNotProvided)
	}
	return j.notice(typ, kind), nil
}

// notice is what a notice of kind carries for requests of type typ.
func (j *Jurisdiction) notice(typ string, kind NoticeKind) NoticeContent {
	rule := j.rule(typ)
	c := NoticeContent{Law: j.Law}
	switch n := rule.notice(kind); {
	case n != nil:
		c.Carries, c.Cite, c.Status = n.Carries, n.Cite, n.Status
	case kind == AckNotice && rule.Ack != nil:
		c.Carries, c.Cite, c.Status = rule.Ack.Carries, rule.Ack.Cite, rule.Ack.Status
	case kind == ExtensionNotice && rule.Extension != nil:
		c.Carries, c.Cite, c.Status = rule.Extension.Carries, rule.Extension.Cite, rule.Extension.Status
	}
	if slices.ContainsFunc(c.Carries, func(e string) bool { return slices.Contains(namesAuthority, e) }) {
		c.Authority = j.Authority
	}
	return c
}

// notice is the rule's refusal-like notice of kind: an unverified request
// and a deletion in part are refusals unless the rule says otherwise.
func (r Rule) notice(kind NoticeKind) *Notice {
	switch kind {
	case DenialNotice:
		return r.Denial
	case UnverifiedNotice:
		if r.Unverified != nil {
			return r.Unverified
		}
		return r.Denial
	case PartialNotice:
		if r.Partial != nil {
			return r.Partial
		}
		return r.Denial
	}
	return nil
}

// checkNotices checks what the jurisdiction's notices carry: known
// elements, an authority where they name one, and no appeal where the law
// gives none or after an appeal.
func (j *Jurisdiction) checkNotices() []string {
	var problems []string
	if a := j.Authority; a != nil {
		if (a.Name == "" || a.URL == "") && a.Members == "" {
			problems = append(problems, j.Code+": an authority needs a name and a URL, or a list of members")
		}
		if a.Cite == "" || !slices.Contains(validStatus, a.Status) {
			problems = append(problems, j.Code+": an authority needs a citation and a status V, S or M")
		}
	}
	appealGiven := !j.rule("appeal").NotProvided
	for _, typ := range RequestTypes {
		rule := j.rule(typ)
		if rule.NotProvided {
			continue
		}
		for _, kind := range NoticeKinds {
			c := j.notice(typ, kind)
			at := fmt.Sprintf("%s %s %s notice", j.Code, typ, kind)
			for _, e := range c.Carries {
				switch {
				case !slices.Contains(Elements, e):
					problems = append(problems, fmt.Sprintf("%s: unknown element %q", at, e))
				case slices.Contains(namesAuthority, e) && j.Authority == nil:
					problems = append(problems, fmt.Sprintf("%s: %s names an authority, and the jurisdiction has none", at, e))
				case e == SupervisoryAuthority:
					// Named, or under a law with many, the member states'
					// (and the company's lead): a list will do.
				case slices.Contains(namesAuthority, e) && j.Authority.Name == "":
					problems = append(problems, fmt.Sprintf("%s: %s names one authority, and the jurisdiction has only a list", at, e))
				case e == Appeal && !appealGiven:
					problems = append(problems, fmt.Sprintf("%s: offers an appeal the law does not give", at))
				case e == Appeal && typ == "appeal":
					problems = append(problems, fmt.Sprintf("%s: offers an appeal of an appeal", at))
				}
			}
			if n := rule.notice(kind); n != nil && n.Cite != "" && !slices.Contains(validStatus, n.Status) {
				problems = append(problems, fmt.Sprintf("%s: a notice needs a status V, S or M", at))
			}
		}
	}
	return problems
}
