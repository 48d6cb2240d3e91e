package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/privacy-pipeline/dsr/internal/app"
	"github.com/privacy-pipeline/dsr/internal/policy"
)

// policyCmd checks a company policy file and says what it changes.
func policyCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) != 2 || args[0] != "check" {
		return fmt.Errorf("%w: policy needs a command: privacyctl policy check FILE", errUsage)
	}
	file := args[1]
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	p, err := policy.Parse(b, app.KnownToPolicy())
	if err != nil {
		for _, line := range strings.Split(strings.TrimRight(err.Error(), "\n"), "\n") {
			fmt.Fprintf(stderr, "%s: %s\n", file, line)
		}
		return errInvalid
	}
	fmt.Fprintf(stdout, "%s: valid\n", file)
	say := func(what, value string) { fmt.Fprintf(stdout, "  %-22s %s\n", what, value) }
	if p.ResponseDays > 0 {
		say("deadline", fmt.Sprintf("within %d days of receipt, or the law's date if earlier", p.ResponseDays))
	} else {
		say("deadline", "the law's")
	}
	switch {
	case p.ExtensionsForbidden():
		say("extensions", "never")
	case p.ExtendsWithFacts():
		say("extensions", "an operator decides; undecided, extended only with the facts the request's state shows")
	default:
		say("extensions", "an operator decides; undecided, the date stands and the request is flagged")
	}
	if !p.ExtensionsForbidden() {
		say("operators asked", fmt.Sprintf("%.0f days before an extension notice would go out", p.DecisionLead().Hours()/24))
	}
	if a := p.LeadAuthority; a != nil {
		say("lead authority", a.Name+" "+a.URL)
	}
	if d := p.DPO; d != nil {
		say("data protection officer", strings.TrimSpace(d.Name+" "+d.Email+" "+d.URL))
	}
	if p.PrivacyNoticeURL != "" {
		say("privacy notice", p.PrivacyNoticeURL)
	}
	if len(p.Languages) > 0 {
		say("languages", strings.Join(p.Languages, ", "))
	}
	if v := p.Verification; v != nil {
		types := "every verified type"
		if len(v.Types) > 0 {
			types = strings.Join(v.Types, ", ")
		}
		say("verification", fmt.Sprintf("%d data points, declaration %v, for %s (never where the law forbids asking)", v.DataPoints, v.Declaration, types))
	}
	return nil
}
