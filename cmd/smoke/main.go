// Command smoke runs what is deployed: every function's bootstrap binary,
// built as `make build` builds it (for this machine's architecture), under
// the Lambda runtime interface emulator, with the environment of the
// synthesized template pointed at a local stack. Each is invoked with its
// sample in events/ and its answer checked; then one access request runs
// end to end with moto's Step Functions calling the binaries. It prints one
// figure per line, "name value unit": binaries_total, binaries_invoked_ok,
// size_mb_<fn>, init_ms_<fn> (how much longer the first call took than the
// quickest of two more: the cold start, 0 where it is within the noise) and
// e2e_access_completed. `make smoke-binaries` runs it.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/privacy-pipeline/dsr/internal/devstack"
	"github.com/privacy-pipeline/dsr/internal/lambdarie"
	"github.com/privacy-pipeline/dsr/internal/request"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "smoke:", err)
		os.Exit(1)
	}
}

func run() error {
	build := flag.String("build", "build/host", "folder of the functions' folders, each with bootstrap and sources.yaml")
	rie := flag.String("rie", "build/tools/aws-lambda-rie", "the runtime interface emulator")
	template := flag.String("template", "build/smoke/PrivacyPipeline.template.json", "the synthesized template")
	events := flag.String("events", "events", "the sample events")
	logFile := flag.String("log", "build/smoke.log", "file for the emulators', the functions' and moto's output")
	flag.Parse()

	// The emulator runs in each function's folder: name it absolutely.
	riePath, err := filepath.Abs(*rie)
	if err != nil {
		return err
	}
	logs, err := os.Create(*logFile)
	if err != nil {
		return err
	}
	defer logs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	tpl, err := os.ReadFile(*template)
	if err != nil {
		return err
	}
	ports, err := lambdarie.FreePorts(3)
	if err != nil {
		return err
	}
	motoURL := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	apiURL := fmt.Sprintf("http://127.0.0.1:%d", ports[2])
	local := devstack.Env("us-east-1", apiURL, motoURL, devstack.DefaultTimeScale)
	fns, err := devstack.TemplateFunctions(tpl, local)
	if err != nil {
		return err
	}
	// The demo registry bundled beside each binary names the demo
	// company's webhook endpoints by their public address; the binaries
	// read one that names the local stack's, which serves them.
	registryFile := filepath.Join(*build, "local-sources.yaml")
	if err := os.WriteFile(registryFile, devstack.LocalRegistry(apiURL), 0o600); err != nil {
		return err
	}
	if registryFile, err = filepath.Abs(registryFile); err != nil {
		return err
	}
	// What Lambda sets itself, beside the template's variables: the region
	// and the role's credentials (any will do for moto).
	for _, f := range fns {
		f.Env["REGISTRY_FILE"] = registryFile
		for _, k := range []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
			f.Env[k] = local[k]
		}
	}

	procs := map[string]*lambdarie.Process{}
	remote := map[string]devstack.Invoker{}
	defer func() {
		for _, p := range procs {
			p.Close()
		}
	}()
	for _, f := range fns {
		p, err := lambdarie.Start(ctx, riePath, lambdarie.Function{Name: f.Name, Dir: filepath.Join(*build, f.Name), Env: f.Env}, logs)
		if err != nil {
			return err
		}
		procs[f.Name], remote[f.Name] = p, p
	}
	stack, err := devstack.Start(ctx, devstack.Options{MotoPort: ports[0], LambdaPort: ports[1], APIPort: ports[2], Logs: logs, Remote: remote})
	if err != nil {
		return err
	}
	defer stack.Close()
	if err := putSampleMail(ctx, stack, *events); err != nil {
		return err
	}

	ok := 0
	var failed []string
	coldMS := map[string]float64{}
	// The functions whose samples start workflows go last, so that the
	// others are timed on a quiet stack.
	order := slices.Clone(fns)
	slices.SortStableFunc(order, func(a, b devstack.TemplateFunction) int {
		return cmp.Compare(startsWork(a.Name), startsWork(b.Name))
	})
	for _, f := range order {
		// The first call is the cold start (the process starts, the Go
		// runtime initialises, the clients are made, the first connection
		// opens); the quickest of two more is warm. The difference is what
		// starting costs.
		var cold, warm time.Duration
		var err error
		for i := range 3 {
			start := time.Now()
			if err = invokeSample(ctx, procs[f.Name], f.Name, *events); err != nil {
				break
			}
			switch took := time.Since(start); {
			case i == 0:
				cold = took
			case warm == 0 || took < warm:
				warm = took
			}
		}
		if err != nil {
			failed = append(failed, f.Name+": "+err.Error())
			continue
		}
		// A warm call slower than the cold one (the sample's own work varies
		// more than starting costs) says only that starting is lost in it.
		coldMS[f.Name] = float64(max(cold-warm, 0)) / float64(time.Millisecond)
		ok++
	}
	for _, f := range fns {
		info, err := os.Stat(filepath.Join(*build, f.Name, "bootstrap"))
		if err != nil {
			return err
		}
		fmt.Printf("size_mb_%s %.1f MB\n", f.Name, float64(info.Size())/1e6)
		if ms, found := coldMS[f.Name]; found {
			fmt.Printf("init_ms_%s %.0f ms\n", f.Name, ms)
		}
	}
	fmt.Printf("binaries_total %d binaries\n", len(fns))
	fmt.Printf("binaries_invoked_ok %d binaries\n", ok)

	// The access request: moto's Step Functions calls every task of its
	// path in the binaries (the HTTP API and the operator's verification
	// run in this process).
	completed := 0
	id, status, err := stack.RunRequest(ctx, request.Access, devstack.DemoSubject)
	switch {
	case err != nil:
		failed = append(failed, "access request end to end: "+err.Error())
	case status != request.Completed:
		failed = append(failed, fmt.Sprintf("access request end to end: %s closed %s", id, status))
	default:
		completed = 1
	}
	fmt.Printf("e2e_access_completed %d requests\n", completed)
	if len(failed) > 0 {
		return fmt.Errorf("%d failed (details in %s):\n  %s", len(failed), *logFile, strings.Join(failed, "\n  "))
	}
	return nil
}

// samples names each function's event in events/ where it is not
// <function>.json.
var samples = map[string]string{
	"api":     "api-submit-request.json",
	"inbound": "inbound-ses.json",
}

// invokeSample invokes a function with its sample event and checks the
// answer. The task samples name a request the local stack does not hold:
// the binary must start, read its configuration and its registry, reach
// the requests table by the name the template gives, and say so with
// RequestNotFound. The API must take the submission (202), the inbound
// function must make a request of the sample mail, the scheduled ones must
// run.
func invokeSample(ctx context.Context, p *lambdarie.Process, name, events string) error {
	file := samples[name]
	if file == "" {
		file = name + ".json"
	}
	payload, err := os.ReadFile(filepath.Join(events, file))
	if err != nil {
		return err
	}
	out, err := p.Invoke(ctx, payload)
	var fe *lambdarie.FunctionError
	switch name {
	case "api":
		var resp struct {
			StatusCode int    `json:"statusCode"`
			Body       string `json:"body"`
		}
		if err != nil || json.Unmarshal(out, &resp) != nil || resp.StatusCode != 202 || !strings.Contains(resp.Body, `"id"`) {
			return fmt.Errorf("want 202 with an id, got %d (%v)", resp.StatusCode, err)
		}
	case "inbound":
		var resp struct {
			Mails []struct {
				Disposition string `json:"disposition"`
			} `json:"mails"`
		}
		if err != nil || json.Unmarshal(out, &resp) != nil || len(resp.Mails) != 1 || resp.Mails[0].Disposition != "request" {
			return fmt.Errorf("want the mail made a request, got %.200s (%v)", out, err)
		}
	case "deadline-report":
		if err != nil {
			return err
		}
	case "sweeper":
		var resp map[string]any
		if err != nil || json.Unmarshal(out, &resp) != nil || !hasKeys(resp, "started", "not_started") {
			return fmt.Errorf("want a sweep's counts, got %.200s (%v)", out, err)
		}
	default:
		if !errors.As(err, &fe) || fe.Type != "RequestNotFound" {
			return fmt.Errorf("want RequestNotFound for the sample's unknown request, got %.200s (%v)", out, err)
		}
	}
	return nil
}

// startsWork says whether a function's sample starts a workflow.
func startsWork(name string) int {
	if name == "api" || name == "inbound" {
		return 1
	}
	return 0
}

func hasKeys(m map[string]any, keys ...string) bool {
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return false
		}
	}
	return true
}

// putSampleMail stores the raw message the inbound sample's receipt names,
// as SES's S3 action does before it invokes the function.
func putSampleMail(ctx context.Context, stack *devstack.Stack, events string) error {
	b, err := os.ReadFile(filepath.Join(events, "inbound-ses.json"))
	if err != nil {
		return err
	}
	var ev struct {
		Records []struct {
			SES struct {
				Mail struct {
					MessageID string `json:"messageId"`
				} `json:"mail"`
			} `json:"ses"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(b, &ev); err != nil || len(ev.Records) != 1 {
		return fmt.Errorf("the inbound sample: %v", err)
	}
	raw := "From: Jane Roe <jane.roe@example.com>\r\nTo: privacy@example.com\r\nSubject: Subject access request\r\n" +
		"Date: Mon, 23 Nov 2026 10:12:44 +0100\r\nMessage-ID: <CAEddw6POFV_On91m@mail.example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		"Please send me a copy of the personal data you hold about me.\r\n"
	mail := stack.App.RawMail()
	return mail.Put(ctx, mail.Key(ev.Records[0].SES.Mail.MessageID), []byte(raw))
}
