package devstack

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/inbound"
)

// keys lists every object key path in a JSON value ("a.b.c"), so two
// events can be compared by shape.
func keys(prefix string, v any, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			out[prefix+k] = true
			keys(prefix+k+".", e, out)
		}
	case []any:
		for _, e := range x {
			keys(prefix+"[].", e, out)
		}
	}
}

// TestSESEventHasTheShapeSESSends: the dev endpoint's event has the fields
// of the sample receipt event in events/, taken from what SES sends.
func TestSESEventHasTheShapeSESSends(t *testing.T) {
	sample, err := os.ReadFile("../../events/inbound-ses.json")
	if err != nil {
		t.Fatal(err)
	}
	raw := strings.ReplaceAll("From: Jane Roe <jane.roe@example.com>\nTo: privacy@example.com\nSubject: Subject access request\n"+
		"Date: Mon, 23 Nov 2026 10:12:44 +0100\nMessage-ID: <a@mail.example.com>\nReturn-Path: <jane.roe@example.com>\n\nbody\n", "\n", "\r\n")
	ev := SESEvent(newMessageID(), []byte(raw), time.Now(), "arn:aws:lambda:us-east-1:123456789012:function:dsr-inbound",
		inbound.Verdicts{SPF: "PASS", DKIM: "PASS", DMARC: "FAIL", Spam: "PASS", Virus: "PASS"})
	made, _ := json.Marshal(ev)
	var a, b any
	if err := json.Unmarshal(sample, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(made, &b); err != nil {
		t.Fatal(err)
	}
	want, got := map[string]bool{}, map[string]bool{}
	keys("", a, want)
	keys("", b, got)
	for k := range want {
		if !got[k] {
			t.Errorf("the dev event lacks %s", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("the dev event has %s, which SES does not send", k)
		}
	}
	id := ev.Records[0].SES.Mail.MessageID
	if len(id) != 40 || !inbound.ValidMailID(id) || strings.ToLower(id) != id {
		t.Fatalf("message id %q is not shaped like SES's", id)
	}
	if from := ev.Records[0].SES.Mail.CommonHeaders.From; !slices.Equal(from, []string{"Jane Roe <jane.roe@example.com>"}) {
		t.Fatalf("from %v", from)
	}
}
