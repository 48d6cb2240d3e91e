package portal

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// An authorized agent submits a request for a subject, giving both
// addresses (CCPA Regs §7063). The agent then uploads the subject's signed
// permission with the status link it got. The subject is mailed the
// verification link and, by confirming, confirms the agent's authority
// directly; a confirmation is refused until the permission is uploaded.
// Where the agent declares a power of attorney, an operator reviews the
// document instead and verifies the request (privacyctl verify). The agent
// never receives the subject's data: the download link, the erasure
// confirmation and every notice go to the subject's address alone; the
// agent sees the status page, which shows nothing personal.

// Permissions keeps the documents agents upload, one per request.
type Permissions interface {
	// PutPermission stores a document under a key derived from the request
	// id alone, encrypted with the bucket's KMS key, in place of any
	// stored under that key before.
	PutPermission(ctx context.Context, requestID, contentType string, body []byte) (string, error)
	// DeletePermission deletes a document; one already gone is no error.
	DeletePermission(ctx context.Context, key string) error
}

// MaxPermissionBytes bounds an uploaded permission: through API Gateway a
// binary body reaches Lambda base64-encoded, and a Lambda request may not
// exceed 6 MB, so 4 MiB is the most that arrives whole.
const MaxPermissionBytes = 4 << 20

// permissionTypes are the accepted documents, known by their first bytes.
var permissionTypes = []struct {
	mediaType string
	magic     []byte
}{
	{"application/pdf", []byte("%PDF-")},
	{"image/png", []byte("\x89PNG\r\n\x1a\n")},
	{"image/jpeg", []byte("\xff\xd8\xff")},
}

var (
	errPermissionType = &apperr.Error{Kind: apperr.Unsupported, Msg: "Send the signed permission as a PDF, PNG or JPEG file.", Key: "agent.permission.type"}
	errNotAgent       = apperr.Keyed(apperr.Conflict, "agent.permission.not_agent")
	errNoPermission   = apperr.Keyed(apperr.Conflict, "agent.no_permission")
)

// ErrPermissionType refuses a document that is not a PDF, PNG or JPEG.
var ErrPermissionType = errPermissionType

// AcceptsPermissionType reports whether a declared media type is one a
// permission may have.
func AcceptsPermissionType(mediaType string) bool {
	for _, t := range permissionTypes {
		if t.mediaType == mediaType {
			return true
		}
	}
	return false
}

// sniffPermission returns the media type of a document by its first bytes,
// and whether it is one the declared type names (a declared type that
// differs is refused: the bytes decide, not the label).
func sniffPermission(declared string, body []byte) (string, bool) {
	for _, t := range permissionTypes {
		if bytes.HasPrefix(body, t.magic) {
			return t.mediaType, declared == "" || declared == t.mediaType
		}
	}
	return "", false
}

// UploadPermission stores the signed permission of an agent's request,
// authorized by the status token the agent got at submission. It can be
// sent again (a better scan) until the request is confirmed, and replaces
// the one before, whatever its type: a request keeps one document.
func (p *Portal) UploadPermission(ctx context.Context, id, token, contentType string, body []byte, powerOfAttorney bool) error {
	r, err := p.authorized(ctx, id, token, func(r *request.Request) string { return r.StatusTokenHash })
	if err != nil {
		return err
	}
	if r.Agent.Email == "" {
		return errNotAgent
	}
	if r.Status != request.Received && r.Status != request.PendingVerification {
		return apperr.Keyed(apperr.Conflict, "error.link")
	}
	if len(body) > MaxPermissionBytes {
		return apperr.Keyed(apperr.TooLarge, "error.permission.too_large")
	}
	mediaType, ok := sniffPermission(contentType, body)
	if !ok {
		return errPermissionType
	}
	key, err := p.Permissions.PutPermission(ctx, r.ID, mediaType, body)
	if err != nil {
		return err
	}
	before := r.Agent.PermissionKey
	now := p.Clock.Now()
	r.Agent.PermissionKey, r.Agent.PermissionType, r.Agent.PowerOfAttorney = key, mediaType, powerOfAttorney
	r.UpdatedAt = now
	if powerOfAttorney {
		// An operator reviews the power of attorney and verifies.
		r.NeedsOperator = true
	}
	note := fmt.Sprintf("type=%s bytes=%d power_of_attorney=%v", mediaType, len(body), powerOfAttorney)
	if err := p.Store.Save(ctx, r, request.Event{At: now, Actor: "agent", Action: "agent_permission_received", From: r.Status, To: r.Status, Note: note}); err != nil {
		if errors.Is(err, request.ErrChanged) {
			p.dropIfClosed(ctx, r.ID, key)
		}
		return err
	}
	if before != "" && before != key {
		// Stored under a key that named its type, before a request kept
		// one key for all.
		return p.Permissions.DeletePermission(ctx, before)
	}
	return nil
}

// dropIfClosed deletes a document stored for a request that closed while
// it was being stored: the closing step may have looked for it before it
// was there, and nothing else would delete it until the bucket's lifecycle
// does.
func (p *Portal) dropIfClosed(ctx context.Context, id, key string) {
	r, err := p.Store.Get(ctx, id)
	if err != nil || !r.Status.Closed() {
		return
	}
	if err := p.Permissions.DeletePermission(ctx, key); err != nil {
		p.Log.ErrorContext(ctx, "permission of a closed request not deleted", "request_id", id, "error_kind", apperr.KindOf(err).String())
	}
}
