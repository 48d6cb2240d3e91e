package request

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
)

func corrections(kv ...string) *Corrections {
	c := Corrections{}
	for i := 0; i+1 < len(kv); i += 2 {
		c[kv[i]] = kv[i+1]
	}
	return &c
}

func TestValidateCorrections(t *testing.T) {
	many := Corrections{}
	for i := range MaxCorrectionFields + 1 {
		many[strings.Repeat("f", i+1)] = "x"
	}
	tests := []struct {
		name       string
		typ        string
		in         *Corrections
		byMail     bool
		want       Corrections
		wantFields []string
	}{
		{name: "one field", typ: "correct", in: corrections("name", "  Jane Roe "), want: Corrections{"name": "Jane Roe"}},
		{name: "two fields", typ: "correct", in: corrections("name", "Jane Roe", "phone", "+44 20 7946 0000"), want: Corrections{"name": "Jane Roe", "phone": "+44 20 7946 0000"}},
		{name: "longest value", typ: "correct", in: corrections("name", strings.Repeat("é", MaxCorrectionValue)), want: Corrections{"name": strings.Repeat("é", MaxCorrectionValue)}},
		{name: "none", typ: "correct", in: nil, wantFields: []string{"corrections"}},
		{name: "empty", typ: "correct", in: corrections(), wantFields: []string{"corrections"}},
		{name: "too many", typ: "correct", in: &many, wantFields: []string{"corrections"}},
		{name: "value too long", typ: "correct", in: corrections("name", strings.Repeat("a", MaxCorrectionValue+1)), wantFields: []string{"corrections.name"}},
		{name: "blank value", typ: "correct", in: corrections("name", "   "), wantFields: []string{"corrections.name"}},
		{name: "control character", typ: "correct", in: corrections("name", "Jane\x00Roe"), wantFields: []string{"corrections.name"}},
		{name: "line break", typ: "correct", in: corrections("name", "Jane\nRoe"), wantFields: []string{"corrections.name"}},
		{name: "invalid UTF-8", typ: "correct", in: corrections("name", "Jane \xff"), wantFields: []string{"corrections.name"}},
		{name: "long field name", typ: "correct", in: corrections(strings.Repeat("n", 65), "x"), wantFields: []string{"corrections"}},
		{name: "on another type", typ: "access", in: corrections("name", "Jane Roe"), wantFields: []string{"corrections"}},
		{name: "none on another type", typ: "access", in: nil},
		// A letter whose new values could not be read: an operator gives
		// them once the subject has confirmed.
		{name: "none by mail", typ: "correct", in: nil, byMail: true},
		{name: "by mail, with values", typ: "correct", in: corrections("phone", "+44 20 7946 0000"), byMail: true, want: Corrections{"phone": "+44 20 7946 0000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Submission{Type: tt.typ, Email: "a@b.co", Jurisdiction: "EU", Corrections: tt.in}
			if tt.byMail {
				in.Mail = &MailOrigin{Key: "inbound/abc"}
			}
			got, err := in.Validate()
			if tt.wantFields != nil {
				e, ok := err.(*apperr.Error)
				if !ok {
					t.Fatalf("err = %v, want field errors %v", err, tt.wantFields)
				}
				var names []string
				for _, f := range e.Fields {
					names = append(names, f.Field)
				}
				if !reflect.DeepEqual(names, tt.wantFields) {
					t.Fatalf("fields %v, want %v", names, tt.wantFields)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				if got.Corrections != nil {
					t.Fatalf("corrections %v on a %s request", *got.Corrections, tt.typ)
				}
				if r := New(got, time.Now()); r.AwaitsCorrections() != (tt.typ == "correct") {
					t.Fatalf("awaits corrections: %v", r.AwaitsCorrections())
				}
				return
			}
			if !reflect.DeepEqual(*got.Corrections, tt.want) {
				t.Fatalf("corrections %v, want %v", *got.Corrections, tt.want)
			}
			if r := New(got, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); !reflect.DeepEqual(r.Correction.Values, tt.want) {
				t.Fatalf("request corrections %v", r.Correction.Values)
			}
		})
	}
}

func TestCheckCorrectable(t *testing.T) {
	got := CheckCorrectable(Corrections{"name": "x", "email": "y", "plan": "z"}, []string{"name", "phone", "plan"})
	if len(got) != 1 || got[0].Field != "corrections.email" || got[0].Key != "error.corrections.field" {
		t.Fatalf("%+v", got)
	}
	if got := CheckCorrectable(Corrections{"name": "x"}, nil); len(got) != 1 {
		t.Fatalf("a registry without correctable fields accepted %+v", got)
	}
}
