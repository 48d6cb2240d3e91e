package registry

import (
	"errors"
	"strings"
	"testing"
	"time"
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
		{"no block", "identities: [email]\nsources:\n  - id: a\n    erasure: delete\n", "give a dynamodb, an s3, a manual or a webhook block"},
		{"bad id", strings.Replace(valid, "id: events", "id: Events/x", 1), "must be lower case"},
		{"no sources", "identities: [email]\nsources: []\n", "at least one source"},
		{"bad match type", strings.Replace(valid, "{field: user_id, identity: user_id}", "{field: user_id, identity: user_id, type: integer}", 1), "line 27: $.sources[2].s3.match[0].type: type \"integer\" is not supported"},
		{"bad normalize", strings.Replace(valid, "{field: user_id, identity: user_id}", "{field: user_id, identity: user_id, normalize: lower}", 1), "line 27: $.sources[2].s3.match[0].normalize: normalize \"lower\" is not supported"},
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

const withModes = `
identities: [email, user_id]
sources:
  - id: users
    dynamodb: {table: demo-users, index: email-index, partition_key: email, identity: email}
    provides: {user_id: user_id}
    erasure: delete
` + disclosure + `  - id: reviews
    dynamodb: {table: demo-reviews, index: email-index, partition_key: email, identity: email}
    erasure: anonymize
    anonymize: [email, author_name]
` + disclosure + `  - id: invoices
    s3:
      bucket: demo-billing
      prefix: invoices/
      format: csv
      match:
        - {field: user_id, identity: user_id}
    erasure: retain
    retain:
      reason: Invoices must be kept for tax audits.
      citation: "Abgabenordnung § 147(3)"
      period: P10Y
      after: issued_on
` + disclosure + `  - id: events
    s3:
      bucket: demo-events
      prefix: events/
      format: jsonl
      match:
        - {field: user_id, identity: user_id}
    erasure: anonymize
    anonymize: [user_id, ip]
` + disclosure

func TestParseErasureModes(t *testing.T) {
	r, err := Parse([]byte(withModes))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Source("reviews"); got.Erasure != EraseAnonymize || strings.Join(got.Anonymize, ",") != "email,author_name" {
		t.Fatalf("reviews: %+v", got)
	}
	ret := r.Source("invoices").Retain
	if r.Source("invoices").Erasure != EraseRetain || ret.Period != "P10Y" || ret.After != "issued_on" || ret.Citation == "" {
		t.Fatalf("invoices: %+v", ret)
	}
}

func TestParseErasureErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"unknown mode", strings.Replace(withModes, "erasure: anonymize\n    anonymize: [email, author_name]", "erasure: shred", 1),
			"line 14: $.sources[1].erasure: erasure \"shred\" is not supported; use one of delete, anonymize, retain"},
		{"anonymize without fields", strings.Replace(withModes, "    anonymize: [email, author_name]\n", "", 1),
			"$.sources[1].anonymize: list the fields to anonymize"},
		{"lookup field kept", strings.Replace(withModes, "[email, author_name]", "[author_name]", 1),
			"line 15: $.sources[1].anonymize: also anonymize \"email\", the attribute the source is queried by"},
		{"match field kept", strings.Replace(withModes, "[user_id, ip]", "[ip]", 1),
			"line 45: $.sources[3].anonymize: also anonymize \"user_id\", a field the source matches on"},
		{"provided identity kept", strings.Replace(withModes, "erasure: delete", "erasure: anonymize\n    anonymize: [email]", 1),
			"line 8: $.sources[0].anonymize: also anonymize \"user_id\", which provides the identity \"user_id\""},
		{"table partition key", strings.Replace(withModes, "table: demo-reviews, index: email-index, ", "table: demo-reviews, ", 1),
			"the table's partition key \"email\" cannot be removed"},
		{"field twice", strings.Replace(withModes, "[email, author_name]", "[email, author_name, email]", 1),
			"line 15: $.sources[1].anonymize[2]: field \"email\" is listed twice"},
		{"anonymize with delete", strings.Replace(withModes, "erasure: delete", "erasure: delete\n    anonymize: [email]", 1),
			"line 8: $.sources[0].anonymize: anonymize is only read with erasure: anonymize"},
		{"retain without block", strings.Replace(withModes, "erasure: retain\n    retain:", "erasure: retain\n    retained:", 1),
			"unknown field \"retained\""},
		{"retain missing", strings.Replace(withModes, "    erasure: delete\n", "    erasure: retain\n", 1),
			"$.sources[0].retain: give the legal reason to retain"},
		{"no reason", strings.Replace(withModes, "      reason: Invoices must be kept for tax audits.\n", "", 1),
			"$.sources[2].retain.reason: say why the records must be kept"},
		{"no citation", strings.Replace(withModes, "      citation: \"Abgabenordnung § 147(3)\"\n", "", 1),
			"$.sources[2].retain.citation: cite the law"},
		{"bad period", strings.Replace(withModes, "period: P10Y", "period: 10 years", 1),
			"line 31: $.sources[2].retain.period: period \"10 years\" is not an ISO 8601 period"},
		{"time in period", strings.Replace(withModes, "period: P10Y", "period: PT10H", 1), "is not an ISO 8601 period"},
		{"empty period", strings.Replace(withModes, "period: P10Y", "period: P0Y", 1), "period \"P0Y\" is empty"},
		{"period and until", strings.Replace(withModes, "period: P10Y", "period: P10Y\n      until: 2036-12-31", 1), "not both"},
		{"no period", strings.Replace(withModes, "      period: P10Y\n      after: issued_on\n", "", 1), "give a period (e.g. P10Y) or a fixed until date"},
		{"bad until", strings.Replace(withModes, "      period: P10Y\n      after: issued_on\n", "      until: 31.12.2036\n", 1),
			"line 31: $.sources[2].retain.until: until \"31.12.2036\" is not a date"},
		{"after with until", strings.Replace(withModes, "      period: P10Y\n", "      until: 2036-12-31\n", 1), "after is only read with a period"},
		{"bad from", strings.Replace(withModes, "      after: issued_on\n", "      after: issued_on\n      from: end_of_month\n", 1),
			"line 33: $.sources[2].retain.from: from \"end_of_month\" is not supported; use end_of_year"},
		{"from with until", strings.Replace(withModes, "      period: P10Y\n      after: issued_on\n", "      until: 2036-12-31\n      from: end_of_year\n", 1),
			"from is only read with a period"},
		{"retain with delete", strings.Replace(withModes, "erasure: delete", "erasure: delete\n    retain: {reason: x, citation: y, period: P1Y}", 1),
			"retain is only read with erasure: retain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.yaml == withModes {
				t.Fatal("the replacement did not apply: the test would prove nothing")
			}
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

func TestKeptUntil(t *testing.T) {
	erasedAt := time.Date(2026, 11, 23, 15, 4, 0, 0, time.UTC)
	tests := []struct {
		name    string
		rule    RetainRule
		record  map[string]any
		want    string
		wantErr bool
	}{
		{"period after a date field", RetainRule{Period: "P10Y", After: "issued_on"}, map[string]any{"issued_on": "2024-03-01"}, "2034-03-01", false},
		{"period after an RFC 3339 time, on its own date", RetainRule{Period: "P1Y6M", After: "at"}, map[string]any{"at": "2025-08-31T23:30:00-02:00"}, "2027-02-28", false},
		{"to a shorter month", RetainRule{Period: "P6M", After: "on"}, map[string]any{"on": "2025-08-31"}, "2026-02-28", false},
		{"leap day", RetainRule{Period: "P1Y", After: "on"}, map[string]any{"on": "2028-02-29"}, "2029-02-28", false},
		{"months and days", RetainRule{Period: "P1M1D", After: "on"}, map[string]any{"on": "2026-01-31"}, "2026-03-01", false},
		{"period after the erasure", RetainRule{Period: "P6M"}, nil, "2027-05-23", false},
		{"days", RetainRule{Period: "P30D"}, nil, "2026-12-23", false},
		{"fixed date", RetainRule{Until: "2031-12-31"}, map[string]any{"issued_on": "2024-03-01"}, "2031-12-31", false},
		{"from the end of the date's year", RetainRule{Period: "P10Y", After: "issued_on", From: FromEndOfYear}, map[string]any{"issued_on": "2024-03-01"}, "2034-12-31", false},
		{"from the end of a last day's year", RetainRule{Period: "P6Y", After: "issued_on", From: FromEndOfYear}, map[string]any{"issued_on": "2024-12-31T23:59:59Z"}, "2030-12-31", false},
		{"from the end of the year it was written in", RetainRule{Period: "P6Y", After: "issued_on", From: FromEndOfYear}, map[string]any{"issued_on": "2024-12-31T23:30:00-02:00"}, "2030-12-31", false},
		{"from the end of the erasure's year", RetainRule{Period: "P6Y", From: FromEndOfYear}, nil, "2032-12-31", false},
		{"from the end of the year, in months", RetainRule{Period: "P2M", After: "on", From: FromEndOfYear}, map[string]any{"on": "2025-01-15"}, "2026-02-28", false},
		{"missing date", RetainRule{Period: "P10Y", After: "issued_on"}, map[string]any{}, "", true},
		{"date not a string", RetainRule{Period: "P10Y", After: "issued_on"}, map[string]any{"issued_on": 2024}, "", true},
		{"unreadable date", RetainRule{Period: "P10Y", After: "issued_on"}, map[string]any{"issued_on": "1 March 2024"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.rule.KeptUntil(tt.record, erasedAt)
			if tt.wantErr {
				if !errors.Is(err, ErrNoDate) {
					t.Fatalf("err %v, want ErrNoDate", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Format(time.DateOnly) != tt.want {
				t.Fatalf("kept until %s, want %s", got.Format(time.DateOnly), tt.want)
			}
		})
	}
}

func TestMatchDefaults(t *testing.T) {
	tests := []struct {
		m                             Match
		folds, trims, strings, number bool
	}{
		{Match{Field: "email", Identity: "email"}, true, true, true, true},
		{Match{Field: "email", Identity: "email", Normalize: NormalizeExact}, false, false, true, true},
		{Match{Field: "user_id", Identity: "user_id"}, false, false, true, true},
		{Match{Field: "user_id", Identity: "user_id", Normalize: NormalizeCase}, true, false, true, true},
		{Match{Field: "contact", Identity: "user_id", Normalize: NormalizeEmail}, true, true, true, true},
		{Match{Field: "user_id", Identity: "user_id", Type: TypeString}, false, false, true, false},
		{Match{Field: "user_id", Identity: "user_id", Type: TypeNumber}, false, false, false, true},
	}
	for _, tt := range tests {
		if got := tt.m.FoldsCase(); got != tt.folds {
			t.Errorf("%+v FoldsCase = %v", tt.m, got)
		}
		if got := tt.m.TrimsSpace(); got != tt.trims {
			t.Errorf("%+v TrimsSpace = %v", tt.m, got)
		}
		if tt.m.Strings() != tt.strings || tt.m.Numbers() != tt.number {
			t.Errorf("%+v Strings/Numbers = %v/%v", tt.m, tt.m.Strings(), tt.m.Numbers())
		}
	}
}
