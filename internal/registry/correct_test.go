package registry

import (
	"slices"
	"strings"
	"testing"
)

// withCorrectable is the registry with an account source whose name and
// phone may be corrected.
var withCorrectable = strings.Replace(withAccount, "    account: true\n", "    account: true\n    correctable: [full_name, phone]\n", 1)

func TestParseCorrectable(t *testing.T) {
	r, err := Parse([]byte(withCorrectable))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Correctable(); !slices.Equal(got, []string{"full_name", "phone"}) {
		t.Fatalf("correctable %v", got)
	}
	plain, err := Parse([]byte(withAccount))
	if err != nil {
		t.Fatal(err)
	}
	if plain.Correctable() != nil {
		t.Fatal("a registry that lists nothing correctable lets something be corrected")
	}
}

func TestParseCorrectableErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"not on the account source", strings.Replace(withAccount, "    dynamodb: {table: demo-orders, partition_key: user_id, identity: user_id}\n",
			"    dynamodb: {table: demo-orders, partition_key: user_id, identity: user_id}\n    correctable: [total]\n", 1),
			"$.sources[1].correctable: only the account source"},
		{"the lookup attribute", strings.Replace(withCorrectable, "[full_name, phone]", "[full_name, email]", 1),
			`attribute "email" finds the subject`},
		{"an identity attribute", strings.Replace(withCorrectable, "[full_name, phone]", "[user_id]", 1),
			`attribute "user_id" chains identities`},
		{"twice", strings.Replace(withCorrectable, "[full_name, phone]", "[phone, phone]", 1),
			`attribute "phone" is listed twice`},
		{"not an attribute name", strings.Replace(withCorrectable, "[full_name, phone]", `["a b"]`, 1),
			`attribute "a b" must be letters`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.yaml == withAccount || tt.yaml == withCorrectable {
				t.Fatal("the replacement did not apply: the test would prove nothing")
			}
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
}
