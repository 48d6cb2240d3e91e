package registry

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// WebhookSource is a system that answers for itself when called: an HTTPS
// endpoint of the company's that gets a signed call for each request of a
// type it serves and answers with the subject's records (access) or what it
// erased, at once or later through a callback. A call that keeps failing
// becomes a task for the owner, as for a manual source.
type WebhookSource struct {
	Endpoint `yaml:",inline"`
	// Owner, Types and Identities are as for a manual source: who answers
	// when the endpoint does not, what it serves, and the identities sent.
	ManualSource `yaml:",inline"`
}

// Endpoint is an HTTPS endpoint that takes signed calls.
type Endpoint struct {
	URL string `yaml:"url"`
	// Secret names where the signing secret is kept: "ssm:/PARAMETER" (a
	// SecureString) or "secretsmanager:NAME".
	Secret string `yaml:"secret"`
	// Timeout bounds one attempt, such as "10s" (default 10s, at most 30s).
	Timeout string `yaml:"timeout"`
}

// KindWebhook is the Kind of a webhook source.
const KindWebhook = "webhook"

// MaxWebhookTimeout bounds one attempt of a call: three attempts and their
// backoff fit well inside a workflow step.
const MaxWebhookTimeout = 30 * time.Second

// TimeoutDuration is the endpoint's timeout; zero when none is given.
func (e Endpoint) TimeoutDuration() time.Duration {
	d, _ := time.ParseDuration(e.Timeout)
	return d
}

var (
	ssmParameterName = regexp.MustCompile(`^ssm:(/[A-Za-z0-9_.\-/]{1,1000})$`)
	secretName       = regexp.MustCompile(`^secretsmanager:([A-Za-z0-9/_+=.@:-]{1,512})$`)
)

// checkEndpoint validates an endpoint declared at path at: HTTPS (plain
// HTTP only to this machine, for local runs), no credentials in the URL, a
// secret kept in SSM or Secrets Manager, and a sane timeout.
func (v *validator) checkEndpoint(at string, e Endpoint) {
	u, err := url.Parse(e.URL)
	switch {
	case e.URL == "":
		v.fail(at+".url", "give the endpoint's URL (https://...)")
	case err != nil || u.Host == "" || u.Opaque != "":
		v.fail(at+".url", "url %q is not an absolute URL", e.URL)
	case u.User != nil:
		v.fail(at+".url", "the url must not hold credentials; the calls are signed with the secret")
	case u.Fragment != "":
		v.fail(at+".url", "the url must not have a #fragment")
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback(u.Hostname()):
	default:
		v.fail(at+".url", "url %q must use https (plain http only to localhost, for local runs)", e.URL)
	}
	if !ssmParameterName.MatchString(e.Secret) && !secretName.MatchString(e.Secret) {
		v.fail(at+".secret", "secret %q must name where the signing secret is kept: ssm:/PARAMETER or secretsmanager:NAME", e.Secret)
	}
	if e.Timeout != "" {
		if d, err := time.ParseDuration(e.Timeout); err != nil || d < time.Second || d > MaxWebhookTimeout {
			v.fail(at+".timeout", "timeout %q must be a duration from 1s to %s", e.Timeout, MaxWebhookTimeout)
		}
	}
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkWebhook validates a webhook source.
func (v *validator) checkWebhook(at string, s *Source) {
	v.checkEndpoint(at+".webhook", s.Webhook.Endpoint)
	v.checkTasked(at, "webhook", &s.Webhook.ManualSource, s)
}

// SourceSecrets are the secrets of the webhook sources, each once.
func (r *Registry) SourceSecrets() []string {
	var out []string
	for _, s := range r.Sources {
		if s.Webhook != nil && !slices.Contains(out, s.Webhook.Secret) {
			out = append(out, s.Webhook.Secret)
		}
	}
	return out
}

// NotifiedSecrets are the secrets of the recipients told through webhooks,
// each once.
func (r *Registry) NotifiedSecrets() []string {
	var out []string
	for _, n := range r.Notify {
		if n.Webhook != nil && !slices.Contains(out, n.Webhook.Secret) {
			out = append(out, n.Webhook.Secret)
		}
	}
	return out
}

// Notified is a recipient the company tells of a subject's erasure,
// correction, restriction or opt-out (GDPR Art 19; CCPA Regs §7022(b)(3),
// §7023(c), §7026(f)), through a webhook or by email.
type Notified struct {
	ID string `yaml:"id"`
	// Name is the recipient as the subject is told of it; it should be a
	// recipient named by a source.
	Name string `yaml:"name"`
	// Types are the request types the recipient is told of (NotifiedTypes).
	Types []string `yaml:"types"`
	// Identities are the identity kinds the recipient knows the subject
	// by; only their values are sent, and only when the request has one.
	Identities []string  `yaml:"identities"`
	Webhook    *Endpoint `yaml:"webhook"`
	// Email is an address that receives the notices instead.
	Email string `yaml:"email"`
}

// NotifiedTypes are the request types a recipient may be told of.
var NotifiedTypes = []string{"delete", "correct", "restrict", "opt_out", "limit"}

// Serves reports whether the recipient is told of requests of type t.
func (n *Notified) Serves(t string) bool { return slices.Contains(n.Types, t) }

// NotifiedOf returns the recipients told of requests of type t, in file
// order.
func (r *Registry) NotifiedOf(t string) []*Notified {
	var out []*Notified
	for _, n := range r.Notify {
		if n.Serves(t) {
			out = append(out, n)
		}
	}
	return out
}

// Recipient returns the notified recipient with the given id, or nil.
func (r *Registry) Recipient(id string) *Notified {
	for _, n := range r.Notify {
		if n.ID == id {
			return n
		}
	}
	return nil
}

func (v *validator) checkNotified(r *Registry) {
	seen := map[string]bool{}
	named := map[string]bool{}
	for _, s := range r.Sources {
		if s != nil {
			for _, rc := range s.Recipients {
				named[rc.Name] = true
			}
		}
	}
	for i, n := range r.Notify {
		at := fmt.Sprintf("$.notify[%d]", i)
		if n == nil {
			v.fail(at, "empty recipient")
			continue
		}
		v.checkID(at, n.ID, seen)
		switch {
		case strings.TrimSpace(n.Name) == "":
			v.fail(at+".name", "name the recipient as the subject is told of it")
		case !named[n.Name]:
			v.fail(at+".name", "%q is not a recipient of any source: name it under a source's recipients, so an access request tells of it too", n.Name)
		}
		v.checkTypes(at, n.Types, NotifiedTypes, "the recipient is told of", "is not one a recipient is told of")
		v.checkIdentities(at, n.Identities, "the recipient knows a subject by")
		switch {
		case (n.Webhook == nil) == (n.Email == ""):
			v.fail(at, "give one of webhook and email: how the recipient is told")
		case n.Webhook != nil:
			v.checkEndpoint(at+".webhook", *n.Webhook)
		default:
			if a, err := mail.ParseAddress(n.Email); err != nil || a.Address != n.Email || a.Name != "" {
				v.fail(at+".email", "email %q is not a plain email address (name@example.com)", n.Email)
			}
		}
	}
}
