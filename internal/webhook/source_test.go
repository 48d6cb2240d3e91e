package webhook

import (
	"errors"
	"testing"
)

func TestParseSourceAnswer(t *testing.T) {
	access := SourceCall{RequestID: "r1", SourceID: "helpdesk", Type: "access"}
	del := SourceCall{RequestID: "r1", SourceID: "helpdesk", Type: "delete"}
	cases := []struct {
		name     string
		call     SourceCall
		body     string
		callback bool
		bad      bool
	}{
		{"records", access, `{"request_id":"r1","source_id":"helpdesk","status":"done","records":[{"id":1},{"id":2}]}`, false, false},
		{"no records found", access, `{"request_id":"r1","source_id":"helpdesk","status":"done","records":[]}`, false, false},
		{"holds nothing", access, `{"request_id":"r1","source_id":"helpdesk","status":"none"}`, false, false},
		{"will call back", access, `{"request_id":"r1","source_id":"helpdesk","status":"accepted"}`, false, false},
		{"accepted in a callback", access, `{"request_id":"r1","source_id":"helpdesk","status":"accepted"}`, true, true},
		{"erased", del, `{"request_id":"r1","source_id":"helpdesk","status":"done","erased":3,"note":"tickets 1-3"}`, true, false},
		{"could not", del, `{"request_id":"r1","source_id":"helpdesk","status":"failed","note":"locked"}`, false, false},
		{"done access without records", access, `{"request_id":"r1","source_id":"helpdesk","status":"done"}`, false, true},
		{"records for a delete", del, `{"request_id":"r1","source_id":"helpdesk","status":"done","records":[{}]}`, false, true},
		{"records when none", access, `{"request_id":"r1","source_id":"helpdesk","status":"none","records":[{}]}`, false, true},
		{"a record not an object", access, `{"request_id":"r1","source_id":"helpdesk","status":"done","records":["x"]}`, false, true},
		{"erased for access", access, `{"request_id":"r1","source_id":"helpdesk","status":"done","records":[],"erased":1}`, false, true},
		{"erased below zero", del, `{"request_id":"r1","source_id":"helpdesk","status":"done","erased":-1}`, false, true},
		{"another request", access, `{"request_id":"r2","source_id":"helpdesk","status":"none"}`, false, true},
		{"another source", access, `{"request_id":"r1","source_id":"crm","status":"none"}`, false, true},
		{"unknown status", access, `{"request_id":"r1","source_id":"helpdesk","status":"ok"}`, false, true},
		{"unknown field", access, `{"request_id":"r1","source_id":"helpdesk","status":"none","extra":1}`, false, true},
		{"two values", access, `{"request_id":"r1","source_id":"helpdesk","status":"none"}{}`, false, true},
		{"not JSON", access, `<html>`, false, true},
		{"control characters in the note", del, "{\"request_id\":\"r1\",\"source_id\":\"helpdesk\",\"status\":\"none\",\"note\":\"a\\u0000b\"}", false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSourceAnswer([]byte(c.body), c.call, c.callback)
			var m *Malformed
			if c.bad != errors.As(err, &m) {
				t.Fatalf("ParseSourceAnswer = %v, want malformed: %v", err, c.bad)
			}
		})
	}
}
