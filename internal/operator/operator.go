// Package operator is what the privacy team does to a request: approve or
// deny it after review, extend its deadline. Every action is audited under
// the operator's name.
package operator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/notify"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/workflow"
)

// Store keeps requests and their audit log.
type Store interface {
	Get(ctx context.Context, id string) (*request.Request, error)
	Save(ctx context.Context, r *request.Request, ev request.Event) error
	Record(ctx context.Context, id string, ev request.Event) error
	Events(ctx context.Context, id string) ([]request.Event, error)
}

// Workflow resumes, fails or stops a request's workflow.
type Workflow interface {
	Resume(ctx context.Context, taskToken string) error
	Fail(ctx context.Context, taskToken, errorName string) error
	FailedStep(ctx context.Context, execution string) (state, input string, err error)
	StartNamed(ctx context.Context, execution, input string) error
}

// Watch ends a closed request's deadline watch.
type Watch interface {
	End(ctx context.Context, requestID string) error
}

// Mailer tells the subject.
type Mailer interface {
	Send(ctx context.Context, m notify.Message) error
}

// Extender extends a request's deadline and notifies the subject.
type Extender interface {
	Extend(ctx context.Context, r *request.Request, reasons []string, by string) error
}

// RawMail forgets the raw message a closed request came by, unless another
// request of the same mail is still open.
type RawMail interface {
	ForgetMail(ctx context.Context, r *request.Request) error
}

// Permissions forgets the signed permission of a closed request's agent
// (deleted now, or left to the bucket's lifecycle for the retention period).
type Permissions interface {
	ForgetPermission(ctx context.Context, r *request.Request) error
}

// Operator carries out operators' decisions.
type Operator struct {
	Store    Store
	Workflow Workflow
	Watch    Watch
	Mailer   Mailer
	Extender Extender
	Clock    clock.Clock
	// RawMail forgets a cancelled request's raw message.
	RawMail RawMail
	// Findings are the places erasure could not handle, for an operator.
	Findings Findings
	// Permissions forgets a cancelled request's signed permission.
	Permissions Permissions
	// Correctable are the profile fields a correction may change (the
	// registry's account source says which).
	Correctable []string
	// ManualWaits is where a workflow waiting on the owners of manual
	// sources keeps its task token, which a cancel ends.
	ManualWaits ManualWaits
	// Deliveries are what recipients were told of each request.
	Deliveries Deliveries
}

// ManualWaits reads the task token of a workflow waiting on the tasks of
// manual sources ("" when none waits).
type ManualWaits interface {
	Wait(ctx context.Context, requestID string) (string, error)
}

func (o *Operator) load(ctx context.Context, id string) (*request.Request, error) {
	if !request.ValidID(id) {
		return nil, apperr.InvalidFields(apperr.FieldError{Field: "id", Detail: "Not a request id."})
	}
	return o.Store.Get(ctx, id)
}

func (o *Operator) reviewing(ctx context.Context, id string) (*request.Request, error) {
	r, err := o.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Review.TaskToken == "" || r.Status.Closed() {
		return nil, apperr.E(apperr.Conflict, "The request is not waiting for a review.")
	}
	return r, nil
}

// Approve lets a reviewed request go on to delivery. Granting an appeal
// takes the reasons the subject is sent (the law wants them); any other
// approval takes none. The workflow is resumed first, so a failure to
// resume leaves the request waiting and the approval can be tried again;
// the audit record follows.
func (o *Operator) Approve(ctx context.Context, id, who string, reasons []string) error {
	reasons = clean(reasons)
	r, err := o.reviewing(ctx, id)
	if err != nil {
		return err
	}
	switch {
	case r.AwaitsCorrections():
		return apperr.InvalidFields(apperr.FieldError{Field: "correct", Detail: "The new values this correction letter asks for were not read from it: give them (privacyctl letter shows the letter, privacyctl approve --correct FIELD=VALUE gives them)."})
	case r.Type == request.Appeal && len(reasons) == 0:
		return apperr.InvalidFields(apperr.FieldError{Field: "reason", Detail: "Give the reasons for granting the appeal; the subject must be told them."})
	case r.Type != request.Appeal && len(reasons) > 0:
		return apperr.InvalidFields(apperr.FieldError{Field: "reason", Detail: "Reasons go with granting an appeal or with a denial; approving a " + string(r.Type) + " request sends none."})
	case r.Type == request.Appeal:
		// Stored before the workflow goes on: its next step sends them.
		now := o.Clock.Now()
		r.Appeal.GrantReasons, r.UpdatedAt = reasons, now
		if err := o.Store.Save(ctx, r, request.Event{At: now, Actor: "operator:" + who, Action: "appeal_grant_decided", From: r.Status, To: r.Status}); err != nil {
			return err
		}
	}
	return o.resumeReviewed(ctx, r, who)
}

// ApproveCorrections gives the new values of a confirmed correction letter
// whose values the rules could not read, as the operator read them, and
// lets the request go on to correct the profile. They are checked as a
// subject's are, against the fields the registry lets a subject correct.
func (o *Operator) ApproveCorrections(ctx context.Context, id, who string, values request.Corrections) error {
	r, err := o.reviewing(ctx, id)
	if err != nil {
		return err
	}
	if !r.AwaitsCorrections() {
		return apperr.E(apperr.Conflict, "Only a correction letter waiting for its new values takes them.")
	}
	values, bad := request.CheckCorrections(values)
	if len(bad) == 0 {
		bad = request.CheckCorrectable(values, o.Correctable)
	}
	if len(bad) > 0 {
		return apperr.InvalidFields(bad...)
	}
	// Stored before the workflow goes on: its next step writes them.
	now := o.Clock.Now()
	r.Correction.Values, r.UpdatedAt = values, now
	ev := request.Event{At: now, Actor: "operator:" + who, Action: "corrections_given", From: r.Status, To: r.Status, Note: "fields=" + strings.Join(values.Fields(), ",")}
	if err := o.Store.Save(ctx, r, ev); err != nil {
		return err
	}
	return o.resumeReviewed(ctx, r, who)
}

// resumeReviewed resumes a reviewed request's workflow, then records the
// approval: a failure to resume leaves the request waiting, and the approval
// can be tried again.
func (o *Operator) resumeReviewed(ctx context.Context, r *request.Request, who string) error {
	id := r.ID
	if err := o.Workflow.Resume(ctx, r.Review.TaskToken); err != nil {
		return err
	}
	// The workflow runs on and may save the request meanwhile: on a lost
	// race, read it again.
	for attempt := 0; ; attempt++ {
		now := o.Clock.Now()
		r.Review.TaskToken, r.UpdatedAt = "", now
		err := o.Store.Save(ctx, r, request.Event{At: now, Actor: "operator:" + who, Action: "approved", From: r.Status, To: r.Status})
		if !apperr.Is(err, apperr.Conflict) || attempt == 2 {
			return err
		}
		if r, err = o.Store.Get(ctx, id); err != nil {
			return err
		}
	}
}

// Denial is an operator's refusal: the reasons the subject is sent and the
// provision of law it rests on, where the law wants it named (Quebec); or,
// instead of reasons, who controls the data when we do not (LGPD Art 18
// §4), whom the subject is told to ask.
type Denial struct {
	Reasons                       []string
	Provision                     string
	Controller, ControllerContact string
}

// Bounds of what an operator types into a refusal.
const (
	maxProvision = 200
	maxContact   = 254
)

// check cleans a denial and says what is wrong with it.
func (d *Denial) check() error {
	d.Reasons = clean(d.Reasons)
	d.Provision, d.Controller, d.ControllerContact = strings.TrimSpace(d.Provision), strings.TrimSpace(d.Controller), strings.TrimSpace(d.ControllerContact)
	var bad []apperr.FieldError
	switch {
	case d.Controller == "" && d.ControllerContact != "":
		bad = append(bad, apperr.FieldError{Field: "controller", Detail: "Name the controller the contact belongs to."})
	case d.Controller != "" && d.ControllerContact == "":
		bad = append(bad, apperr.FieldError{Field: "controller_contact", Detail: "Say how the subject reaches the controller: a web address or an email address."})
	case d.Controller != "" && d.Provision != "":
		bad = append(bad, apperr.FieldError{Field: "provision", Detail: "A refusal because we are not the controller rests on no provision; give one or the other."})
	case d.Controller == "" && len(d.Reasons) == 0:
		bad = append(bad, apperr.FieldError{Field: "reason", Detail: "Give the reasons for the denial; the subject must be told them."})
	}
	if len(d.Provision) > maxProvision || len(d.Controller) > maxProvision || len(d.ControllerContact) > maxContact {
		bad = append(bad, apperr.FieldError{Field: "provision", Detail: fmt.Sprintf("Keep the provision and the controller's name within %d characters, its contact within %d.", maxProvision, maxContact)})
	}
	if len(bad) > 0 {
		return apperr.InvalidFields(bad...)
	}
	return nil
}

// Deny refuses a request waiting for review, or waiting on a legal hold;
// the workflow sends the subject the reasons and what they can do next.
func (o *Operator) Deny(ctx context.Context, id, who string, reasons []string) error {
	return o.DenyWith(ctx, id, who, Denial{Reasons: reasons})
}

// DenyWith refuses a request as Deny does, with the provision the refusal
// rests on or the controller the subject should ask instead.
func (o *Operator) DenyWith(ctx context.Context, id, who string, d Denial) error {
	if err := d.check(); err != nil {
		return err
	}
	reasons := d.Reasons
	r, err := o.load(ctx, id)
	if err != nil {
		return err
	}
	// A request waits for a decision in review or, on a legal hold, before
	// erasure; either wait ends in the denial.
	token := r.Review.TaskToken
	if token == "" && r.OnHold {
		token = r.Hold.TaskToken
	}
	if token == "" || r.Status.Closed() {
		return apperr.E(apperr.Conflict, "The request is not waiting for a review or on a legal hold.")
	}
	now := o.Clock.Now()
	r.Denial.Reasons, r.Denial.Provision, r.UpdatedAt = reasons, d.Provision, now
	r.Denial.OtherController, r.Denial.OtherControllerContact = d.Controller, d.ControllerContact
	if err := o.Store.Save(ctx, r, request.Event{At: now, Actor: "operator:" + who, Action: "denial_decided", From: r.Status, To: r.Status}); err != nil {
		return err
	}
	return o.Workflow.Fail(ctx, token, workflow.RequestDenied)
}

// Hold places a legal hold on an open delete request: erasure waits, in the
// workflow state "Wait while a legal hold blocks erasure", until Release or
// a denial. The deadline watch keeps running. The reason stays with the
// request; the audit log records who placed the hold and when.
func (o *Operator) Hold(ctx context.Context, id, who, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return apperr.InvalidFields(apperr.FieldError{Field: "reason", Detail: "Say why the data must be kept (the litigation, the authority's order); it is kept with the request."})
	}
	_, err := o.change(ctx, id, func(r *request.Request) (request.Event, error) {
		switch {
		case r.Status.Closed():
			return request.Event{}, apperr.E(apperr.Conflict, "A "+string(r.Status)+" request cannot be put on hold.")
		case r.Type != request.Delete:
			return request.Event{}, apperr.E(apperr.Conflict, "A legal hold blocks erasure; a "+string(r.Type)+" request erases nothing.")
		case r.OnHold:
			return request.Event{}, apperr.E(apperr.Conflict, "The request is already on legal hold.")
		}
		now := o.Clock.Now()
		r.OnHold, r.Hold.Reasons, r.UpdatedAt = true, []string{reason}, now
		return request.Event{At: now, Actor: "operator:" + who, Action: "legal_hold_placed", From: r.Status, To: r.Status}, nil
	})
	return err
}

// change reads the request, applies an operator's change to it and saves it
// with the event apply returns. The workflow saves the same request as it
// goes: a save that lost that race reads the request again and applies the
// change anew, its checks run on the fresh read, so the operator is not
// told to try again for a change nobody else made to what they changed.
func (o *Operator) change(ctx context.Context, id string, apply func(r *request.Request) (request.Event, error)) (*request.Request, error) {
	for attempt := 0; ; attempt++ {
		r, err := o.load(ctx, id)
		if err != nil {
			return nil, err
		}
		ev, err := apply(r)
		if err != nil {
			return nil, err
		}
		err = o.Store.Save(ctx, r, ev)
		if err == nil || !errors.Is(err, request.ErrChanged) || attempt == 2 {
			return r, err
		}
	}
}

// Release lifts a legal hold; a workflow waiting on it goes on to erase.
// The hold is lifted first and the waiting step resumed after, so a failure
// to resume leaves the step waiting: running Release again resumes it.
func (o *Operator) Release(ctx context.Context, id, who string) error {
	r, err := o.load(ctx, id)
	if err != nil {
		return err
	}
	if !r.OnHold && r.Hold.TaskToken == "" {
		return apperr.E(apperr.Conflict, "The request is not on legal hold.")
	}
	if r.OnHold {
		now := o.Clock.Now()
		r.OnHold, r.Hold.Reasons, r.UpdatedAt = false, nil, now
		if err := o.Store.Save(ctx, r, request.Event{At: now, Actor: "operator:" + who, Action: "legal_hold_released", From: r.Status, To: r.Status}); err != nil {
			return err
		}
	}
	if r.Hold.TaskToken == "" {
		return nil // the workflow has not reached erasure; it will not wait
	}
	token := r.Hold.TaskToken
	if err := o.Workflow.Resume(ctx, token); err != nil && !apperr.Is(err, apperr.Conflict) {
		return err // still waiting: release again
	}
	// Resumed, or no longer waiting on this token: forget it. The workflow
	// runs on and may save the request meanwhile; on a lost race, read again.
	for attempt := 0; ; attempt++ {
		if r.Hold.TaskToken != token {
			return nil // a new wait took its place
		}
		now := o.Clock.Now()
		r.Hold.TaskToken, r.UpdatedAt = "", now
		err := o.Store.Save(ctx, r, request.Event{At: now, Actor: "operator:" + who, Action: "hold_wait_resumed", From: r.Status, To: r.Status})
		if !apperr.Is(err, apperr.Conflict) || attempt == 2 {
			return err
		}
		if r, err = o.Store.Get(ctx, id); err != nil {
			return err
		}
	}
}

// Extend moves the request's due date as far as the law allows, once, and
// tells the subject why: the reasons are the operator's, and the law allows
// an extension only where it is necessary. A deadline watch asking whether
// to extend has its answer.
func (o *Operator) Extend(ctx context.Context, id, who string, reasons []string) error {
	r, err := o.load(ctx, id)
	if err != nil {
		return err
	}
	if err := o.Extender.Extend(ctx, r, clean(reasons), "operator:"+who); err != nil {
		return err
	}
	return o.answerExtension(ctx, id, who)
}

// KeepDate records that the request needs no extension: its date stands.
// A deadline watch asking whether to extend has its answer, and extends
// nothing when the notice point comes.
func (o *Operator) KeepDate(ctx context.Context, id, who string) error {
	r, err := o.load(ctx, id)
	if err != nil {
		return err
	}
	switch {
	case r.Status.Closed():
		return apperr.E(apperr.Conflict, "The request is closed.")
	case r.Extended:
		return apperr.E(apperr.Conflict, "The request was extended already.")
	case r.Extension.Decision == request.ExtensionKept:
		return o.answerExtension(ctx, id, who) // answered before; resume again
	}
	now := o.Clock.Now()
	r.Extension.Decision, r.UpdatedAt = request.ExtensionKept, now
	ev := request.Event{At: now, Actor: "operator:" + who, Action: "extension_declined", From: r.Status, To: r.Status, Note: "due=" + r.Deadlines.Due.String()}
	if err := o.Store.Save(ctx, r, ev); err != nil {
		return err
	}
	return o.answerExtension(ctx, id, who)
}

// answerExtension resumes the deadline watch waiting for the operators'
// decision, if it waits, and forgets its token; run again, it resumes
// again.
func (o *Operator) answerExtension(ctx context.Context, id, who string) error {
	for attempt := 0; ; attempt++ {
		r, err := o.Store.Get(ctx, id)
		if err != nil || r.Extension.TaskToken == "" {
			return err
		}
		if err := o.Workflow.Resume(ctx, r.Extension.TaskToken); err != nil && !apperr.Is(err, apperr.Conflict) {
			return err // still waiting: answer again
		}
		now := o.Clock.Now()
		r.Extension.TaskToken, r.UpdatedAt = "", now
		err = o.Store.Save(ctx, r, request.Event{At: now, Actor: "operator:" + who, Action: "extension_decision_given", From: r.Status, To: r.Status})
		if !errors.Is(err, request.ErrChanged) || attempt == 2 {
			return err
		}
	}
}

// Verify records that an operator confirmed the subject's identity by other
// means (a call, a signed letter) and lets the workflow go on, as the
// subject's own confirmation would.
func (o *Operator) Verify(ctx context.Context, id, who, how string) error {
	how = strings.TrimSpace(how)
	if how == "" {
		return apperr.InvalidFields(apperr.FieldError{Field: "method", Detail: "Say how the identity was verified; it is kept in the audit log."})
	}
	r, err := o.load(ctx, id)
	if err != nil {
		return err
	}
	if r.Status != request.PendingVerification || r.Verification.TaskToken == "" {
		return apperr.E(apperr.Conflict, "The request is not waiting for verification.")
	}
	now := o.Clock.Now()
	r.ClearVerification() // the emailed link and code are void from now on
	r.Verification.Locked = false
	if r.Agent.PowerOfAttorney {
		r.NeedsOperator = false // the review it waited for is this
	}
	ev, err := r.Move(request.Verified, now, "operator:"+who, "verified", "method="+how)
	if err != nil {
		return err
	}
	if err := o.Store.Save(ctx, r, ev); err != nil {
		return err
	}
	return o.Workflow.Resume(ctx, r.Verification.TaskToken)
}

// Cancel ends an open request at the subject's wish: the workflow and the
// deadline watch end (SUCCEEDED: a cancel is an ordinary end, which no alarm
// counts), and the subject gets a confirmation. A workflow waiting on the
// subject, an operator or a hold has that wait failed with workflow.RequestCancelledError;
// one running a step meets the cancel at its next step.
func (o *Operator) Cancel(ctx context.Context, id, who string) error {
	r, err := o.load(ctx, id)
	if err != nil {
		return err
	}
	switch done, err := o.cancelled(ctx, r); {
	case err != nil:
		return err
	case done:
		return apperr.E(apperr.Conflict, "The request is cancelled already.")
	case r.Status != request.Cancelled:
		if !request.CanMove(r.Status, request.Cancelled) {
			return apperr.E(apperr.Conflict, "A "+string(r.Status)+" request cannot be cancelled.")
		}
		now := o.Clock.Now()
		ev, err := r.Move(request.Cancelled, now, "operator:"+who, "cancelled", "")
		if err != nil {
			return err
		}
		r.CompletedAt = now
		// The task tokens stay, for a cancel run again to end the waits
		// this one could not; nothing resumes the workflow of a closed
		// request.
		r.ClearVerification()
		if err := o.Store.Save(ctx, r, ev); err != nil {
			return err
		}
	}
	// Each of what follows may be done again: a cancel that failed part-way
	// is finished by running it again.
	if err := o.endWaits(ctx, r); err != nil {
		return err
	}
	if err := o.Watch.End(ctx, r.ID); err != nil {
		return err
	}
	// The request is closed: the mail it came in (unless another request
	// of that mail is open) and the permission its agent sent are kept no
	// longer.
	if err := o.RawMail.ForgetMail(ctx, r); err != nil {
		return err
	}
	if err := o.Permissions.ForgetPermission(ctx, r); err != nil {
		return err
	}
	msg, err := notify.Cancelled(r.Language, r.Email, r.ID)
	if err != nil {
		return apperr.Wrap(apperr.Internal, "The confirmation could not be written.", err)
	}
	if err := o.Mailer.Send(ctx, msg); err != nil {
		return err
	}
	return o.Store.Record(ctx, r.ID, request.Event{At: o.Clock.Now(), Actor: "operator:" + who, Action: "cancel_completed"})
}

// endWaits fails every wait the workflow of a cancelled request may be in
// with workflow.RequestCancelledError. A token no longer waited on is answered Conflict,
// which is no error here: that wait ended already.
func (o *Operator) endWaits(ctx context.Context, r *request.Request) error {
	tokens := []string{r.Verification.TaskToken, r.Review.TaskToken, r.Hold.TaskToken}
	if o.Findings != nil {
		t, err := o.Findings.Wait(ctx, r.ID)
		if err != nil {
			return err
		}
		tokens = append(tokens, t)
	}
	if o.ManualWaits != nil {
		t, err := o.ManualWaits.Wait(ctx, r.ID)
		if err != nil {
			return err
		}
		tokens = append(tokens, t)
	}
	for _, t := range tokens {
		if t == "" {
			continue
		}
		if err := o.Workflow.Fail(ctx, t, workflow.RequestCancelledError); err != nil && !apperr.Is(err, apperr.Conflict) {
			return err
		}
	}
	return nil
}

// cancelled reports whether an operator's cancellation of r was carried out
// to its end (a request joined to another is cancelled too, but by the
// workflow, and cannot be cancelled again).
func (o *Operator) cancelled(ctx context.Context, r *request.Request) (bool, error) {
	if r.Status != request.Cancelled {
		return false, nil
	}
	if r.JoinedTo != "" {
		return true, nil
	}
	events, err := o.Store.Events(ctx, r.ID)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(events, func(ev request.Event) bool { return ev.Action == "cancel_completed" }), nil
}

// Redrive resumes a failed request's workflow at the step that failed, in a
// new execution ("<id>-r<n>"), not from the start: the subject is not asked
// to verify again and finished work is not repeated.
func (o *Operator) Redrive(ctx context.Context, id, who string) (string, error) {
	r, err := o.load(ctx, id)
	if err != nil {
		return "", err
	}
	if r.Status != request.Failed {
		return "", apperr.E(apperr.Conflict, "Only a failed request can be redriven; this one is "+string(r.Status)+".")
	}
	state, input, err := o.Workflow.FailedStep(ctx, r.Execution())
	if err != nil {
		return "", err
	}
	resume, ok := workflow.ResumePoint(state)
	if !ok {
		return "", apperr.E(apperr.Conflict, "The request failed before it was verified ("+state+"); it cannot be resumed. Ask the subject to make a new request.")
	}
	var in map[string]any
	if err := json.Unmarshal([]byte(input), &in); err != nil {
		return "", apperr.Wrap(apperr.Internal, "The workflow input could not be read.", err)
	}
	in["resume_from"] = resume
	b, err := json.Marshal(in)
	if err != nil {
		return "", apperr.Wrap(apperr.Internal, "The workflow input could not be written.", err)
	}
	ev, err := r.Move(request.InProgress, o.Clock.Now(), "operator:"+who, "redriven", "failed_at="+state+"; resumes_at="+resume)
	if err != nil {
		return "", err
	}
	r.Redrives++
	r.NeedsOperator = false
	if err := o.Store.Save(ctx, r, ev); err != nil {
		return "", err
	}
	return resume, o.Workflow.StartNamed(ctx, r.Execution(), string(b))
}

func clean(reasons []string) []string {
	var out []string
	for _, r := range reasons {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}
