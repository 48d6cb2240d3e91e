package registry

import (
	"strings"
	"testing"
	"time"
)

const webhookSource = `
  - id: helpdesk
    description: Help desk tickets
    webhook:
      url: https://helpdesk.example.com/privacy
      secret: ssm:/privacy/helpdesk-webhook
      timeout: 5s
      owner: support-lead@example.com
      types: [access, delete]
      identities: [email]
    categories: [identifiers]
    purposes: [Answer questions.]
    recipients:
      - {name: AdCo, role: third_party}
    retention: {period: 2 years}
`

const notifyBlock = `
notify:
  - id: adco
    name: AdCo
    types: [delete, correct, opt_out]
    identities: [email]
    webhook: {url: "https://adco.example/privacy", secret: "secretsmanager:adco-notices"}
  - id: mailhouse
    name: AdCo
    types: [delete]
    identities: [email, user_id]
    email: privacy@mailhouse.example
`

func TestParseWebhook(t *testing.T) {
	r, err := Parse([]byte(valid + webhookSource + notifyBlock))
	if err != nil {
		t.Fatal(err)
	}
	h := r.Source("helpdesk")
	if h.Kind() != KindWebhook || h.Webhook.URL != "https://helpdesk.example.com/privacy" || h.Webhook.TimeoutDuration() != 5*time.Second {
		t.Fatalf("helpdesk = %+v", h.Webhook)
	}
	// Its tasks are manual ones: the fallback when the endpoint fails.
	if h.Manual == nil || h.Manual.Owner != "support-lead@example.com" || !h.Manual.Serves("delete") {
		t.Fatalf("helpdesk's task settings = %+v", h.Manual)
	}
	if got := r.Manual("access"); len(got) != 1 || got[0] != h {
		t.Fatalf("Manual(access) = %v", got)
	}
	if len(r.Automated()) != 3 || !slicesEqual(h.LookupIdentities(), []string{"email"}) {
		t.Fatalf("Automated() = %d, LookupIdentities = %v", len(r.Automated()), h.LookupIdentities())
	}
	if got := r.NotifiedOf("delete"); len(got) != 2 || got[0].ID != "adco" || got[1].Email != "privacy@mailhouse.example" {
		t.Fatalf("NotifiedOf(delete) = %v", got)
	}
	if got := r.NotifiedOf("opt_out"); len(got) != 1 || got[0].Webhook.Secret != "secretsmanager:adco-notices" {
		t.Fatalf("NotifiedOf(opt_out) = %v", got)
	}
	if r.Recipient("mailhouse") == nil || r.Recipient("nobody") != nil {
		t.Fatal("Recipient by id")
	}
	local := strings.Replace(valid+webhookSource, "https://helpdesk.example.com/privacy", "http://127.0.0.1:8080/_dev/helpdesk", 1)
	if _, err := Parse([]byte(local)); err != nil {
		t.Fatalf("plain http to this machine is for local runs: %v", err)
	}
}

func slicesEqual(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

func TestParseWebhookErrors(t *testing.T) {
	src := valid + webhookSource
	all := src + notifyBlock
	tests := []struct {
		name, yaml, want string
	}{
		{"plain http", strings.Replace(src, "https://helpdesk", "http://helpdesk", 1), `$.sources[3].webhook.url: url "http://helpdesk.example.com/privacy" must use https`},
		{"no url", strings.Replace(src, "      url: https://helpdesk.example.com/privacy\n", "", 1), "webhook.url: give the endpoint's URL"},
		{"relative url", strings.Replace(src, "https://helpdesk.example.com/privacy", "/privacy", 1), "is not an absolute URL"},
		{"credentials in url", strings.Replace(src, "https://helpdesk", "https://u:p@helpdesk", 1), "must not hold credentials"},
		{"secret inline", strings.Replace(src, "ssm:/privacy/helpdesk-webhook", "s3cr3t", 1), `webhook.secret: secret "s3cr3t" must name where`},
		{"ssm name relative", strings.Replace(src, "ssm:/privacy/helpdesk-webhook", "ssm:privacy", 1), "must name where the signing secret is kept"},
		{"timeout too long", strings.Replace(src, "timeout: 5s", "timeout: 2m", 1), `webhook.timeout: timeout "2m" must be a duration from 1s to 30s`},
		{"no owner", strings.Replace(src, "      owner: support-lead@example.com\n", "", 1), "$.sources[3].webhook.owner: name the owner"},
		{"type not served", strings.Replace(src, "types: [access, delete]", "types: [access, appeal]", 1), `webhook.types[1]: type "appeal" is not served`},
		{"unknown identity", strings.Replace(src, "identities: [email]\n    categories", "identities: [phone]\n    categories", 1), `webhook.identities[0]: identity "phone" is not listed`},
		{"erasure given", src + "    erasure: delete\n", "$.sources[3].erasure: a webhook source's owner does the work"},
		{"webhook and manual", strings.Replace(src, "    webhook:\n", "    manual: {owner: a@example.com, types: [access], identities: [email]}\n    webhook:\n", 1), "give one of dynamodb, s3, manual and webhook"},
		{"notify: unknown name", strings.Replace(all, "    name: AdCo\n    types: [delete, correct", "    name: Nobody\n    types: [delete, correct", 1), `$.notify[0].name: "Nobody" is not a recipient of any source`},
		{"notify: access", strings.Replace(all, "types: [delete, correct, opt_out]", "types: [access]", 1), `$.notify[0].types[0]: type "access" is not one a recipient is told of`},
		{"notify: both ways", strings.Replace(all, "    email: privacy@mailhouse.example\n", "    email: privacy@mailhouse.example\n    webhook: {url: \"https://m.example\", secret: \"ssm:/m\"}\n", 1), "$.notify[1]: give one of webhook and email"},
		{"notify: neither", strings.Replace(all, "    email: privacy@mailhouse.example\n", "", 1), "$.notify[1]: give one of webhook and email"},
		{"notify: bad email", strings.Replace(all, "privacy@mailhouse.example", "mailhouse", 1), `$.notify[1].email: email "mailhouse" is not a plain email address`},
		{"notify: id twice", strings.Replace(all, "id: mailhouse", "id: adco", 1), `$.notify[1].id: id "adco" is used twice`},
		{"notify: unknown identity", strings.Replace(all, "identities: [email, user_id]\n    email:", "identities: [email, phone]\n    email:", 1), `$.notify[1].identities[1]: identity "phone" is not listed`},
		{"notify: plain http", strings.Replace(all, "https://adco.example", "http://adco.example", 1), "$.notify[0].webhook.url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}
