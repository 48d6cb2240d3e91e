package registry

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
)

// ManualSource is a system the pipeline cannot read or change itself (a
// CRM, a billing system, a help desk): for each request of a type it serves,
// its owner gets a task, exports the subject's data there (access) or
// attests what was done (erasure), and the request waits for the answer.
type ManualSource struct {
	// Owner is who answers the tasks: an email address, or the ARN of an
	// SNS topic the owners subscribe to.
	Owner string `yaml:"owner"`
	// Types are the request types the source serves (ManualTypes).
	Types []string `yaml:"types"`
	// Identities are the identity kinds by which the owner finds a
	// subject in the system. A request gets a task only when its subject
	// has a value of one of them: a customer the system cannot know is
	// not asked about.
	Identities []string `yaml:"identities"`
}

// Request types a manual source may serve: the owner exports the subject's
// data (access, portability), or attests its erasure (delete), its
// correction (correct), or that a choice is carried out there (restrict,
// opt_out, limit).
const (
	ManualAccess      = "access"
	ManualPortability = "portability"
	ManualDelete      = "delete"
	ManualCorrect     = "correct"
)

// ManualTypes are the request types a manual source may serve.
var ManualTypes = []string{ManualAccess, ManualPortability, ManualDelete, ManualCorrect, "restrict", "opt_out", "limit"}

// KindManual is the Kind of a manual source.
const KindManual = "manual"

var snsTopicARN = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)

// OwnerTopic reports whether the owner is an SNS topic (otherwise an email
// address).
func (m *ManualSource) OwnerTopic() bool { return strings.HasPrefix(m.Owner, "arn:") }

// Serves reports whether the source has a task for requests of type t.
func (m *ManualSource) Serves(t string) bool { return slices.Contains(m.Types, t) }

// ManualExports reports whether the owner answers a request of type t with an
// export of the subject's data (rather than an attestation).
func ManualExports(t string) bool { return t == ManualAccess || t == ManualPortability }

// Manual returns the manual sources that serve requests of type t, in file
// order.
func (r *Registry) Manual(t string) []*Source {
	var out []*Source
	for _, s := range r.Sources {
		if s.Manual != nil && s.Manual.Serves(t) {
			out = append(out, s)
		}
	}
	return out
}

// Automated returns the sources the pipeline reads and erases itself
// (DynamoDB and S3), in file order.
func (r *Registry) Automated() []*Source {
	var out []*Source
	for _, s := range r.Sources {
		if s.Manual == nil {
			out = append(out, s)
		}
	}
	return out
}

// checkManual validates a manual source: an owner that can be reached, the
// types it serves, and none of the keys that only mean something where the
// pipeline reads the data itself.
func (v *validator) checkManual(at string, s *Source) {
	v.checkTasked(at, "manual", s.Manual, s)
}

// checkTasked validates what a source answered through tasks (manual, or
// webhook with manual tasks as its fallback) declares under key.
func (v *validator) checkTasked(at, key string, m *ManualSource, s *Source) {
	sourceAt := at
	at += "." + key
	switch {
	case m.Owner == "":
		v.fail(at+".owner", "name the owner: an email address or an SNS topic ARN")
	case m.OwnerTopic():
		if !snsTopicARN.MatchString(m.Owner) {
			v.fail(at+".owner", "owner %q is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC)", m.Owner)
		}
	default:
		if a, err := mail.ParseAddress(m.Owner); err != nil || a.Address != m.Owner || a.Name != "" {
			v.fail(at+".owner", "owner %q is not a plain email address (name@example.com) or an SNS topic ARN", m.Owner)
		}
	}
	v.checkTypes(at, m.Types, ManualTypes, "the source serves", "is not served by manual sources")
	v.checkIdentities(at, m.Identities, "by which the owner finds a subject")
	if strings.TrimSpace(s.Description) == "" {
		v.fail(sourceAt+".description", "describe the system, so its owner knows what a task asks about")
	}
	unused := []struct {
		key string
		set bool
	}{
		{"provides", len(s.Provides) > 0},
		{"erasure", s.Erasure != ""},
		{"anonymize", s.Anonymize != nil},
		{"retain", s.Retain != nil},
		{"account", s.Account},
		{"correctable", s.Correctable != nil},
		{"data_points", s.DataPoints != nil},
		{"export", s.Export != nil},
	}
	for _, u := range unused {
		if u.set {
			v.fail(sourceAt+"."+u.key, "a %s source's owner does the work; %s is only read for dynamodb and s3 sources", key, u.key)
		}
	}
}

// checkTypes validates the request types listed at at: some, each one of
// allowed, none twice. what says what the list is, refused why one is not
// allowed.
func (v *validator) checkTypes(at string, types, allowed []string, what, refused string) {
	if len(types) == 0 {
		v.fail(at+".types", "list the request types %s (%s)", what, strings.Join(allowed, ", "))
	}
	for i, t := range types {
		p := fmt.Sprintf("%s.types[%d]", at, i)
		switch {
		case !slices.Contains(allowed, t):
			v.fail(p, "type %q %s; use %s", t, refused, strings.Join(allowed, ", "))
		case slices.Index(types, t) != i:
			v.fail(p, "type %q is listed twice", t)
		}
	}
}

// checkIdentities validates the identity kinds listed at at: some, each
// declared under identities, none twice; what says what they are for.
func (v *validator) checkIdentities(at string, ids []string, what string) {
	if len(ids) == 0 {
		v.fail(at+".identities", "list the identities %s (such as %s)", what, StartIdentity)
	}
	for i, id := range ids {
		p := fmt.Sprintf("%s.identities[%d]", at, i)
		switch {
		case !slices.Contains(v.identities, id):
			v.fail(p, "identity %q is not listed under identities", id)
		case slices.Index(ids, id) != i:
			v.fail(p, "identity %q is listed twice", id)
		}
	}
}
