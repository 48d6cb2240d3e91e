package portal

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/secret"
)

// fakePermissions keeps uploaded documents by key, one key per request as
// the exports bucket does.
type fakePermissions struct {
	stored map[string][]byte
	types  map[string]string
	// afterPut runs after a document is stored, as something that happens
	// meanwhile.
	afterPut func()
}

func (f *fakePermissions) PutPermission(_ context.Context, requestID, contentType string, body []byte) (string, error) {
	key := "agents/" + requestID + "/permission"
	f.stored[key], f.types[key] = bytes.Clone(body), contentType
	if f.afterPut != nil {
		f.afterPut()
	}
	return key, nil
}

func (f *fakePermissions) DeletePermission(_ context.Context, key string) error {
	delete(f.stored, key)
	delete(f.types, key)
	return nil
}

const agent = "agent@example.net"

var (
	pdf  = []byte("%PDF-1.7\n1 0 obj signed")
	png  = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	jpeg = []byte("\xff\xd8\xff\xe0\x00\x10JFIF")
)

func newAgentEnv() (*env, *fakePermissions) {
	e := newEnv()
	f := &fakePermissions{stored: map[string][]byte{}, types: map[string]string{}}
	e.portal.Permissions = f
	return e, f
}

// agentRequest is an agent's request waiting for the subject's confirmation.
func agentRequest(r *request.Request) {
	pending(r)
	r.Agent.Email = agent
}

func TestSubmitByAgent(t *testing.T) {
	e, _ := newAgentEnv()
	rc, err := e.portal.Submit(context.Background(), request.Submission{Type: "access", Email: subject, AgentEmail: " Agent@Example.net ", Jurisdiction: "US-CA"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := e.store.stored(rc.ID); got.Agent.Email != agent || got.Email != subject {
		t.Fatalf("agent %q, subject %q", got.Agent.Email, got.Email)
	}
}

func TestUploadPermission(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name, declared string
		body           []byte
		want           string
	}{
		{"PDF", "application/pdf", pdf, "application/pdf"},
		{"PNG", "image/png", png, "image/png"},
		{"JPEG", "image/jpeg", jpeg, "image/jpeg"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, perms := newAgentEnv()
			r := e.seed(request.PendingVerification, agentRequest)
			if err := e.portal.UploadPermission(ctx, r.ID, "status-token", tt.declared, tt.body, false); err != nil {
				t.Fatal(err)
			}
			got, _ := e.store.stored(r.ID)
			if got.Agent.PermissionKey != "agents/"+r.ID+"/permission" || got.Agent.PermissionType != tt.want || got.Agent.PowerOfAttorney || got.NeedsOperator {
				t.Fatalf("stored %q %q, power of attorney %v", got.Agent.PermissionKey, got.Agent.PermissionType, got.Agent.PowerOfAttorney)
			}
			if !bytes.Equal(perms.stored[got.Agent.PermissionKey], tt.body) {
				t.Fatal("the document was not stored as sent")
			}
			evs := e.store.eventsOf(r.ID)
			if last := evs[len(evs)-1]; last.Action != "agent_permission_received" || last.Actor != "agent" || !strings.Contains(last.Note, "type="+tt.want) {
				t.Fatalf("event %+v", last)
			}
			// The agent's upload confirms nothing: the subject must.
			if got.Status != request.PendingVerification || len(e.workflow.resumes) != 0 {
				t.Fatal("the upload moved the request on")
			}
		})
	}
}

// TestUploadPermissionKeepsOneDocument: a request keeps one document, the
// last sent, whatever the types: one stored under a key that named its type
// is deleted when another comes. A document stored while the request
// closed is deleted too (the closing step may have looked before it was
// there); while it changed otherwise, it stays for the agent's retry.
func TestUploadPermissionKeepsOneDocument(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		before    string // the key of a document sent before, "" for none
		meanwhile func(e *env, id string)
		wantErr   apperr.Kind
		wantKeys  []string
	}{
		{"a second upload", "agents/%s/permission", nil, -1, []string{"agents/%s/permission"}},
		{"after one kept under a key with its type", "agents/%s/permission.pdf", nil, -1, []string{"agents/%s/permission"}},
		{"the request closed meanwhile", "", func(e *env, id string) {
			r, _ := e.store.Get(ctx, id)
			r.Status = request.Expired
			_ = e.store.Save(ctx, r, request.Event{Action: "expired"})
		}, apperr.Conflict, nil},
		{"the request changed meanwhile", "", func(e *env, id string) {
			r, _ := e.store.Get(ctx, id)
			_ = e.store.Save(ctx, r, request.Event{Action: "verification_sent"})
		}, apperr.Conflict, []string{"agents/%s/permission"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, perms := newAgentEnv()
			r := e.seed(request.PendingVerification, agentRequest)
			if tt.before != "" {
				old := strings.ReplaceAll(tt.before, "%s", r.ID)
				perms.stored[old], perms.types[old] = pdf, "application/pdf"
				r.Agent.PermissionKey, r.Agent.PermissionType = old, "application/pdf"
				e.store.put(r)
			}
			if tt.meanwhile != nil {
				perms.afterPut = func() { tt.meanwhile(e, r.ID) }
			}
			err := e.portal.UploadPermission(ctx, r.ID, "status-token", "image/png", png, false)
			if tt.wantErr >= 0 {
				if apperr.KindOf(err) != tt.wantErr {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for k := range perms.stored {
				keys = append(keys, strings.ReplaceAll(k, r.ID, "%s"))
			}
			if fmt.Sprint(keys) != fmt.Sprint(tt.wantKeys) {
				t.Fatalf("documents kept %v, want %v", keys, tt.wantKeys)
			}
			if len(keys) == 1 && perms.types[strings.ReplaceAll(keys[0], "%s", r.ID)] != "image/png" {
				t.Fatal("the document kept is not the last sent")
			}
		})
	}
}

func TestUploadPermissionRefused(t *testing.T) {
	ctx := context.Background()
	big := append(bytes.Clone(pdf), make([]byte, MaxPermissionBytes)...)
	tests := []struct {
		name     string
		edit     func(*request.Request)
		status   request.Status
		token    string
		declared string
		body     []byte
		kind     apperr.Kind
	}{
		{"wrong token", agentRequest, request.PendingVerification, "guess", "application/pdf", pdf, apperr.NotFound},
		{"the verification token", agentRequest, request.PendingVerification, verifyToken, "application/pdf", pdf, apperr.NotFound},
		{"not an agent's request", pending, request.PendingVerification, "status-token", "application/pdf", pdf, apperr.Conflict},
		{"already confirmed", agentRequest, request.Verified, "status-token", "application/pdf", pdf, apperr.Conflict},
		{"closed", agentRequest, request.Expired, "status-token", "application/pdf", pdf, apperr.Conflict},
		{"PNG declared as PDF", agentRequest, request.PendingVerification, "status-token", "application/pdf", png, apperr.Unsupported},
		{"a program named PDF", agentRequest, request.PendingVerification, "status-token", "application/pdf", []byte("MZ\x90\x00"), apperr.Unsupported},
		{"HTML", agentRequest, request.PendingVerification, "status-token", "", []byte("<html><script>"), apperr.Unsupported},
		{"empty", agentRequest, request.PendingVerification, "status-token", "application/pdf", nil, apperr.Unsupported},
		{"too large", agentRequest, request.PendingVerification, "status-token", "application/pdf", big, apperr.TooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, perms := newAgentEnv()
			r := e.seed(tt.status, tt.edit)
			err := e.portal.UploadPermission(ctx, r.ID, tt.token, tt.declared, tt.body, false)
			if apperr.KindOf(err) != tt.kind {
				t.Fatalf("error %v, want %v", err, tt.kind)
			}
			if len(perms.stored) != 0 {
				t.Fatal("stored")
			}
		})
	}
}

// TestAgentRequestNeedsPermissionAndSubject: the subject's own link is
// refused (and not counted) until the agent has sent the permission; the
// agent's upload alone confirms nothing; then the subject confirms.
func TestAgentRequestNeedsPermissionAndSubject(t *testing.T) {
	ctx := context.Background()
	e, _ := newAgentEnv()
	r := e.seed(request.PendingVerification, agentRequest)
	if err := e.portal.ConfirmVerification(ctx, r.ID, verifyToken, Details{}); err != errNoPermission {
		t.Fatalf("confirmation without permission: %v", err)
	}
	if err := e.portal.ConfirmCode(ctx, r.ID, verifyCode, Details{}); err != errNoPermission {
		t.Fatalf("code without permission: %v", err)
	}
	if got, _ := e.store.stored(r.ID); got.Verification.Failures != 0 || got.Verification.TokenHash == "" || len(e.workflow.resumes) != 0 {
		t.Fatal("the refusal counted, used the link or resumed")
	}
	if err := e.portal.UploadPermission(ctx, r.ID, "status-token", "application/pdf", pdf, false); err != nil {
		t.Fatal(err)
	}
	if len(e.workflow.resumes) != 0 {
		t.Fatal("the agent's upload resumed the workflow")
	}
	if err := e.portal.ConfirmVerification(ctx, r.ID, verifyToken, Details{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.store.stored(r.ID); got.Status != request.Verified || len(e.workflow.resumes) != 1 {
		t.Fatalf("status %s", got.Status)
	}
	// The agent, holding the status token, still cannot confirm or download.
	wantNoSuchLink(t, e.portal.ConfirmVerification(ctx, r.ID, "status-token", Details{}))
	if _, err := e.portal.DownloadURL(ctx, r.ID, "status-token"); err == nil {
		t.Fatal("the status token downloads")
	}
}

func TestPowerOfAttorneyGoesToAnOperator(t *testing.T) {
	e, _ := newAgentEnv()
	r := e.seed(request.PendingVerification, agentRequest)
	if err := e.portal.UploadPermission(context.Background(), r.ID, "status-token", "image/jpeg", jpeg, true); err != nil {
		t.Fatal(err)
	}
	got, _ := e.store.stored(r.ID)
	if !got.Agent.PowerOfAttorney || !got.NeedsOperator || got.Status != request.PendingVerification || len(e.workflow.resumes) != 0 {
		t.Fatalf("power of attorney %v, needs operator %v, status %s", got.Agent.PowerOfAttorney, got.NeedsOperator, got.Status)
	}
	if !secret.Matches(verifyToken, got.Verification.TokenHash) {
		t.Fatal("the subject's link was voided")
	}
}
