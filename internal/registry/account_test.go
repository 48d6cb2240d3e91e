package registry

import (
	"strings"
	"testing"
)

// withAccount is the valid registry with its users table as the account source.
var withAccount = strings.Replace(valid, "    provides: {user_id: user_id}\n",
	"    provides: {user_id: user_id}\n    account: true\n    data_points: {name: full_name, phone: phone, postal_code: zip}\n", 1)

func TestParseAccount(t *testing.T) {
	r, err := Parse([]byte(withAccount))
	if err != nil {
		t.Fatal(err)
	}
	if a := r.Account(); a == nil || a.ID != "users" || a.DataPoints["postal_code"] != "zip" {
		t.Fatalf("account source %+v", a)
	}
	var kinds []string
	for _, k := range r.AccountKinds() {
		kinds = append(kinds, k.ID)
	}
	if strings.Join(kinds, ",") != "name,phone,postal_code" {
		t.Fatalf("kinds %v, want the registry's in the order of DataPointKinds", kinds)
	}
	plain, err := Parse([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if plain.Account() != nil || plain.AccountKinds() != nil || plain.HoldsSensitive() {
		t.Fatal("a registry without an account source or sensitive data says otherwise")
	}
	sensitive, err := Parse([]byte(strings.Replace(valid, "categories: [identifiers]", "categories: [identifiers, sensitive]", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if !sensitive.HoldsSensitive() {
		t.Fatal("a source with sensitive data is not seen")
	}
}

func TestParseAccountErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"account without data points", strings.Replace(withAccount, "    data_points: {name: full_name, phone: phone, postal_code: zip}\n", "", 1),
			"$.sources[0].data_points: name the attributes that hold the data points"},
		{"unknown data point", strings.Replace(withAccount, "phone: phone", "shoe_size: shoe", 1),
			`unknown data point "shoe_size"`},
		{"empty attribute", strings.Replace(withAccount, "phone: phone", `phone: ""`, 1),
			`name the attribute that holds "phone"`},
		{"data points elsewhere", strings.Replace(withAccount, "    dynamodb: {table: demo-orders, partition_key: user_id, identity: user_id}\n",
			"    dynamodb: {table: demo-orders, partition_key: user_id, identity: user_id}\n    data_points: {name: n}\n", 1),
			"$.sources[1].data_points: only the account source (account: true) has data points"},
		{"two accounts", strings.Replace(withAccount, "    dynamodb: {table: demo-orders, partition_key: user_id, identity: user_id}\n",
			"    dynamodb: {table: demo-orders, partition_key: user_id, identity: user_id}\n    account: true\n    data_points: {name: n}\n", 1),
			"only one source can be the account source"},
		{"not found by email", strings.Replace(withAccount, "    dynamodb: {table: demo-orders, partition_key: user_id, identity: user_id}\n",
			"    dynamodb: {table: demo-orders, partition_key: user_id, identity: user_id}\n    account: true\n    data_points: {name: n}\n", 1),
			`must be a dynamodb source found by "email"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.yaml == withAccount {
				t.Fatal("the replacement did not apply: the test would prove nothing")
			}
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
}
