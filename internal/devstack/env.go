package devstack

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/privacy-pipeline/dsr/internal/resources"
)

// Env is the environment the functions read, naming the local stack's
// resources, for a function that runs outside this process (under SAM, or
// the Lambda runtime interface emulator) against the local stack at
// endpoint. Besides the names, it points the SDK at the endpoint with
// path-style S3 and fixed test credentials, and compresses waits as make
// dev does.
func Env(region, apiURL, endpoint string, timeScale float64) map[string]string {
	c := LocalConfig(region, apiURL)
	return map[string]string{
		resources.Requests.EnvVar:           c.RequestsTable,
		resources.Audit.EnvVar:              c.AuditTable,
		resources.Receipts.EnvVar:           c.ReceiptsTable,
		resources.Intake.EnvVar:             c.IntakeTable,
		resources.Suppressions.EnvVar:       c.SuppressionsTable,
		resources.Exports.EnvVar:            c.ExportsBucket,
		resources.RawMail.EnvVar:            c.RawMailBucket,
		resources.ReceiptAnchors.EnvVar:     c.ReceiptAnchorsBucket,
		resources.OperatorInbox.EnvVar:      c.OperatorQueueURL,
		resources.RequestWorkflow.EnvVar:    c.StateMachineARN,
		resources.DeadlineWatch.EnvVar:      c.WatchStateMachineARN,
		resources.ReceiptKey.EnvVar:         c.ReceiptKeyID,
		resources.PermissionRetentionEnvVar: "0",
		"MAIL_FROM":                         c.MailFrom,
		"OPERATOR_EMAIL":                    c.OperatorEmail,
		"PUBLIC_BASE_URL":                   c.BaseURL,
		"PRIVACY_INBOX":                     c.InboxAddress,
		"INBOUND_JURISDICTION":              c.InboundJurisdiction,
		"AWS_ENDPOINT_URL":                  endpoint,
		"S3_FORCE_PATH_STYLE":               "true",
		"TIME_SCALE":                        strconv.FormatFloat(timeScale, 'f', -1, 64),
		"AWS_REGION":                        region,
		"AWS_ACCESS_KEY_ID":                 "test",
		"AWS_SECRET_ACCESS_KEY":             "test",
	}
}

// TemplateFunction is a Lambda function of a synthesized template, with
// the environment it would have on the local stack.
type TemplateFunction struct {
	// Name is the function folder's name (functions/<name>), from its
	// code's asset path or its logical id.
	Name string
	// LogicalID is its id in the template; SAMID is the id SAM CLI knows
	// it by (the construct id in its aws:cdk:path).
	LogicalID, SAMID string
	// Env is the function's environment: the template's literal values,
	// and for every value the template computes (a reference, a join) the
	// local stack's value of that variable.
	Env map[string]string
}

// TemplateFunctions reads every Lambda function of a synthesized template
// and resolves its environment against local (see Env). A computed value
// local does not name is an error: the function would run without it.
func TemplateFunctions(template []byte, local map[string]string) ([]TemplateFunction, error) {
	var tpl struct {
		Resources map[string]struct {
			Type       string `json:"Type"`
			Properties struct {
				Environment struct {
					Variables map[string]any `json:"Variables"`
				} `json:"Environment"`
			} `json:"Properties"`
			Metadata map[string]any `json:"Metadata"`
		} `json:"Resources"`
	}
	if err := json.Unmarshal(template, &tpl); err != nil {
		return nil, fmt.Errorf("reading the template: %w", err)
	}
	var fns []TemplateFunction
	for id, r := range tpl.Resources {
		if r.Type != "AWS::Lambda::Function" {
			continue
		}
		f := TemplateFunction{LogicalID: id, SAMID: samID(id, r.Metadata), Env: map[string]string{}}
		f.Name = functionName(f.SAMID)
		if !slices.ContainsFunc(resources.Functions, func(fn resources.Function) bool { return fn.Name == f.Name }) {
			continue // a function CDK adds for itself
		}
		for k, v := range r.Properties.Environment.Variables {
			if s, ok := v.(string); ok {
				f.Env[k] = s
				continue
			}
			lv, ok := local[k]
			if !ok {
				return nil, fmt.Errorf("function %s: %s is computed in the template and the local stack has no value for it", id, k)
			}
			f.Env[k] = lv
		}
		// Literal settings the local stack overrides (the cloud's empty
		// endpoint, unscaled time, virtual-hosted S3).
		for _, k := range []string{"AWS_ENDPOINT_URL", "S3_FORCE_PATH_STYLE", "TIME_SCALE"} {
			if _, declared := f.Env[k]; declared {
				f.Env[k] = local[k]
			}
		}
		fns = append(fns, f)
	}
	slices.SortFunc(fns, func(a, b TemplateFunction) int { return strings.Compare(a.Name, b.Name) })
	if len(fns) != len(resources.Functions) {
		return nil, fmt.Errorf("the template has %d of the pipeline's %d functions (was it synthesized with aws:cdk:path metadata?)", len(fns), len(resources.Functions))
	}
	return fns, nil
}

// samID is the id SAM CLI gives a resource: the construct id before
// "/Resource" in its aws:cdk:path, else its logical id.
func samID(logicalID string, metadata map[string]any) string {
	path, _ := metadata["aws:cdk:path"].(string)
	parts := strings.Split(path, "/")
	switch {
	case len(parts) < 2:
		return logicalID
	case parts[len(parts)-1] == "Resource":
		return parts[len(parts)-2]
	}
	return parts[len(parts)-1]
}

// functionName is the function folder a construct id such as
// "CollectSourceFunction" stands for ("collect-source"): infra names each
// function's construct by its folder in camel case.
func functionName(constructID string) string {
	base := strings.TrimSuffix(constructID, "Function")
	var b strings.Builder
	for i, r := range base {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('-')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// SAMEnvVars is the content of a `sam local invoke --env-vars` file for the
// functions: each function's environment under both ids SAM may look it
// up by.
func SAMEnvVars(fns []TemplateFunction) ([]byte, error) {
	out := map[string]map[string]string{}
	for _, f := range fns {
		out[f.LogicalID] = f.Env
		out[f.SAMID] = f.Env
	}
	return json.MarshalIndent(out, "", "  ")
}
