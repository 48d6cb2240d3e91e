package notify

import (
	"fmt"
	htmltemplate "html/template"
	"maps"
	"slices"
	"strings"

	"github.com/privacy-pipeline/dsr/internal/i18n"
)

// RecipientMail is a notice to a recipient told by email: the request,
// what it asks of the recipient, and whom it concerns. Unlike the mails to
// subjects it carries identities, as the recipient cannot act without
// them; only those the registry says the recipient knows.
type RecipientMail struct {
	NoticeID, RequestID string
	// Recipient is the recipient's name in the registry.
	Recipient string
	// Type is the request's type; Action what the recipient is asked to
	// do (see recipient.Action).
	Type, Action string
	Identities   map[string][]string
	// Corrections are the corrected fields' new values (a correction).
	Corrections            map[string]string
	Jurisdiction, Citation string
}

// recipientAsks says what each action asks of a recipient: in a subject
// line, and in a sentence.
var recipientAsks = map[string]struct{ short, ask string }{
	"erase":                {"erase a person's data", "erase the personal data you hold of the person below"},
	"correct":              {"correct a person's data", "correct the personal data you hold of the person below as shown"},
	"restrict":             {"restrict the use of a person's data", "restrict the processing of the personal data you hold of the person below: keep it, but use it only as the law allows during a restriction"},
	"stop_selling_sharing": {"stop selling or sharing a person's data", "stop selling or sharing the personal information of the person below"},
	"limit_use":            {"limit the use of a person's sensitive data", "use the sensitive personal information of the person below only for what the law allows without consent"},
}

// RecipientNotice passes a request on to a recipient by email (in English:
// a company's mail to another). The subject line names the request only.
func RecipientNotice(to string, n RecipientMail) (Message, error) {
	asks, ok := recipientAsks[n.Action]
	if !ok {
		return Message{}, fmt.Errorf("notify: no notice for action %q", n.Action)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "To %s:\n\nA person whose personal data we disclosed to you has made a privacy request (%s, %s). Please %s.\n\nThe person, as you know them:\n", n.Recipient, n.RequestID, n.Type, asks.ask)
	for _, kind := range slices.Sorted(maps.Keys(n.Identities)) {
		for _, v := range n.Identities[kind] {
			fmt.Fprintf(&b, "  %s: %s\n", kind, v)
		}
	}
	if len(n.Corrections) > 0 {
		b.WriteString("\nThe corrected values:\n")
		for _, field := range slices.Sorted(maps.Keys(n.Corrections)) {
			fmt.Fprintf(&b, "  %s: %s\n", field, n.Corrections[field])
		}
	}
	law := n.Jurisdiction
	if n.Citation != "" {
		law += "; " + n.Citation
	}
	fmt.Fprintf(&b, "\nThe request was made under: %s.\n\nNotice %s. It may reach you more than once; act on it once.\n", law, n.NoticeID)
	text := b.String()
	return Message{To: to, Subject: "Privacy request " + n.RequestID + ": please " + asks.short,
		Text: text, HTML: "<pre>" + htmltemplate.HTMLEscapeString(text) + "</pre>", Language: i18n.English}, nil
}

// RecipientUnreached tells the operators that a request could not be
// passed on to a recipient after every try (reason: the class of the last
// failure), so that they tell the recipient themselves. It names ids and
// the recipient, never the subject.
func RecipientUnreached(to, requestID, typ, recipientID, name, reason string, tries int) Message {
	text := fmt.Sprintf("Request %s (%s) must be passed on to the recipient %s (%s), but %d tries failed; the last: %s.\n\n"+
		"Please tell the recipient what the request asks yourself (privacyctl show %s), and keep a record of it. "+
		"The subject is told that %s could not be reached yet.\n", requestID, typ, name, recipientID, tries, reason, requestID, name)
	return Message{To: to, Subject: "Recipient not reached: privacy request " + requestID, Text: text,
		HTML: "<pre>" + htmltemplate.HTMLEscapeString(text) + "</pre>", Language: i18n.English}
}
