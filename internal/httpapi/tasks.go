package httpapi

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/i18n"
	"github.com/privacy-pipeline/dsr/internal/links"
	"github.com/privacy-pipeline/dsr/internal/manualtask"
	"github.com/privacy-pipeline/dsr/internal/webhook"
)

// Tasks is what the HTTP API offers the owners of manual sources: the page
// of a task's link and its answer, both authorized by the link's token.
type Tasks interface {
	Page(ctx context.Context, requestID, sourceID, token string) (manualtask.Page, error)
	AnswerWithToken(ctx context.Context, requestID, sourceID, token string, a manualtask.Answer) (manualtask.Task, error)
	// Callback takes a webhook source's later answer (see
	// manualtask.Answerer.Callback).
	Callback(ctx context.Context, requestID, sourceID, token, signature string, body []byte) error
}

// taskCallback takes the signed answer a webhook source sends through the
// callback URL of its call.
func (a *api) taskCallback(w http.ResponseWriter, r *http.Request) {
	if a.tasks == nil {
		a.writeError(w, r, apperr.E(apperr.NotFound, "This callback URL is not valid."))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, manualtask.MaxCallback))
	if err != nil {
		a.writeError(w, r, apperr.E(apperr.TooLarge, "The callback's body is larger than 5 MiB."))
		return
	}
	err = a.tasks.Callback(r.Context(), r.PathValue("id"), r.PathValue("source"), r.URL.Query().Get("token"), r.Header.Get(webhook.SignatureHeader), body)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "received"})
}

// WithTasks serves the pages of the tasks of manual sources; without it
// their links find nothing.
func WithTasks(t Tasks) Option { return func(a *api) { a.tasks = t } }

// taskPage is the page of a task's link: whom to look for, what is asked,
// and the answer form.
type taskPage struct {
	frame
	Task    *taskView
	Problem string
}

type taskView struct {
	Intro, Due, Action string
	// Ask says what to do in the system; Done is the answer that it was.
	Ask, Done   string
	Export      bool
	Identities  []manualtask.Identity
	Corrections []manualtask.Identity
}

// taskUpload bounds an answer: the export and, around it, the note, the
// choice and the form's boundaries.
const taskUpload = manualtask.MaxExport + multipartOverhead

func (a *api) taskPageView(l i18n.Lang, p manualtask.Page, token string) *taskView {
	t := p.Task
	return &taskView{
		Intro:       l.T("task.intro", "id", t.RequestID, "type", t.Type, "source", t.SourceID, "description", p.Description),
		Due:         l.T("task.due", "date", l.Date(t.Due)),
		Action:      links.TaskAction(t.RequestID, t.SourceID) + "?token=" + token,
		Ask:         taskAsk(l, t),
		Done:        taskDone(l, t),
		Export:      t.Exports(),
		Identities:  p.Identities,
		Corrections: p.Corrections,
	}
}

// taskAsk says what a task asks the owner to do in the system.
func taskAsk(l i18n.Lang, t manualtask.Task) string {
	switch {
	case t.Exports():
		return l.T("task.export")
	case t.Type == "delete":
		return l.T("task.erase")
	}
	return l.T("task.ask." + t.Type)
}

// taskDone is the answer that the task was done.
func taskDone(l i18n.Lang, t manualtask.Task) string {
	switch {
	case t.Exports():
		return l.T("task.answer.exported")
	case t.Type == "delete":
		return l.T("task.answer.erased")
	}
	return l.T("task.answer.done")
}

// taskForm shows a task's page to the holder of its link.
func (a *api) taskForm(w http.ResponseWriter, r *http.Request) {
	l := a.pageLanguage(r)
	if a.tasks == nil {
		a.writePageError(w, r, apperr.Keyed(apperr.NotFound, "error.link"))
		return
	}
	token := r.URL.Query().Get("token")
	p, err := a.tasks.Page(r.Context(), r.PathValue("id"), r.PathValue("source"), token)
	if err != nil {
		a.writePageError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "task", &taskPage{frame: frame{L: l, Title: l.T("task.title")}, Task: a.taskPageView(l, p, token)})
}

// taskAnswer takes an owner's answer from the task's page: a multipart
// form with the choice ("answer": done or none), the export ("file", for
// access) and a note. A form that cannot be taken gets the page again,
// with why.
func (a *api) taskAnswer(w http.ResponseWriter, r *http.Request) {
	l := a.pageLanguage(r)
	if a.tasks == nil {
		a.writePageError(w, r, apperr.Keyed(apperr.NotFound, "error.link"))
		return
	}
	id, source, token := r.PathValue("id"), r.PathValue("source"), r.URL.Query().Get("token")
	again := func(err error) {
		status, e := a.publicError(r, err)
		switch status {
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
			p, perr := a.tasks.Page(r.Context(), id, source, token)
			if perr != nil {
				a.writePageError(w, r, perr)
				return
			}
			problem := e.In(l)
			for _, f := range e.Fields {
				problem += " " + f.In(l)
			}
			page := &taskPage{frame: frame{L: l, Title: l.T("task.title"), Here: links.TaskAction(id, source) + "?token=" + token}, Task: a.taskPageView(l, p, token), Problem: problem}
			page.Errors = []summaryError{{Target: "answer", Text: problem}}
			a.render(w, r, status, "task", page)
		default:
			a.writePageError(w, r, err)
		}
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" {
		again(apperr.Keyed(apperr.Unsupported, "error.task.form"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, taskUpload)
	mr, err := r.MultipartReader()
	if err != nil {
		again(apperr.Keyed(apperr.Invalid, "error.task.form"))
		return
	}
	var ans manualtask.Answer
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			again(taskBodyError(err))
			return
		}
		var b []byte
		switch part.FormName() {
		case "answer":
			b, err = io.ReadAll(io.LimitReader(part, 16))
			ans.Status = manualtask.Status(b)
		case "note":
			b, err = io.ReadAll(io.LimitReader(part, manualtask.MaxNote+1))
			ans.Note = strings.TrimSpace(string(b))
		case "file":
			// Only what the file's bytes are counts (manualtask.CheckExport).
			b, err = io.ReadAll(io.LimitReader(part, manualtask.MaxExport+1))
			if len(b) > 0 {
				ans.File = b
			}
		}
		if err != nil {
			again(taskBodyError(err))
			return
		}
	}
	if ans.Status != manualtask.Done && ans.Status != manualtask.None {
		again(apperr.Keyed(apperr.Invalid, "error.task.answer"))
		return
	}
	if _, err := a.tasks.AnswerWithToken(r.Context(), id, source, token, ans); err != nil {
		again(err)
		return
	}
	a.render(w, r, http.StatusOK, "taskdone", &messagePage{frame: frame{L: l, Title: l.T("task.title"), Here: "/"}, Message: l.T("task.answered")})
}

// taskBodyError is bodyError, with the answer's own limit named.
func taskBodyError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return apperr.Keyed(apperr.TooLarge, "error.task.too_large")
	}
	var e *apperr.Error
	if errors.As(err, &e) {
		return err
	}
	return bodyError(err)
}
