package portal

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/secret"
)

// fakePermissions keeps uploaded documents by key.
type fakePermissions struct {
	stored map[string][]byte
	types  map[string]string
}

func (f *fakePermissions) PutPermission(_ context.Context, requestID, contentType string, body []byte) (string, error) {
	key := "agents/" + requestID + "/permission"
	f.stored[key], f.types[key] = bytes.Clone(body), contentType
	return key, nil
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
	r.AgentEmail = agent
}

func TestSubmitByAgent(t *testing.T) {
	e, _ := newAgentEnv()
	rc, err := e.portal.Submit(context.Background(), request.Intake{Type: "access", Email: subject, AgentEmail: " Agent@Example.net ", Jurisdiction: "US-CA"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := e.store.stored(rc.ID); got.AgentEmail != agent || got.Email != subject {
		t.Fatalf("agent %q, subject %q", got.AgentEmail, got.Email)
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
			if got.PermissionKey != "agents/"+r.ID+"/permission" || got.PermissionType != tt.want || got.PowerOfAttorney || got.NeedsOperator {
				t.Fatalf("stored %q %q, power of attorney %v", got.PermissionKey, got.PermissionType, got.PowerOfAttorney)
			}
			if !bytes.Equal(perms.stored[got.PermissionKey], tt.body) {
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
	if got, _ := e.store.stored(r.ID); got.VerifyFailures != 0 || got.VerifyTokenHash == "" || len(e.workflow.resumes) != 0 {
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
	if !got.PowerOfAttorney || !got.NeedsOperator || got.Status != request.PendingVerification || len(e.workflow.resumes) != 0 {
		t.Fatalf("power of attorney %v, needs operator %v, status %s", got.PowerOfAttorney, got.NeedsOperator, got.Status)
	}
	if !secret.Matches(verifyToken, got.VerifyTokenHash) {
		t.Fatal("the subject's link was voided")
	}
}
