package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/erasure"
	"github.com/privacy-pipeline/dsr/internal/recipient"
)

type memChain []erasure.Link

func (c memChain) Walk(_ context.Context, fn func(erasure.Link) error) error {
	for _, l := range c {
		if err := fn(l); err != nil {
			return err
		}
	}
	return nil
}

func sealed(t *testing.T, n int) memChain {
	t.Helper()
	var c memChain
	var prev erasure.Link
	for i := range n {
		l, err := erasure.Seal(erasure.Receipt{RequestID: "dsr-20261123-0000000000000000", IssuedAt: time.Date(2026, 11, 23, 9, i, 0, 0, time.UTC),
			Sources: []erasure.Outcome{
				{SourceID: "users", Mode: "delete", Records: 1, Deleted: 1, Touched: []erasure.Touched{{Key: "hmac-sha256:ab", Action: "deleted"}}},
				{SourceID: "invoices", Mode: "retain", Records: 2, Retained: 2, Retention: &erasure.Retention{Reason: "Tax law.", Citation: "AO § 147", Until: "2035-01-31"}},
			}}, prev)
		if err != nil {
			t.Fatal(err)
		}
		c, prev = append(c, l), l
	}
	return c
}

type memAnchors []erasure.Anchor

func (a memAnchors) All(context.Context) ([]erasure.Anchor, int, error) {
	strangers := 0
	var anchors []erasure.Anchor
	for _, x := range a {
		if x.Seq == 0 { // stands for an object that is no anchor
			strangers++
			continue
		}
		anchors = append(anchors, x)
	}
	return anchors, strangers, nil
}

func anchorsOf(c memChain) memAnchors {
	var as memAnchors
	for _, l := range c {
		as = append(as, erasure.Anchor{Seq: l.Seq, Hash: l.Hash})
	}
	return as
}

func TestVerifyChain(t *testing.T) {
	intact := sealed(t, 3)
	tampered := sealed(t, 3)
	tampered[1].Body = bytes.Replace(tampered[1].Body, []byte(`"deleted":1`), []byte(`"deleted":0`), 1)
	tests := []struct {
		name    string
		chain   memChain
		anchors anchorLister
		wantErr bool
		want    string
		json    map[string]any
	}{
		{"intact", intact, anchorsOf(intact), false, "3 receipts; the chain holds together.\nLast: receipt 3, hash " + intact[2].Hash + "\n3 receipts anchored",
			map[string]any{"intact": true, "verified": 3.0, "head_seq": 3.0, "head_hash": intact[2].Hash, "anchors_checked": true, "anchored": 3.0}},
		{"intact, no anchors configured", intact, nil, false, "No anchors were checked (RECEIPT_ANCHORS_BUCKET is not set)",
			map[string]any{"intact": true, "verified": 3.0, "anchors_checked": false}},
		{"tampered", tampered, anchorsOf(intact), true, "Receipt 2: its content does not match its hash: it was changed.\n1 receipts before it hold together.",
			map[string]any{"intact": false, "verified": 1.0, "broken_at": 2.0}},
		{"newest receipt removed", intact[:2], anchorsOf(intact), true, "Receipt 3: missing: the chain ends at receipt 2, yet receipt 3 was anchored",
			map[string]any{"intact": false, "verified": 2.0, "broken_at": 3.0}},
		{"empty", nil, memAnchors{}, false, "No receipts yet.", map[string]any{"intact": true, "verified": 0.0}},
		{"a stranger among the anchors", intact, append(anchorsOf(intact), erasure.Anchor{}), false, "Warning: 1 objects among the anchors are not anchors",
			map[string]any{"intact": true, "not_anchors": 1.0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := verifyChain(context.Background(), tt.chain, tt.anchors, &out, false)
			if tt.wantErr != errors.Is(err, errChainBroken) || (!tt.wantErr && err != nil) {
				t.Fatalf("err %v", err)
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("output\n%s\nlacks\n%s", out.String(), tt.want)
			}
			out.Reset()
			_ = verifyChain(context.Background(), tt.chain, tt.anchors, &out, true)
			var got map[string]any
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.json {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

func TestPrintReceipt(t *testing.T) {
	var out bytes.Buffer
	c := sealed(t, 1)
	if err := printReceipt(&out, c[0], false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Erasure receipt 1 for dsr-20261123-0000000000000000", "Hash " + c[0].Hash,
		"users     delete", "invoices  retain", "Tax law. (AO § 147) until 2035-01-31"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "RECIPIENT") {
		t.Errorf("a receipt that names no recipient shows their table:\n%s", out.String())
	}
	out.Reset()
	if err := printReceipt(&out, c[0], true); err != nil || strings.TrimSpace(out.String()) != string(c[0].Body) {
		t.Errorf("--json prints %q, want the stored body", out.String())
	}
}

// The recipients an erasure was passed on to follow the sources: told, or
// not reached and why.
func TestPrintReceiptRecipients(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	l, err := erasure.Seal(erasure.Receipt{RequestID: "dsr-20261123-0000000000000000", IssuedAt: at, Recipients: []recipient.Delivery{
		{RecipientID: "adco", Name: "AdCo Ltd", Channel: recipient.Webhook, Status: recipient.Unreached, Tries: 5, Reason: "status 503", At: at},
		{RecipientID: "mailhouse", Name: "Mailhouse Ltd", Channel: recipient.Email, Status: recipient.Told, Tries: 1, At: at},
	}}, erasure.Link{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := printReceipt(&out, l, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"RECIPIENT  NAME           BY       STATUS     TRIES  AT                    WHY NOT",
		"adco       AdCo Ltd       webhook  unreached  5      2026-11-23T10:00:00Z  status 503",
		"mailhouse  Mailhouse Ltd  email    told       1      2026-11-23T10:00:00Z"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestReceiptsUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"receipts"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "receipts verify") {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if code := run([]string{"receipt", "not-an-id"}, &out, &errOut); code != 2 {
		t.Fatalf("exit %d", code)
	}
}

func TestPrintPlan(t *testing.T) {
	plan := []erasure.Outcome{
		{SourceID: "users", Mode: "delete", DryRun: true, Records: 1, Deleted: 1, Touched: []erasure.Touched{{Key: "hmac-sha256:aa", Action: "deleted"}}},
		{SourceID: "history", Mode: "delete", DryRun: true, Records: 2, Deleted: 2, Touched: []erasure.Touched{
			{Key: "hmac-sha256:bb", Action: "rewritten"}, {Key: "hmac-sha256:bb", Version: "v1", Action: "version_deleted"}}},
		{SourceID: "reviews", Mode: "anonymize", DryRun: true, Records: 2, Anonymized: 2, Fields: []string{"email", "author_name"}},
		{SourceID: "invoices", Mode: "retain", DryRun: true, Records: 2, Retained: 2, Retention: &erasure.Retention{Reason: "Company law.", Citation: "CA 2006 s. 388", Until: "2031-06-30"}},
		{SourceID: "newsletter", Mode: "delete", DryRun: true},
	}
	var out bytes.Buffer
	if err := printPlan(&out, "dsr-20261123-0000000000000000", plan, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"nothing was changed", "users       delete     delete 1 record(s)", "history     delete     delete 2 record(s)",
		"1     1", "anonymize 2 record(s): remove email, author_name", "keep 2 record(s): Company law. (CA 2006 s. 388), until 2031-06-30",
		"nothing: no records of the subject"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("plan lacks %q:\n%s", want, out.String())
		}
	}
}

func TestHoldAndEraseUsage(t *testing.T) {
	const id = "dsr-20261123-0000000000000000"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"hold", id}, "hold needs --reason"},
		{[]string{"hold", "--reason", "x"}, "needs one request id"},
		{[]string{"release"}, "needs one request id"},
		{[]string{"erase", id}, "erase runs only with --dry-run"},
	} {
		var out, errOut bytes.Buffer
		if code := run(tc.args, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", tc.args, code, errOut.String(), tc.want)
		}
	}
}
