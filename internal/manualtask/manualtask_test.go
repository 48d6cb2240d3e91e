package manualtask

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/apperr"
	"github.com/privacy-pipeline/dsr/internal/clock"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/secret"
)

const reqID = "dsr-20261123-4k7m2q9x8v3b5n6p"

func TestAuthorize(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	task := Task{RequestID: reqID, SourceID: "crm", Type: "access", Status: Open}
	token := task.Issue(now.Add(48 * time.Hour))
	if task.TokenHash != secret.Hash(token) || strings.Contains(task.TokenHash, token) {
		t.Fatal("the task keeps the token, not its hash")
	}
	answered := task
	answered.Status = Done
	tests := []struct {
		name  string
		task  Task
		token string
		at    time.Time
		want  apperr.Kind // 0: authorized
	}{
		{"valid", task, token, now, 0},
		{"just before expiry", task, token, now.Add(48*time.Hour - time.Second), 0},
		{"at expiry", task, token, now.Add(48 * time.Hour), apperr.Forbidden},
		{"wrong token", task, token + "x", now, apperr.NotFound},
		{"empty token", task, "", now, apperr.NotFound},
		{"no token issued", Task{Status: Open, TokenExpires: now.Add(time.Hour)}, "", now, apperr.NotFound},
		{"answered", answered, token, now, apperr.Conflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.task.Authorize(tt.token, tt.at)
			if tt.want == 0 && err != nil || tt.want != 0 && !apperr.Is(err, tt.want) {
				t.Fatalf("Authorize = %v, want kind %v", err, tt.want)
			}
		})
	}
	// A new link (a reminder) ends the old one.
	old := token
	task.Issue(now.Add(72 * time.Hour))
	if err := task.Authorize(old, now); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("the old link after a new one: %v", err)
	}
}

func TestParseID(t *testing.T) {
	for _, tt := range []struct {
		id       string
		rid, sid string
	}{
		{reqID + "/crm", reqID, "crm"},
		{reqID, "", ""},
		{reqID + "/", "", ""},
		{"/crm", "", ""},
		{reqID + "/crm/x", "", ""},
	} {
		rid, sid, err := ParseID(tt.id)
		if rid != tt.rid || sid != tt.sid || (err == nil) != (tt.rid != "") {
			t.Errorf("ParseID(%q) = %q, %q, %v", tt.id, rid, sid, err)
		}
	}
	if ID(reqID, "crm") != reqID+"/crm" {
		t.Fatal("ID does not join")
	}
}

func TestCheckExport(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want string      // media type
		kind apperr.Kind // when refused
	}{
		{"pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"), MediaPDF, 0},
		{"json array", []byte(`[{"contact":"x","calls":3}]`), MediaJSON, 0},
		{"json object with bom", []byte("\xef\xbb\xbf {\"a\": 1}\n"), MediaJSON, 0},
		{"csv", []byte("contact,calls\nx,3\ny,\"4,5\"\n"), MediaCSV, 0},
		{"csv crlf", []byte("a,b\r\n1,2\r\n"), MediaCSV, 0},
		{"empty", nil, "", apperr.Invalid},
		{"too large", append([]byte("a\n"), bytes.Repeat([]byte("x"), MaxExport)...), "", apperr.TooLarge},
		{"html", []byte("<!DOCTYPE html><html><body>hi</body></html>"), "", apperr.Unsupported},
		{"script", []byte("<script>alert(1)</script>"), "", apperr.Unsupported},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "", apperr.Unsupported},
		{"zip", []byte("PK\x03\x04\x14\x00\x00\x00"), "", apperr.Unsupported},
		{"broken json", []byte(`{"a": `), "", apperr.Unsupported},
		{"ragged csv", []byte("a,b\n1,2,3\n"), "", apperr.Unsupported},
		{"not utf-8", []byte("a,b\n\xff\xfe,1\n"), "", apperr.Unsupported},
		{"nul bytes", []byte("a,b\n1,\x00\n"), "", apperr.Unsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := CheckExport(tt.body)
			if tt.kind != 0 {
				if !apperr.Is(err, tt.kind) {
					t.Fatalf("CheckExport = %+v, %v; want kind %v", e, err, tt.kind)
				}
				return
			}
			if err != nil || e.MediaType != tt.want || e.Size != len(tt.body) || len(e.SHA256) != 64 {
				t.Fatalf("CheckExport = %+v, %v; want %s", e, err, tt.want)
			}
		})
	}
	// The limit is inclusive.
	at := append([]byte("a\n"), bytes.Repeat([]byte("x"), MaxExport-2)...)
	if _, err := CheckExport(at); err != nil {
		t.Fatalf("an export of exactly MaxExport: %v", err)
	}
}

func TestDue(t *testing.T) {
	notice := time.Date(2026, 12, 23, 0, 0, 0, 0, time.UTC)
	due := time.Date(2027, 1, 23, 0, 0, 0, 0, time.UTC)
	if got := Due(notice, due); !got.Equal(notice) {
		t.Errorf("Due = %v, want the notice point", got)
	}
	if got := Due(time.Time{}, due); !got.Equal(due) {
		t.Errorf("without a notice point Due = %v, want the due date", got)
	}
	if got := Due(due.AddDate(0, 0, 1), due); !got.Equal(due) {
		t.Errorf("Due = %v, never after the due date", got)
	}
}

// fakes for the Answerer.
type tasksStore struct {
	tasks map[string]Task
	wait  string
}

func (s *tasksStore) Task(_ context.Context, rid, sid string) (Task, error) {
	t, ok := s.tasks[ID(rid, sid)]
	if !ok {
		return Task{}, apperr.E(apperr.NotFound, "no task")
	}
	return t, nil
}

func (s *tasksStore) Tasks(_ context.Context, rid string) ([]Task, error) {
	var out []Task
	for _, t := range s.tasks {
		if t.RequestID == rid {
			out = append(out, t)
		}
	}
	return out, nil
}

func (s *tasksStore) Update(_ context.Context, t Task) error {
	if !s.tasks[t.ID()].IsOpen() {
		return apperr.E(apperr.Conflict, "answered meanwhile")
	}
	s.tasks[t.ID()] = t
	return nil
}

func (s *tasksStore) Wait(context.Context, string) (string, error) { return s.wait, nil }
func (s *tasksStore) ClearWait(_ context.Context, _, token string) error {
	if s.wait == token {
		s.wait = ""
	}
	return nil
}

type files map[string][]byte

func (f files) PutManualExport(_ context.Context, rid, sid, ext, _ string, b []byte) (string, error) {
	k := rid + "/" + sid + "." + ext
	f[k] = b
	return k, nil
}

type resumer struct{ resumed []string }

func (r *resumer) Resume(_ context.Context, token string) error {
	r.resumed = append(r.resumed, token)
	return nil
}

type audit struct{ events []request.Event }

func (a *audit) Record(_ context.Context, _ string, ev request.Event) error {
	a.events = append(a.events, ev)
	return nil
}

func TestAnswer(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	newAnswerer := func() (*Answerer, *tasksStore, *resumer, *audit, files, string) {
		access := Task{RequestID: reqID, SourceID: "crm", Type: "access", Status: Open, Owner: "sales@example.com"}
		token := access.Issue(now.Add(time.Hour))
		billing := Task{RequestID: reqID, SourceID: "billing", Type: "access", Status: Open, Owner: "billing@example.com"}
		st := &tasksStore{tasks: map[string]Task{access.ID(): access, billing.ID(): billing}, wait: "wf-token"}
		rs, au, fs := &resumer{}, &audit{}, files{}
		return &Answerer{Store: st, Files: fs, Workflow: rs, Audit: au, Clock: clock.NewFake(now)}, st, rs, au, fs, token
	}
	ctx := context.Background()
	csv := []byte("a,b\n1,2\n")

	t.Run("refusals", func(t *testing.T) {
		a, _, _, _, _, _ := newAnswerer()
		for _, tt := range []struct {
			name string
			ans  Answer
			kind apperr.Kind
		}{
			{"done without the export", Answer{Status: Done, By: "operator:ann"}, apperr.Invalid},
			{"none with a file", Answer{Status: None, By: "operator:ann", File: csv}, apperr.Invalid},
			{"unknown status", Answer{Status: "maybe", By: "operator:ann"}, apperr.Invalid},
			{"nobody", Answer{Status: None}, apperr.Invalid},
			{"long note", Answer{Status: None, By: "operator:ann", Note: strings.Repeat("x", MaxNote+1)}, apperr.Invalid},
			{"control characters", Answer{Status: None, By: "operator:ann", Note: "a\x1b[31m"}, apperr.Invalid},
			{"an image", Answer{Status: Done, By: "operator:ann", File: []byte("\x89PNG\r\n\x1a\n")}, apperr.Unsupported},
		} {
			if _, err := a.Answer(ctx, reqID+"/crm", tt.ans); !apperr.Is(err, tt.kind) {
				t.Errorf("%s: %v, want kind %v", tt.name, err, tt.kind)
			}
		}
		if _, err := a.Answer(ctx, reqID+"/nope", Answer{Status: None, By: "operator:ann"}); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("an unknown task: %v", err)
		}
	})

	t.Run("the last answer resumes the workflow", func(t *testing.T) {
		a, st, rs, au, fs, token := newAnswerer()
		got, err := a.AnswerWithToken(ctx, reqID, "crm", token, Answer{Status: Done, File: csv, Note: "from the CRM's export screen"})
		if err != nil {
			t.Fatal(err)
		}
		if got.By != "owner:sales@example.com" || got.Export == nil || got.Export.MediaType != MediaCSV || !bytes.Equal(fs[got.Export.Key], csv) || !got.At.Equal(now) {
			t.Fatalf("answered task %+v", got)
		}
		if len(rs.resumed) != 0 {
			t.Fatal("resumed with a task still open")
		}
		if _, err := a.AnswerWithToken(ctx, reqID, "crm", token, Answer{Status: None}); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("the link after its answer: %v", err)
		}
		if _, err := a.Answer(ctx, reqID+"/crm", Answer{Status: None, By: "operator:ann"}); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("a second answer: %v", err)
		}
		if _, err := a.Answer(ctx, reqID+"/billing", Answer{Status: None, By: "operator:ann"}); err != nil {
			t.Fatal(err)
		}
		if len(rs.resumed) != 1 || rs.resumed[0] != "wf-token" || st.wait != "" {
			t.Fatalf("resumed %v, wait %q", rs.resumed, st.wait)
		}
		for _, ev := range au.events {
			if strings.Contains(ev.Note, "export screen") {
				t.Fatalf("the audit log holds the note: %+v", ev)
			}
		}
	})

	t.Run("an expired link", func(t *testing.T) {
		a, _, _, _, _, token := newAnswerer()
		a.Clock = clock.NewFake(now.Add(time.Hour))
		if _, err := a.AnswerWithToken(ctx, reqID, "crm", token, Answer{Status: None}); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("an expired link: %v", err)
		}
		if _, err := a.AnswerWithToken(ctx, "not-an-id", "crm", token, Answer{Status: None}); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("a link to no request: %v", err)
		}
	})
}
