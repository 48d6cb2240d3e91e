package statute

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestNotices: what each notice carries, by law, type and kind, with the
// authority it names; worked out by hand from the rules' citations.
func TestNotices(t *testing.T) {
	r := mustRules(t)
	tests := []struct {
		code, typ string
		kind      NoticeKind
		carries   []string
		authority string // the authority's URL, or its list of members; "" for none
		why       string
	}{
		{"EU", "access", DenialNotice, []string{SupervisoryAuthority, JudicialRemedy}, "https://edpb.europa.eu/about-edpb/about-edpb/members_en",
			"GDPR Art 12(4); no single authority: the EDPB's list (Art 77: residence, work, infringement)"},
		{"EU", "delete", UnverifiedNotice, []string{SupervisoryAuthority, JudicialRemedy}, "https://edpb.europa.eu/about-edpb/about-edpb/members_en",
			"failed identification is a refusal under Art 11(2), 12(4)"},
		{"EU", "delete", PartialNotice, []string{SupervisoryAuthority, JudicialRemedy}, "https://edpb.europa.eu/about-edpb/about-edpb/members_en",
			"data kept is a refusal in part"},
		{"EU", "access", ExtensionNotice, nil, "", "Art 12(3) asks for the reasons only"},
		{"EEA-NO", "access", DenialNotice, []string{SupervisoryAuthority, JudicialRemedy}, "https://www.datatilsynet.no", "Norway: Datatilsynet"},
		{"EEA-IS", "delete", DenialNotice, []string{SupervisoryAuthority, JudicialRemedy}, "https://www.personuvernd.is", "Iceland: Persónuvernd"},
		{"EEA-LI", "access", UnverifiedNotice, []string{SupervisoryAuthority, JudicialRemedy}, "https://www.datenschutzstelle.li", "Liechtenstein: Datenschutzstelle"},
		{"UK", "access", DenialNotice, []string{SupervisoryAuthority, JudicialRemedy}, "https://ico.org.uk", "UK GDPR Art 12(4): the Commissioner"},
		{"CH", "access", DenialNotice, []string{AuthorityReport, JudicialRemedy}, "https://www.edoeb.admin.ch", "reasons (FADP Art 26(4)); report to the FDPIC, civil claims"},
		{"US-CA", "access", AckNotice, []string{VerificationProcess, HowHandled}, "", "§7021(a): verification in general and how handled"},
		{"US-CA", "delete", AckNotice, []string{VerificationProcess, HowHandled}, "", "§7021(a) covers know, delete and correct"},
		{"US-CA", "opt_out", AckNotice, nil, "", "no acknowledgement for an opt-out (§7026)"},
		{"US-CA", "access", DenialNotice, []string{AuthorityComplaint}, "https://cppa.ca.gov/webapplications/complaint", "no appeal in the CCPA"},
		{"US-CA", "access", UnverifiedNotice, []string{CategoriesInstead}, "", "§7024: specific pieces unverifiable -> categories"},
		{"US-CA", "portability", UnverifiedNotice, []string{CategoriesInstead}, "", "a portable copy is specific pieces too"},
		{"US-CA", "delete", UnverifiedNotice, []string{OptOutOffer}, "", "§7022: offered as an opt-out of sale and sharing"},
		{"US-CA", "delete", PartialNotice, []string{RetainedUseLimited}, "", "§7022: kept only for the exception"},
		{"US-CA", "correct", DenialNotice, []string{WrittenStatement, AuthorityComplaint}, "https://cppa.ca.gov/webapplications/complaint", "§7023: the 250-word statement"},
		{"US-CA", "correct", UnverifiedNotice, []string{AuthorityComplaint}, "https://cppa.ca.gov/webapplications/complaint", "nothing to contest when never verified"},
		{"US-VA", "access", DenialNotice, []string{Appeal}, "", "59.1-577(B)(2): justification and how to appeal"},
		{"US-VA", "appeal", DenialNotice, []string{AGComplaint}, "https://www.oag.state.va.us/consumer-protection/index.php/file-a-complaint", "59.1-577(C): a denied appeal goes to the Attorney General, not to another appeal"},
		{"US-OR", "appeal", DenialNotice, []string{AGComplaint}, "https://justice.oregon.gov/consumercomplaints/", "Virginia-model appeal decision, assumed"},
		{"US-NJ", "access", DenialNotice, []string{Appeal}, "", "56:8-166.7(c)"},
		{"US-NJ", "appeal", DenialNotice, []string{AGComplaint}, "https://www.njconsumeraffairs.gov/Pages/Consumer-Complaints.aspx", "the Attorney General acts through Consumer Affairs"},
		{"US-NE", "appeal", DenialNotice, []string{AGComplaint}, "https://protectthegoodlife.nebraska.gov/", "87-1109(4): online mechanism"},
		{"US-UT", "access", DenialNotice, []string{AuthorityComplaint}, "https://dcp.utah.gov/complaints/", "13-61-203(3): reasons; no appeal"},
		{"CA-FED", "access", ExtensionNotice, []string{OPCComplaint}, "https://www.priv.gc.ca", "PIPEDA s.8(4): the right to complain"},
		{"CA-FED", "access", DenialNotice, []string{OPCComplaint}, "https://www.priv.gc.ca", "s.8(7): the recourse"},
		{"CA-FED", "delete", ExtensionNotice, nil, "", "no extension where PIPEDA sets no period"},
		{"CA-QC", "access", DenialNotice, []string{ProvisionReliedOn, CAIReview, OfferOfHelp}, "https://www.cai.gouv.qc.ca", "P-39.1 s.34"},
		{"BR", "access", DenialNotice, []string{AuthorityPetition}, "https://www.gov.br/anpd", "LGPD Art 18 §1, §4"},
		{"KR", "delete", DenialNotice, []string{Objection, AuthorityComplaint}, "https://www.pipc.go.kr", "Decree 43(3): grounds and how to object"},
	}
	for _, tt := range tests {
		c, err := r.Notice(tt.code, tt.typ, tt.kind)
		if err != nil {
			t.Fatalf("%s %s %s: %v", tt.code, tt.typ, tt.kind, err)
		}
		if !slices.Equal(c.Carries, tt.carries) {
			t.Errorf("%s %s %s (%s): carries %v, want %v", tt.code, tt.typ, tt.kind, tt.why, c.Carries, tt.carries)
		}
		got := ""
		if c.Authority != nil {
			got = c.Authority.URL + c.Authority.Members
		}
		if got != tt.authority {
			t.Errorf("%s %s %s (%s): authority %q, want %q", tt.code, tt.typ, tt.kind, tt.why, got, tt.authority)
		}
	}
	if _, err := r.Notice("US-CA", "appeal", DenialNotice); !errors.Is(err, ErrNotProvided) {
		t.Errorf("a CCPA appeal notice: %v, want ErrNotProvided", err)
	}
	if _, err := r.Notice("XX", "access", DenialNotice); !errors.Is(err, ErrUnknownJurisdiction) {
		t.Errorf("unknown jurisdiction: %v", err)
	}
}

// TestNoAppealWhereTheLawGivesNone: across every law, type and notice, an
// appeal is offered only where the law gives one, never after an appeal,
// and every appeal decision that denies names the Attorney General.
func TestNoAppealWhereTheLawGivesNone(t *testing.T) {
	r := mustRules(t)
	for _, j := range r.Jurisdictions {
		appealGiven, _ := r.Grants(j.Code, "appeal")
		for _, typ := range RequestTypes {
			for _, kind := range NoticeKinds {
				c, err := r.Notice(j.Code, typ, kind)
				if errors.Is(err, ErrNotProvided) {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if slices.Contains(c.Carries, Appeal) && (!appealGiven || typ == "appeal") {
					t.Errorf("%s %s %s offers an appeal", j.Code, typ, kind)
				}
				if typ == "appeal" && kind == DenialNotice && strings.HasPrefix(j.Code, "US-") && !slices.Contains(c.Carries, AGComplaint) {
					t.Errorf("%s: a denied appeal does not name the Attorney General", j.Code)
				}
			}
		}
	}
}

func TestParseRejectsBadNotices(t *testing.T) {
	const head = "jurisdictions:\n  - code: X\n    time_zone: UTC\n    calendar: weekends\n"
	const rule = "    default:\n      verification: true\n      clock_start: receipt\n      response: {amount: 1, unit: months, cite: a, status: V}\n"
	const authority = "    authority: {name: N, url: https://n.example, cite: a, status: S}\n"
	tests := []struct{ name, yaml, want string }{
		{"unknown element", head + authority + rule + "      denial: {carries: [complain_loudly], cite: a, status: V}\n", "unknown element"},
		{"authority missing", head + rule + "      denial: {carries: [ag_complaint], cite: a, status: V}\n", "names an authority"},
		{"an appeal the law does not give", head + rule + "      denial: {carries: [appeal], cite: a, status: V}\n    types:\n      appeal: {not_provided: true}\n", "does not give"},
		{"an appeal of an appeal", head + rule + "      denial: {carries: [appeal], cite: a, status: V}\n", "appeal of an appeal"},
		{"a list where one authority is named", head + "    authority: {members: https://list.example, cite: a, status: S}\n" + rule + "      denial: {carries: [ag_complaint], cite: a, status: V}\n", "only a list"},
		{"an authority without an address", head + "    authority: {name: N, cite: a, status: S}\n" + rule, "needs a name and a URL"},
		{"an authority without a status", head + "    authority: {name: N, url: https://n.example, cite: a}\n" + rule, "citation and a status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}
