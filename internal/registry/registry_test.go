package registry

import (
	"strings"
	"testing"
)

const valid = `
identities: [email, user_id]
sources:
  - id: users
    dynamodb: {table: demo-users, index: email-index, partition_key: email, identity: email}
    provides: {user_id: user_id}
    erasure: delete
` + disclosure + `
  - id: orders
    dynamodb: {table: demo-orders, partition_key: user_id, identity: user_id}
    erasure: delete
` + disclosure + `
  - id: events
    s3:
      bucket: demo-events
      prefix: events/
      format: jsonl
      match:
        - {field: user_id, identity: user_id}
    erasure: delete
` + disclosure

// disclosure is what every source tells the subject about itself.
const disclosure = `    categories: [identifiers]
    purposes: [Provide the service.]
    recipients: []
    retention: {period: 2 years}
`

func TestParseValid(t *testing.T) {
	r, err := Parse([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.IDs(), ","); got != "users,orders,events" {
		t.Fatalf("IDs() = %s", got)
	}
	if r.Source("orders").Kind() != "dynamodb" || r.Source("events").Kind() != "s3" {
		t.Fatal("wrong kinds")
	}
	if r.Source("nope") != nil {
		t.Fatal("Source(nope) should be nil")
	}
}

func TestParseS3Formats(t *testing.T) {
	tests := []struct {
		format, compression string
	}{
		{"jsonl", ""},
		{"jsonl", "gzip"},
		{"csv", ""},
		{"csv", "gzip"},
		{"json", ""},
		{"json", "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.format+"/"+tt.compression, func(t *testing.T) {
			y := strings.Replace(valid, "format: jsonl", "format: "+tt.format, 1)
			if tt.compression != "" {
				y = strings.Replace(y, "format: "+tt.format, "format: "+tt.format+"\n      compression: "+tt.compression, 1)
			}
			r, err := Parse([]byte(y))
			if err != nil {
				t.Fatal(err)
			}
			s3 := r.Source("events").S3
			if s3.Format != tt.format || s3.Compression != tt.compression {
				t.Fatalf("format %q compression %q, want %q %q", s3.Format, s3.Compression, tt.format, tt.compression)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // a fragment of the error, including the line where it matters
	}{
		{"unknown key", strings.Replace(valid, "erasure: delete\n", "erasure: delete\n    colour: red\n", 1), "colour"},
		{"undeclared identity", strings.Replace(valid, "identity: user_id}\n    erasure", "identity: phone}\n    erasure", 1), "line 14: $.sources[1].dynamodb.identity: identity \"phone\""},
		{"unreachable", strings.Replace(valid, "    provides: {user_id: user_id}\n", "", 1), "cannot be reached"},
		{"duplicate id", strings.Replace(valid, "id: orders", "id: users", 1), "used twice"},
		{"prefix escapes", strings.Replace(valid, "prefix: events/", "prefix: ../secrets/", 1), "must not start with / or contain .."},
		{"bad format", strings.Replace(valid, "format: jsonl", "format: xml", 1), "line 25: $.sources[2].s3.format: format \"xml\" is not supported; use one of jsonl, csv, json"},
		{"format upper case", strings.Replace(valid, "format: jsonl", "format: CSV", 1), "line 25: $.sources[2].s3.format: format \"CSV\""},
		{"no format", strings.Replace(valid, "      format: jsonl\n", "", 1), "$.sources[2].s3.format: format \"\" is not supported"},
		{"bad compression", strings.Replace(valid, "format: jsonl", "format: jsonl\n      compression: zip", 1), "line 26: $.sources[2].s3.compression: compression \"zip\" is not supported"},
		{"compression on the source", valid + "    compression: gzip\n", "unknown field \"compression\""},
		{"bad erasure", strings.Replace(valid, "identity: user_id}\n    erasure: delete", "identity: user_id}\n    erasure: shred", 1), "erasure \"shred\""},
		{"no email identity", strings.Replace(valid, "[email, user_id]", "[user_id]", 1), "must list \"email\""},
		{"no block", "identities: [email]\nsources:\n  - id: a\n    erasure: delete\n", "give a dynamodb or an s3 block"},
		{"bad id", strings.Replace(valid, "id: events", "id: Events/x", 1), "must be lower case"},
		{"no sources", "identities: [email]\nsources: []\n", "at least one source"},
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

func TestParseDisclosure(t *testing.T) {
	r, err := Parse([]byte(strings.Replace(valid, disclosure, `    categories: [identifiers, internet_activity]
    purposes: [Measure how the site is used., Keep the site secure.]
    recipients:
      - {name: Analytics Co, role: service_provider, country: US, safeguards: Standard contractual clauses}
      - {name: Tax authorities, role: public_authority}
    retention: {period: 13 months, criteria: after the last visit}
`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	u := r.Source("users")
	if got := strings.Join(u.Categories, ","); got != "identifiers,internet_activity" {
		t.Errorf("categories %s", got)
	}
	if len(u.Purposes) != 2 || len(u.Recipients) != 2 || u.Recipients[0].Country != "US" || u.Recipients[1].Role != "public_authority" {
		t.Errorf("purposes %v recipients %+v", u.Purposes, u.Recipients)
	}
	if got := u.Retention.String(); got != "13 months; after the last visit" {
		t.Errorf("retention %q", got)
	}
	if CategoryLabel("internet_activity") == "internet_activity" || RoleLabel("processor") == "processor" {
		t.Error("labels missing")
	}
}

func TestParseDisclosureErrors(t *testing.T) {
	tests := []struct {
		name, replace, want string
	}{
		{"no categories", "    purposes: [x]\n    recipients: []\n    retention: {period: 1 year}\n", "line 4: $.sources[0].categories: list the categories"},
		{"unknown category", "    categories: [identifiers, hobbies]\n", `line 8: $.sources[0].categories[1]: category "hobbies" is not known`},
		{"category twice", "    categories: [identifiers, identifiers]\n", `category "identifiers" is listed twice`},
		{"no purposes", "    categories: [identifiers]\n    purposes: []\n", "line 9: $.sources[0].purposes: list why"},
		{"empty purpose", "    categories: [identifiers]\n    purposes: [\"  \"]\n", "$.sources[0].purposes[0]: item is empty"},
		{"purpose too long", "    categories: [identifiers]\n    purposes: [" + strings.Repeat("a", 501) + "]\n", "longer than 500"},
		{"purpose with line break", "    categories: [identifiers]\n    purposes: [\"a\\nb\"]\n", "control character"},
		{"recipients missing", "    categories: [identifiers]\n    purposes: [x]\n", "$.sources[0].recipients: list who receives the data, or write recipients: []"},
		{"recipient role", "    categories: [identifiers]\n    purposes: [x]\n    recipients: [{name: A, role: friend}]\n", `line 10: $.sources[0].recipients[0].role: role "friend" is not known`},
		{"recipient name", "    categories: [identifiers]\n    purposes: [x]\n    recipients: [{role: processor}]\n", "$.sources[0].recipients[0].name: name is empty"},
		{"recipient country", "    categories: [identifiers]\n    purposes: [x]\n    recipients: [{name: A, role: processor, country: usa}]\n", `country "usa" must be an ISO 3166-1 alpha-2 code`},
		{"no retention", "    categories: [identifiers]\n    purposes: [x]\n    recipients: []\n", "$.sources[0].retention: say how long"},
		{"empty retention", "    categories: [identifiers]\n    purposes: [x]\n    recipients: []\n    retention: {}\n", "$.sources[0].retention: say how long"},
		{"bad period", "    categories: [identifiers]\n    purposes: [x]\n    recipients: []\n    retention: {period: forever}\n", `line 11: $.sources[0].retention.period: period "forever" must be a number and a unit`},
		{"zero period", "    categories: [identifiers]\n    purposes: [x]\n    recipients: []\n    retention: {period: 0 days}\n", `period "0 days"`},
		{"unknown retention key", "    categories: [identifiers]\n    purposes: [x]\n    recipients: []\n    retention: {years: 2}\n", `unknown field "years"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(strings.Replace(valid, disclosure, tt.replace, 1)))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestParseRetentionPeriods(t *testing.T) {
	for _, p := range []string{"1 day", "30 days", "1 week", "6 months", "1 year", "10 years"} {
		if _, err := Parse([]byte(strings.Replace(valid, "period: 2 years", "period: "+p, 1))); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}
