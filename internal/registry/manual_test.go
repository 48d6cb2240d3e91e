package registry

import (
	"strings"
	"testing"
)

const manualSource = `
  - id: crm
    description: Customer relationship management, kept by the sales team
    manual:
      owner: crm-team@example.com
      types: [access, delete]
      identities: [email, user_id]
` + disclosure

func TestParseManual(t *testing.T) {
	r, err := Parse([]byte(valid + manualSource))
	if err != nil {
		t.Fatal(err)
	}
	crm := r.Source("crm")
	if crm.Kind() != KindManual || crm.Manual.OwnerTopic() || !crm.Manual.Serves("delete") || crm.Manual.Serves("portability") {
		t.Fatalf("crm = %+v", crm.Manual)
	}
	if got := r.Manual("access"); len(got) != 1 || got[0] != crm {
		t.Fatalf("Manual(access) = %v", got)
	}
	if len(r.Manual("portability")) != 0 {
		t.Fatal("no manual source serves portability")
	}
	for _, s := range r.Automated() {
		if s.Manual != nil {
			t.Fatalf("Automated() holds %s", s.ID)
		}
	}
	if len(r.Automated()) != 3 {
		t.Fatalf("Automated() = %d sources", len(r.Automated()))
	}
	topic := strings.Replace(valid+manualSource, "crm-team@example.com", "arn:aws:sns:eu-west-1:123456789012:crm-requests", 1)
	r, err = Parse([]byte(topic))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Source("crm").Manual.OwnerTopic() {
		t.Fatal("an SNS topic owner is not a topic")
	}
}

func TestParseManualErrors(t *testing.T) {
	src := valid + manualSource
	tests := []struct {
		name, yaml, want string
	}{
		{"no owner", strings.Replace(src, "      owner: crm-team@example.com\n", "", 1), "$.sources[3].manual.owner: name the owner"},
		{"owner with a name", strings.Replace(src, "owner: crm-team@example.com", `owner: "CRM <crm-team@example.com>"`, 1), "is not a plain email address"},
		{"owner not an address", strings.Replace(src, "owner: crm-team@example.com", "owner: crm-team", 1), `owner "crm-team" is not a plain email address`},
		{"bad topic", strings.Replace(src, "owner: crm-team@example.com", "owner: arn:aws:sqs:eu-west-1:123456789012:q", 1), "is not an SNS topic ARN"},
		{"no types", strings.Replace(src, "      types: [access, delete]\n", "", 1), "manual.types: list the request types"},
		{"type not served", strings.Replace(src, "types: [access, delete]", "types: [access, appeal]", 1), `manual.types[1]: type "appeal" is not served by manual sources`},
		{"type twice", strings.Replace(src, "types: [access, delete]", "types: [access, access]", 1), `type "access" is listed twice`},
		{"no identities", strings.Replace(src, "      identities: [email, user_id]\n", "", 1), "manual.identities: list the identities"},
		{"unknown identity", strings.Replace(src, "      identities: [email, user_id]\n", "      identities: [phone]\n", 1), `manual.identities[0]: identity "phone" is not listed`},
		{"no description", strings.Replace(src, "    description: Customer relationship management, kept by the sales team\n", "", 1), "$.sources[3].description: describe the system"},
		{"erasure given", src + "    erasure: delete\n", "$.sources[3].erasure: a manual source's owner does the work"},
		{"provides given", src + "    provides: {user_id: uid}\n", "$.sources[3].provides: a manual source's owner does the work"},
		{"two kinds", strings.Replace(src, "    manual:\n", "    s3: {bucket: b, prefix: p/, format: json, key_template: \"{user_id}/\"}\n    manual:\n", 1), "give one of dynamodb, s3, manual and webhook, not several"},
		{"no disclosure", strings.TrimSuffix(src, disclosure) + "    purposes: [Sell things.]\n", "$.sources[3].categories: list the categories"},
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
