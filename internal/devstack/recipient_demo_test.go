package devstack

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/webhook"
)

// The demo ad partner acknowledges a signed notice with a signed answer,
// refuses one not signed with its secret, and each call is listed by kind
// and identity kinds, never values.
func TestDemoRecipient(t *testing.T) {
	reg, err := registry.Parse(LocalRegistry("http://127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	h := newHooks(reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	secret := h.endpointSecret("adco")
	if secret == nil {
		t.Fatal("the demo registry names no webhook recipient at /_dev/hooks/adco")
	}
	notice, _ := json.Marshal(webhook.RecipientNotice{Kind: webhook.KindRecipientNotice, NoticeID: "dsr-1.adco", RequestID: "dsr-1",
		RecipientID: "adco", Type: "delete", Action: "erase", Identities: map[string][]string{"email": {DemoSubject}}})
	post := func(sign []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, HooksPath+"adco", bytes.NewReader(notice))
		req.Header.Set(webhook.SignatureHeader, webhook.Sign(sign, time.Now(), notice))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := post(secret)
	if rec.Code != http.StatusOK {
		t.Fatalf("signed notice: HTTP %d %s", rec.Code, rec.Body)
	}
	if err := webhook.Verify(secret, rec.Header().Get(webhook.SignatureHeader), rec.Body.Bytes(), time.Now()); err != nil {
		t.Fatalf("the answer is not signed: %v", err)
	}
	if _, err := webhook.ParseRecipientAck(rec.Body.Bytes(), webhook.RecipientNotice{NoticeID: "dsr-1.adco"}); err != nil {
		t.Fatalf("the answer %s: %v", rec.Body, err)
	}
	if rec := post([]byte("another secret, not the recipient's one")); rec.Code != http.StatusUnauthorized {
		t.Fatalf("a notice signed with another secret: HTTP %d", rec.Code)
	}
	calls := h.Calls()
	if len(calls) != 2 || calls[0].Kind != webhook.KindRecipientNotice || !calls[0].Signed || calls[1].Signed ||
		calls[0].Answer != "200 received" || len(calls[0].IdentityKinds) != 1 || calls[0].IdentityKinds[0] != "email" {
		t.Fatalf("calls %+v", calls)
	}
	if b, _ := json.Marshal(calls); bytes.Contains(b, []byte(DemoSubject)) {
		t.Fatal("the list of calls holds an identity")
	}
}
