package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/privacy-pipeline/dsr/internal/httpapi"
	"github.com/privacy-pipeline/dsr/internal/inbound"
	"github.com/privacy-pipeline/dsr/internal/portal"
	"github.com/privacy-pipeline/dsr/internal/request"
	"github.com/privacy-pipeline/dsr/internal/resources"
	"github.com/privacy-pipeline/dsr/internal/s3mail"
	"github.com/privacy-pipeline/dsr/internal/workflow"
)

const eventsDir = "../../events"

// decodeStrict reads an event file into v, refusing fields v does not have.
func decodeStrict(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(eventsDir, file))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// TestTaskEventsFitTheirHandlers keeps events/ in step with the task inputs,
// so `sam local invoke <Function> -e events/<name>.json` reaches the handler.
func TestTaskEventsFitTheirHandlers(t *testing.T) {
	inputs := map[string]any{
		"acknowledge":         &workflow.RequestRef{},
		"await-review":        &workflow.ReviewTask{},
		"check-deadline":      &workflow.DeadlineTask{},
		"check-siblings":      &workflow.RequestRef{},
		"start-verification":  &workflow.VerificationTask{},
		"resolve-identities":  &workflow.RequestRef{},
		"collect-source":      &workflow.SourceTask{},
		"finish-large-source": &workflow.LargeSourceTask{},
		"build-package":       &workflow.RequestRef{},
		"write-receipt":       &workflow.RequestRef{},
		"await-hold":          &workflow.HoldTask{},
		"await-findings":      &workflow.FindingsTask{},
		"await-manual-tasks":  &workflow.ManualWait{},
		"erase-source":        &workflow.SourceTask{},
		"close-request":       &workflow.CloseTask{},
		"record-suppression":  &workflow.RequestRef{},
		"apply-corrections":   &workflow.RequestRef{},
		"tell-recipients":     &workflow.RequestRef{},
	}
	for _, f := range resources.Functions {
		if f.Placeholder() == "" {
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			in, ok := inputs[f.Name]
			if !ok {
				t.Fatalf("no input type known for %s", f.Name)
			}
			decodeStrict(t, f.Name+".json", in)
			b, _ := json.Marshal(in)
			var ref workflow.RequestRef
			_ = json.Unmarshal(b, &ref)
			if !request.ValidID(ref.RequestID) {
				t.Fatalf("%s.json has no valid request id", f.Name)
			}
		})
	}
}

type eventPortal struct{ got request.Submission }

func (p *eventPortal) Submit(_ context.Context, in request.Submission) (portal.Receipt, error) {
	p.got = in
	return portal.Receipt{ID: "dsr-20261123-4k7m2q9x8v3b5n6p", Status: "received", StatusURL: "https://example.com/s"}, nil
}
func (p *eventPortal) Status(context.Context, string, string) (portal.Status, error) {
	return portal.Status{ID: "dsr-20261123-4k7m2q9x8v3b5n6p", Status: "received"}, nil
}
func (p *eventPortal) CheckVerification(context.Context, string, string) (portal.Requirement, error) {
	return portal.Requirement{}, nil
}
func (p *eventPortal) ConfirmVerification(context.Context, string, string, portal.Details) error {
	return nil
}
func (p *eventPortal) UploadPermission(context.Context, string, string, string, []byte, bool) error {
	return nil
}

func (p *eventPortal) ConfirmCode(context.Context, string, string, portal.Details) error {
	return nil
}
func (p *eventPortal) DownloadURL(context.Context, string, string) (string, error) {
	return "", nil
}
func (p *eventPortal) Offered(string) []portal.Offer { return nil }

// TestAPIEventsThroughTheLambdaAdapter runs the sample API Gateway events
// through the same adapter the api function uses in the cloud.
func TestAPIEventsThroughTheLambdaAdapter(t *testing.T) {
	tests := []struct {
		file       string
		wantStatus int
	}{
		{"api-submit-request.json", 202},
		{"api-get-status.json", 200},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var ev events.APIGatewayV2HTTPRequest
			decodeStrict(t, tt.file, &ev)
			p := &eventPortal{}
			adapter := httpadapter.NewV2(httpapi.New(p, slog.New(slog.NewTextHandler(io.Discard, nil))))
			resp, err := adapter.ProxyWithContext(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("HTTP %d, want %d: %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			if tt.wantStatus == 202 && p.got.Type != "access" {
				t.Fatalf("the handler did not get the body: %+v", p.got)
			}
		})
	}
}

// TestScheduledEvent keeps the sample schedule events in the shape
// EventBridge sends.
func TestScheduledEvent(t *testing.T) {
	for _, file := range []string{"deadline-report.json", "sweeper.json"} {
		t.Run(file, func(t *testing.T) {
			var ev events.CloudWatchEvent
			decodeStrict(t, file, &ev)
			if ev.DetailType != "Scheduled Event" || ev.Source != "aws.events" || len(ev.Resources) != 1 {
				t.Fatalf("%+v", ev)
			}
		})
	}
}

// TestObjectTaskEvent: a Distributed Map child's input reaches collect-source
// (and erase-source) with the object's key.
func TestObjectTaskEvent(t *testing.T) {
	var in workflow.SourceTask
	decodeStrict(t, "collect-object.json", &in)
	if !request.ValidID(in.RequestID) || in.SourceID == "" || in.Key == "" {
		t.Fatalf("%+v", in)
	}
}

// TestSESEventsFitTheInboundHandler keeps the sample SES receipt events in
// the shape the inbound handler reads (and `sam local invoke` sends).
func TestSESEventsFitTheInboundHandler(t *testing.T) {
	tests := []struct {
		file     string
		id       string
		verdicts string
	}{
		{"inbound-ses.json", "6n4thuhcbhpfiuf25gshf70rss364fuejrvmqko1", "spf=PASS dkim=PASS dmarc=PASS spam=PASS virus=PASS"},
		{"inbound-ses-dmarc-fail.json", "q1b0hl8e3kkcr5v9a7tjfs0ogd2m6cmh4lraq7o1", "spf=FAIL dkim=GRAY dmarc=FAIL spam=PASS virus=PASS"},
	}
	raw := s3mail.New(nil, "raw-mail", resources.InboundMailPrefix)
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var ev events.SimpleEmailEvent
			decodeStrict(t, tt.file, &ev)
			if len(ev.Records) != 1 || ev.Records[0].EventSource != "aws:ses" || ev.Records[0].SES.Receipt.Action.Type != "Lambda" {
				t.Fatalf("not an SES Lambda-action event: %+v", ev)
			}
			m := MailFromSES(ev.Records[0].SES, raw)
			if m.ID != tt.id || !inbound.ValidMailID(m.ID) || m.Key != "inbound/"+tt.id || m.ReceivedAt.IsZero() {
				t.Fatalf("mail %+v", m)
			}
			if got := m.Verdicts.String(); got != tt.verdicts {
				t.Fatalf("verdicts %s, want %s", got, tt.verdicts)
			}
		})
	}
}
