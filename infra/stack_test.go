package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/resources"
	"github.com/privacy-pipeline/dsr/statemachines"
)

var (
	synthOnce     sync.Once
	synthTemplate assertions.Template
	synthRaw      map[string]any
	synthErr      error
	synthDirs     []string
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range synthDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

// synth builds the stack once with stand-in function binaries and returns
// its template; synthesis takes seconds, so the tests share it.
func synth(t *testing.T) (assertions.Template, map[string]any) {
	t.Helper()
	synthOnce.Do(func() { synthTemplate, synthRaw, synthErr = synthesize() })
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	return synthTemplate, synthRaw
}

func synthesize() (assertions.Template, map[string]any, error) {
	assets, err := os.MkdirTemp("", "infra-assets-")
	if err != nil {
		return nil, nil, err
	}
	synthDirs = append(synthDirs, assets)
	for _, f := range resources.Functions {
		dir := filepath.Join(assets, f.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("stand-in"), 0o755); err != nil {
			return nil, nil, err
		}
	}
	out, err := os.MkdirTemp("", "infra-out-")
	if err != nil {
		return nil, nil, err
	}
	synthDirs = append(synthDirs, out)
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(out), Context: &samMetadata})
	synthAssets = assets
	stack, err := NewPipelineStack(app, "Test", StackProps{
		StackProps:    awscdk.StackProps{Env: testEnv},
		PipelineProps: testPipelineProps(assets),
	})
	if err != nil {
		return nil, nil, err
	}
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	tpl := assertions.Template_FromStack(stack, nil)
	synthStack = stack
	return tpl, *tpl.ToJSON(), nil
}

var (
	synthStack  awscdk.Stack
	synthAssets string
	testEnv     = &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("eu-west-1")}
)

// testPipelineProps configure the pipeline as make synth does, with the
// stand-in binaries in assets.
func testPipelineProps(assets string) PipelineProps {
	return PipelineProps{
		MailFrom:      "privacy@example.com",
		RegistryFile:  filepath.Join("..", "internal", "devstack", "demo-sources.yaml"),
		AssetDir:      func(fn string) string { return filepath.Join(assets, fn) },
		ThrottleRate:  50,
		ThrottleBurst: 100,
	}
}

// TestCdkNag: the AwsSolutions rules find no error that is not suppressed
// with a written reason in the stack.
func TestCdkNag(t *testing.T) {
	synth(t)
	errs := assertions.Annotations_FromStack(synthStack).FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
	for _, e := range *errs {
		b, _ := json.Marshal(e) // the message type's fields are deprecated; its JSON is not
		t.Errorf("%s", b)
	}
	warns := assertions.Annotations_FromStack(synthStack).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
	for _, w := range *warns {
		b, _ := json.Marshal(w)
		t.Logf("warning %s", b)
	}
}

func resourcesOfType(tpl map[string]any, typ string) []map[string]any {
	var out []map[string]any
	for _, r := range tpl["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == typ {
			props, _ := res["Properties"].(map[string]any)
			out = append(out, props)
		}
	}
	return out
}

func TestStack(t *testing.T) {
	tpl, raw := synth(t)

	t.Run("requests table has PITR and KMS", func(t *testing.T) {
		tpl.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
			"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
			"SSESpecification":                 map[string]any{"SSEEnabled": true, "SSEType": "KMS"},
			"TimeToLiveSpecification":          map[string]any{"AttributeName": resources.Requests.TTLAttribute, "Enabled": true},
		})
	})
	t.Run("intake table has PITR, KMS and TTL", func(t *testing.T) {
		tpl.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
			"KeySchema":                        []any{map[string]any{"AttributeName": "pk", "KeyType": "HASH"}},
			"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
			"SSESpecification":                 map[string]any{"SSEEnabled": true, "SSEType": "KMS"},
			"TimeToLiveSpecification":          map[string]any{"AttributeName": resources.Intake.TTLAttribute, "Enabled": true},
		})
	})
	t.Run("suppression list has PITR and KMS and never expires", func(t *testing.T) {
		tpl.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
			"KeySchema":                        []any{map[string]any{"AttributeName": resources.Suppressions.PartitionKey.Name, "KeyType": "HASH"}},
			"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
			"SSESpecification":                 map[string]any{"SSEEnabled": true, "SSEType": "KMS"},
			"TimeToLiveSpecification":          assertions.Match_Absent(),
		})
	})
	t.Run("exports bucket is encrypted, private and SSL only", func(t *testing.T) {
		tpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
			"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{
				map[string]any{"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "aws:kms"}, "BucketKeyEnabled": true},
			}},
			"PublicAccessBlockConfiguration": map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
			// Access packages and work files do not outlive their use.
			"LifecycleConfiguration": map[string]any{"Rules": assertions.Match_ArrayWith(&[]any{
				map[string]any{"Id": "expire-work-files", "Prefix": "work/", "ExpirationInDays": 2, "Status": "Enabled"},
				map[string]any{"Id": "expire-packages", "Prefix": "packages/", "ExpirationInDays": 30, "Status": "Enabled"},
			})},
		})
		tpl.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{"Effect": "Deny", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}}),
			})},
		})
	})
	t.Run("the sender's domain is an SES identity", func(t *testing.T) {
		tpl.HasResourceProperties(jsii.String("AWS::SES::EmailIdentity"), map[string]any{"EmailIdentity": "example.com"})
	})
	t.Run("key rotates", func(t *testing.T) {
		tpl.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]any{"EnableKeyRotation": true})
	})
	t.Run("every function is arm64 provided.al2023", func(t *testing.T) {
		fns := resourcesOfType(raw, "AWS::Lambda::Function")
		var ours int
		for _, fn := range fns {
			if fn["Runtime"] == "provided.al2023" {
				ours++
				if archs, _ := json.Marshal(fn["Architectures"]); string(archs) != `["arm64"]` {
					t.Errorf("architectures %s", archs)
				}
			}
		}
		if ours != len(resources.Functions) {
			t.Fatalf("%d provided.al2023 functions, want %d", ours, len(resources.Functions))
		}
	})
	t.Run("API is throttled by the stack's parameters", func(t *testing.T) {
		tpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Stage"), map[string]any{
			"StageName": "$default",
			"DefaultRouteSettings": map[string]any{
				"ThrottlingRateLimit": map[string]any{"Ref": "ThrottleRateLimit"}, "ThrottlingBurstLimit": map[string]any{"Ref": "ThrottleBurstLimit"},
			},
		})
		tpl.HasParameter(jsii.String("ThrottleRateLimit"), map[string]any{"Type": "Number", "Default": 50, "MinValue": 1})
		tpl.HasParameter(jsii.String("ThrottleBurstLimit"), map[string]any{"Type": "Number", "Default": 100, "MinValue": 1})
	})
	t.Run("state machines get every placeholder and log no execution data", func(t *testing.T) {
		machines := resourcesOfType(raw, "AWS::StepFunctions::StateMachine")
		if len(machines) != len(resources.StateMachines) {
			t.Fatalf("%d state machines, want %d", len(machines), len(resources.StateMachines))
		}
		for _, m := range machines {
			subs, _ := m["DefinitionSubstitutions"].(map[string]any)
			var asl string
			for _, def := range resources.StateMachines {
				a, err := statemachines.Definition(def.File)
				if err != nil {
					t.Fatal(err)
				}
				if len(statemachines.Placeholders(a)) == len(subs) {
					asl = a
				}
			}
			if asl == "" {
				t.Fatalf("a state machine's substitutions %v match no definition", subs)
			}
			for _, name := range statemachines.Placeholders(asl) {
				if _, ok := subs[name]; !ok {
					t.Errorf("no substitution for ${%s}", name)
				}
			}
			checkMachineLogging(t, m)
		}
	})
}

func checkMachineLogging(t *testing.T, m map[string]any) {
	t.Helper()
	{
		logging, _ := json.Marshal(m["LoggingConfiguration"])
		if !strings.Contains(string(logging), `"IncludeExecutionData":false`) {
			t.Errorf("logging %s", logging)
		}
		if tracing, _ := json.Marshal(m["TracingConfiguration"]); string(tracing) != `{"Enabled":true}` {
			t.Errorf("tracing %s", tracing)
		}
	}
}

func TestStackPolicies(t *testing.T) {
	_, raw := synth(t)
	t.Run("no wildcard actions and writes only where erasure needs them", func(t *testing.T) {
		for _, policy := range resourcesOfType(raw, "AWS::IAM::Policy") {
			doc := policy["PolicyDocument"].(map[string]any)
			for _, st := range doc["Statement"].([]any) {
				s := st.(map[string]any)
				var actions []string
				switch a := s["Action"].(type) {
				case string:
					actions = []string{a}
				case []any:
					for _, x := range a {
						actions = append(actions, x.(string))
					}
				}
				for _, a := range actions {
					if a == "*" || strings.HasSuffix(a, ":*") {
						t.Errorf("wildcard action %s", a)
					}
				}
			}
		}
		reg, err := registry.LoadFile(filepath.Join("..", "internal", "devstack", "demo-sources.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		writes := []string{"dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem", "s3:PutObject", "s3:DeleteObject"}
		written := map[string]int{} // source id -> statements that may change it
		for _, policy := range resourcesOfType(raw, "AWS::IAM::Policy") {
			doc := policy["PolicyDocument"].(map[string]any)
			for _, st := range doc["Statement"].([]any) {
				b, _ := json.Marshal(st)
				s := string(b)
				if !slices.ContainsFunc(writes, func(a string) bool { return strings.Contains(s, `"`+a+`"`) }) {
					continue
				}
				for _, src := range reg.Automated() {
					if strings.Contains(s, sourceResource(src)) {
						written[src.ID]++
						switch role := roleOf(policy); {
						case role == "EraseSourceFunction":
						case role == "ApplyCorrectionsFunction" && src == reg.Account() && len(src.Correctable) > 0:
							// Corrections update the profile item by item, and delete nothing.
							if strings.Contains(s, `"dynamodb:BatchWriteItem"`) || strings.Contains(s, `"dynamodb:DeleteItem"`) {
								t.Errorf("the correcting function may delete from %s: %s", src.ID, s)
							}
						default:
							t.Errorf("policy of %s may write to source %s", role, src.ID)
						}
						if src.Erasure == registry.EraseAnonymize && (strings.Contains(s, `"dynamodb:BatchWriteItem"`) || strings.Contains(s, `"s3:DeleteObject"`)) {
							t.Errorf("source %s is anonymized, yet may be deleted from: %s", src.ID, s)
						}
					}
				}
			}
		}
		for _, src := range reg.Automated() { // manual sources are their owners' to change
			// One statement for each source that erases in the same table or under the same prefix.
			want := 0
			for _, o := range reg.Automated() {
				if sourceResource(o) == sourceResource(src) && o.Erasure != registry.EraseRetain {
					want++
				}
			}
			if src == reg.Account() && len(src.Correctable) > 0 {
				want++ // and the correcting function
			}
			if written[src.ID] != want {
				t.Errorf("source %s (erasure %s): %d statements may change it, want %d", src.ID, src.Erasure, written[src.ID], want)
			}
		}
	})
}

// tableAccess lists, by role (or managed policy), the actions granted on the
// table whose logical id starts with prefix.
func tableAccess(t *testing.T, raw map[string]any, prefix string) map[string][]string {
	t.Helper()
	var tableID string
	for id, r := range raw["Resources"].(map[string]any) {
		if strings.HasPrefix(id, prefix) && r.(map[string]any)["Type"] == "AWS::DynamoDB::Table" {
			tableID = id
		}
	}
	if tableID == "" {
		t.Fatalf("no table %s", prefix)
	}
	access := map[string][]string{}
	for id, r := range raw["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] != "AWS::IAM::Policy" && res["Type"] != "AWS::IAM::ManagedPolicy" {
			continue
		}
		policy := res["Properties"].(map[string]any)
		who := id
		if res["Type"] == "AWS::IAM::Policy" {
			who = roleOf(policy)
		}
		for _, st := range policy["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			b, _ := json.Marshal(st.(map[string]any)["Resource"])
			if !strings.Contains(string(b), tableID) {
				continue
			}
			switch a := st.(map[string]any)["Action"].(type) {
			case string:
				access[who] = append(access[who], a)
			case []any:
				for _, x := range a {
					access[who] = append(access[who], x.(string))
				}
			}
		}
	}
	for who := range access {
		slices.Sort(access[who])
	}
	return access
}

// toldTable lists the functions whose environment names the variable.
func toldTable(raw map[string]any, envVar string) []string {
	var told []string
	for id, r := range raw["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] != "AWS::Lambda::Function" {
			continue
		}
		env, _ := json.Marshal(res["Properties"].(map[string]any)["Environment"])
		if strings.Contains(string(env), envVar) {
			told = append(told, id)
		}
	}
	return told
}

// TestTableAccess: the intake table is the API's, item by item (and the
// inbound function's rate counters); the suppression list is written by its
// recording task only and read by the managed policy the company attaches to
// its systems' roles.
func TestTableAccess(t *testing.T) {
	_, raw := synth(t)
	// Mailed requests count against the same per-address limit: the
	// inbound function updates the counters, nothing else.
	intake := tableAccess(t, raw, "IntakeTable")
	wantIntake := map[string][]string{
		"ApiFunction":     {"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
		"InboundFunction": {"dynamodb:UpdateItem"},
	}
	if fmt.Sprint(intake) != fmt.Sprint(wantIntake) {
		t.Errorf("intake table access %v, want %v", intake, wantIntake)
	}
	told := toldTable(raw, resources.Intake.EnvVar)
	for i := range told {
		told[i] = strings.TrimRight(told[i], "0123456789ABCDEF")
	}
	slices.Sort(told)
	if !slices.Equal(told, []string{"ApiFunction", "InboundFunction"}) {
		t.Errorf("functions told the intake table's name: %v, want the API and inbound functions", told)
	}

	list := tableAccess(t, raw, "SuppressionsTable")
	var reader string
	for who, actions := range list {
		switch {
		case who == "RecordSuppressionFunction":
			if want := []string{"dynamodb:GetItem", "dynamodb:UpdateItem"}; !slices.Equal(actions, want) {
				t.Errorf("the recording task may %v, want %v", actions, want)
			}
		case strings.HasPrefix(who, "SuppressionListReader"):
			reader = who
			if want := []string{"dynamodb:BatchGetItem", "dynamodb:GetItem"}; !slices.Equal(actions, want) {
				t.Errorf("the reader policy may %v, want %v", actions, want)
			}
		default:
			t.Errorf("%s may %v on the suppression list", who, actions)
		}
	}
	if reader == "" || len(list) != 2 {
		t.Errorf("suppression list access %v, want the recording task and the reader policy", list)
	}
	if told := toldTable(raw, resources.Suppressions.EnvVar); len(told) != 1 || !strings.HasPrefix(told[0], "RecordSuppressionFunction") {
		t.Errorf("functions told the suppression list's name: %v, want the recording task", told)
	}
	outputs, _ := json.Marshal(raw["Outputs"])
	for _, want := range []string{"SuppressionsTableName", "SuppressionListReaderPolicy"} {
		if !strings.Contains(string(outputs), want) {
			t.Errorf("no output %s", want)
		}
	}
}

// TestHistoryTables: the audit log and what erasure recorded live in tables
// of their own, protected as the requests table is. The functions that serve
// the public (api, inbound) may append audit events and nothing more, and
// may not reach the receipts table at all; no function may read, change or
// delete audit events; only the erasing and receipt tasks may write
// receipts; and each function is told the names of its tables only.
func TestHistoryTables(t *testing.T) {
	_, raw := synth(t)
	for _, prefix := range []string{"RequestsTable", "AuditTable", "ReceiptsTable"} {
		id := logicalID(t, raw, "AWS::DynamoDB::Table", prefix)
		res := raw["Resources"].(map[string]any)[id].(map[string]any)
		props := res["Properties"].(map[string]any)
		pitr, _ := json.Marshal(props["PointInTimeRecoverySpecification"])
		sse, _ := json.Marshal(props["SSESpecification"])
		if string(pitr) != `{"PointInTimeRecoveryEnabled":true}` || !strings.Contains(string(sse), `"SSEType":"KMS"`) ||
			!strings.Contains(string(sse), "DataKey") || res["DeletionPolicy"] != "Retain" || res["UpdateReplacePolicy"] != "Retain" {
			t.Errorf("%s: PITR %s, encryption %s, deletion %v/%v; want PITR, the stack's KMS key, retained", prefix, pitr, sse, res["DeletionPolicy"], res["UpdateReplacePolicy"])
		}
	}

	public := []string{"ApiFunction", "InboundFunction"}
	put := []string{"dynamodb:PutItem"}
	audit := tableAccess(t, raw, "AuditTable")
	for who, actions := range audit {
		if !slices.Equal(actions, put) {
			t.Errorf("%s may %v on the audit table, want only %v", who, actions, put)
		}
	}
	receipts := tableAccess(t, raw, "ReceiptsTable")
	for _, fn := range public {
		if !slices.Equal(audit[fn], put) {
			t.Errorf("%s may %v on the audit table, want %v (events in the same transaction as the request)", fn, audit[fn], put)
		}
		if actions, ok := receipts[fn]; ok {
			t.Errorf("%s may %v on the receipts table, want nothing", fn, actions)
		}
		if requests := tableAccess(t, raw, "RequestsTable")[fn]; !slices.Equal(requests, []string{"dynamodb:GetItem", "dynamodb:PutItem"}) {
			t.Errorf("%s may %v on the requests table, want GetItem and PutItem", fn, requests)
		}
		// A statement on every resource would reach the tables too.
		for _, policy := range resourcesOfType(raw, "AWS::IAM::Policy") {
			if roleOf(policy) != fn {
				continue
			}
			for _, st := range policy["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				b, _ := json.Marshal(st)
				if r, _ := json.Marshal(st.(map[string]any)["Resource"]); string(r) == `"*"` && strings.Contains(string(b), `"dynamodb:`) {
					t.Errorf("%s may use DynamoDB on every table: %s", fn, b)
				}
			}
		}
	}
	var writers []string
	for who, actions := range receipts {
		if slices.ContainsFunc(actions, func(a string) bool {
			return a == "dynamodb:PutItem" || a == "dynamodb:UpdateItem" || a == "dynamodb:DeleteItem" || a == "dynamodb:BatchWriteItem"
		}) {
			writers = append(writers, who)
		}
	}
	slices.Sort(writers)
	// Erasing and writing receipts; collecting and waiting keep findings.
	if want := []string{"AwaitFindingsFunction", "CollectSourceFunction", "EraseSourceFunction", "FinishLargeSourceFunction", "WriteReceiptFunction"}; !slices.Equal(writers, want) {
		t.Errorf("may write to the receipts table: %v, want %v", writers, want)
	}
	if want := []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"}; !slices.Equal(receipts["WriteReceiptFunction"], want) {
		t.Errorf("the receipt task may %v on the receipts table, want %v", receipts["WriteReceiptFunction"], want)
	}

	for _, table := range []resources.Table{resources.Requests, resources.Audit, resources.Receipts} {
		var told []string
		for _, id := range toldTable(raw, table.EnvVar) {
			told = append(told, strings.TrimRight(id, "0123456789ABCDEF"))
		}
		access := tableAccess(t, raw, camel(table.ID)+"Table")
		var granted []string
		for who := range access {
			granted = append(granted, who)
		}
		slices.Sort(told)
		slices.Sort(granted)
		if !slices.Equal(told, granted) {
			t.Errorf("functions told %s: %v, want those that may use it: %v", table.EnvVar, told, granted)
		}
	}
	outputs, _ := json.Marshal(raw["Outputs"])
	for _, want := range []string{"RequestsTableName", "AuditTableName", "ReceiptsTableName"} {
		if !strings.Contains(string(outputs), want) {
			t.Errorf("no output %s for privacyctl", want)
		}
	}
}

// TestAgentPermissions: agents' signed permissions expire by lifecycle rule
// when kept after their request closed (counted from the close, when the
// closing step tags them), and in any case once no request could still need
// them; the retention is a parameter the closing steps are told. Only the
// API writes them; it and the closing steps may delete them; reading them
// (to write them anew for the rule) is granted only while they are kept.
func TestAgentPermissions(t *testing.T) {
	tpl, raw := synth(t)
	tpl.HasParameter(jsii.String("PermissionRetentionDays"), map[string]any{"Type": "Number", "Default": 0, "MinValue": 0, "MaxValue": resources.MaxPermissionRetentionDays})
	if cond, _ := json.Marshal(raw["Conditions"]); !strings.Contains(string(cond), `"KeepsClosedPermissions":{"Fn::Not":[{"Fn::Equals":[{"Ref":"PermissionRetentionDays"},"0"]}]}`) {
		t.Errorf("conditions %s", cond)
	}
	tpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
		"LifecycleConfiguration": map[string]any{"Rules": assertions.Match_ArrayWith(&[]any{
			map[string]any{"Id": "expire-closed-permissions", "Prefix": "agents/", "Status": "Enabled",
				"TagFilters":       []any{map[string]any{"Key": "permission", "Value": "closed"}},
				"ExpirationInDays": map[string]any{"Fn::If": []any{"KeepsClosedPermissions", map[string]any{"Ref": "PermissionRetentionDays"}, 1}}},
			map[string]any{"Id": "expire-permissions", "Prefix": "agents/", "Status": "Enabled",
				"ExpirationInDays": map[string]any{"Fn::If": []any{"KeepsClosedPermissions",
					resources.LongestOpenDays + resources.MaxPermissionRetentionDays, resources.LongestOpenDays}}},
		})},
	})
	var told []string
	for _, id := range toldTable(raw, resources.PermissionRetentionEnvVar) {
		told = append(told, strings.TrimRight(id, "0123456789ABCDEF"))
		env, _ := json.Marshal(propsOf(raw, id)["Environment"])
		if !strings.Contains(string(env), `"`+resources.PermissionRetentionEnvVar+`":{"Ref":"PermissionRetentionDays"}`) {
			t.Errorf("%s is told %s", id, env)
		}
	}
	slices.Sort(told)
	closers := []string{"AcknowledgeFunction", "CloseRequestFunction"}
	if !slices.Equal(told, closers) {
		t.Errorf("functions told the retention: %v, want %v", told, closers)
	}

	may := map[string][]string{} // role, action: unconditional statements on agents/*
	for id, r := range raw["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] != "AWS::IAM::Policy" {
			continue
		}
		policy := res["Properties"].(map[string]any)
		for _, st := range policy["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			if b, _ := json.Marshal(st.(map[string]any)["Resource"]); !strings.Contains(string(b), `/agents/*`) {
				continue
			}
			var actions []string
			switch a := st.(map[string]any)["Action"].(type) {
			case string:
				actions = []string{a}
			case []any:
				for _, x := range a {
					actions = append(actions, x.(string))
				}
			}
			if strings.HasPrefix(id, "KeepClosedPermissions") {
				roles, _ := json.Marshal(policy["Roles"])
				if res["Condition"] != "KeepsClosedPermissions" || !slices.Equal(actions, []string{"s3:GetObject", "s3:PutObject", "s3:PutObjectTagging"}) ||
					!strings.Contains(string(roles), "CloseRequestFunction") || !strings.Contains(string(roles), "AcknowledgeFunction") {
					t.Errorf("the policy for kept permissions: condition %v, actions %v, roles %s", res["Condition"], actions, roles)
				}
				continue
			}
			may[roleOf(policy)] = append(may[roleOf(policy)], actions...)
		}
	}
	for role, actions := range may {
		slices.Sort(actions)
		for _, a := range slices.Compact(actions) {
			switch {
			case a == "s3:DeleteObject" && (role == "ApiFunction" || slices.Contains(closers, role)):
			case strings.HasPrefix(a, "s3:PutObject") || strings.HasPrefix(a, "s3:Abort"):
				if role != "ApiFunction" {
					t.Errorf("%s may %s agents' permissions", role, a)
				}
			default:
				t.Errorf("%s may %s agents' permissions", role, a)
			}
		}
	}
	for _, role := range append(closers, "ApiFunction") {
		if !slices.Contains(may[role], "s3:DeleteObject") {
			t.Errorf("%s may not delete agents' permissions: %v", role, may[role])
		}
	}
}

// sourceResource is how a source's table or objects appear in a policy.
func sourceResource(src *registry.Source) string {
	if src.DynamoDB != nil {
		return ":table/" + src.DynamoDB.Table + `"`
	}
	return ":s3:::" + src.S3.Bucket + "/" + src.S3.ListPrefix() + "*"
}

// roleOf names the function whose role a policy is attached to.
func roleOf(policy map[string]any) string {
	b, _ := json.Marshal(policy["Roles"])
	s := string(b)
	for _, f := range resources.Functions {
		if id := camel(f.Name) + "Function"; strings.Contains(s, id) {
			return id
		}
	}
	return s
}

// TestCfnLint runs cfn-lint on the synthesized template, inline ASL included.
// W3005 (redundant DependsOn) comes from CDK's own output.
func TestCfnLint(t *testing.T) {
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Skip("cfn-lint is not installed (pip install cfn-lint); skipped")
	}
	_, raw := synth(t)
	b, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "template.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(lint, file, "--ignore-checks", "W3005").CombinedOutput()
	if err != nil {
		t.Fatalf("cfn-lint: %v\n%s", err, out)
	}
}

func TestMonitoring(t *testing.T) {
	tpl, raw := synth(t)
	var names []string
	for _, a := range resourcesOfType(raw, "AWS::CloudWatch::Alarm") {
		if actions, _ := a["AlarmActions"].([]any); len(actions) != 1 {
			t.Errorf("alarm %v has actions %v", a["AlarmDescription"], a["AlarmActions"])
		}
		names = append(names, a["MetricName"].(string))
	}
	for _, want := range []string{"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted", "Errors", "Throttles", "5xx", "RequestsDueWithin3Days"} {
		if !slices.Contains(names, want) {
			t.Errorf("no alarm on %s (have %v)", want, names)
		}
	}
	if n := len(resourcesOfType(raw, "AWS::CloudWatch::Alarm")); n < 2*len(resources.Functions)+6 {
		t.Errorf("%d alarms", n)
	}
	tpl.HasResourceProperties(jsii.String("AWS::SNS::Topic"), map[string]any{"KmsMasterKeyId": assertions.Match_AnyValue()})
	tpl.ResourceCountIs(jsii.String("AWS::CloudWatch::Dashboard"), jsii.Number(1))
	board, _ := json.Marshal(resourcesOfType(raw, "AWS::CloudWatch::Dashboard")[0]["DashboardBody"])
	for _, want := range []string{"Privacy inbox", "ApproximateNumberOfMessagesVisible", "OperatorInboxQueue", "InboundDeadLetterQueue", "InboundFunction"} {
		if !strings.Contains(string(board), want) {
			t.Errorf("the dashboard does not show %s", want)
		}
	}
	tpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{"ScheduleExpression": "rate(1 hour)"})
	stages := resourcesOfType(raw, "AWS::ApiGatewayV2::Stage")
	logs, _ := json.Marshal(stages[0]["AccessLogSettings"])
	for _, leak := range []string{"sourceIp", "$context.path", "querystring"} {
		if strings.Contains(string(logs), leak) {
			t.Errorf("access logs record %s: %s", leak, logs)
		}
	}
	if !strings.Contains(string(logs), "$context.routeKey") {
		t.Errorf("access logs: %s", logs)
	}
}

// TestReceiptKey: the receipt hashes come from an HMAC key that only the
// erasing function may use, and only to make MACs.
func TestReceiptKey(t *testing.T) {
	_, raw := synth(t)
	var keyID string
	for id, r := range raw["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == "AWS::KMS::Key" && strings.HasPrefix(id, "ReceiptKey") {
			props := res["Properties"].(map[string]any)
			if props["KeySpec"] != "HMAC_256" || props["KeyUsage"] != "GENERATE_VERIFY_MAC" {
				t.Errorf("receipt key %v", props)
			}
			keyID = id
		}
	}
	if keyID == "" {
		t.Fatal("no receipt key")
	}
	users := 0
	for _, policy := range resourcesOfType(raw, "AWS::IAM::Policy") {
		for _, st := range policy["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			b, _ := json.Marshal(st.(map[string]any)["Resource"])
			if !strings.Contains(string(b), keyID) {
				continue
			}
			users++
			// Erasing hashes the keys it touched; finishing a large source
			// adds up its outcome from the journal and hashes them then;
			// the receipt hashes its findings' keys and owners' notes.
			if role := roleOf(policy); role != "EraseSourceFunction" && role != "FinishLargeSourceFunction" && role != "WriteReceiptFunction" {
				t.Errorf("%s may use the receipt key", role)
			}
			if a, _ := json.Marshal(st.(map[string]any)["Action"]); string(a) != `"kms:GenerateMac"` {
				t.Errorf("the receipt key may be used for %s", a)
			}
		}
	}
	if users != 3 {
		t.Errorf("%d statements name the receipt key, want 3", users)
	}
}

// TestDistributedMapAccess: the request workflow runs its Distributed Maps
// with Express children, may start and stop only its own child executions,
// list only the registry's fixed prefixes and write only map-run results.
func TestDistributedMapAccess(t *testing.T) {
	_, raw := synth(t)
	var subs map[string]any
	for _, m := range resourcesOfType(raw, "AWS::StepFunctions::StateMachine") {
		if s, _ := m["DefinitionSubstitutions"].(map[string]any); s[resources.ObjectExecutionTypePlaceholder] != nil {
			subs = s
		}
	}
	if subs == nil || subs[resources.ObjectExecutionTypePlaceholder] != "EXPRESS" || subs[resources.ExportsBucketPlaceholder] == nil {
		t.Fatalf("the request workflow's substitutions %v: Express children and the exports bucket for results", subs)
	}
	var statements []string
	for _, policy := range resourcesOfType(raw, "AWS::IAM::Policy") {
		if b, _ := json.Marshal(policy["Roles"]); !strings.Contains(string(b), "RequestWorkflowRole") {
			continue
		}
		for _, st := range policy["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			b, _ := json.Marshal(st)
			statements = append(statements, string(b))
		}
	}
	has := func(parts ...string) bool {
		return slices.ContainsFunc(statements, func(s string) bool {
			for _, p := range parts {
				if !strings.Contains(s, p) {
					return false
				}
			}
			return true
		})
	}
	if !has(`"Action":"states:StartExecution"`, `stateMachine:Test-request-workflow"`) {
		t.Error("the workflow may not start its Distributed Maps' children")
	}
	if !has(`"states:DescribeExecution"`, `"states:StopExecution"`, `execution:Test-request-workflow/*`) {
		t.Error("the workflow may not follow and stop its children")
	}
	if !has(`"s3:PutObject"`, `/work/map-runs/*`) {
		t.Error("the workflow may not write its map runs' results")
	}
	reg, err := registry.LoadFile(filepath.Join("..", "internal", "devstack", "demo-sources.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range reg.Sources {
		if src.S3 == nil {
			continue
		}
		listed := has(`"s3:ListBucket"`, `"s3:prefix":["`+src.S3.Prefix+`*"]`, `:s3:::`+src.S3.Bucket+`"`)
		if listed == src.S3.Templated() {
			t.Errorf("source %s (key template %v): the workflow may list its prefix: %v", src.ID, src.S3.Templated(), listed)
		}
	}
	for _, s := range statements {
		for _, bad := range []string{"s3:GetObject", "s3:DeleteObject", `"states:StartExecution","states`, "dynamodb:"} {
			if strings.Contains(s, bad) {
				t.Errorf("the workflow's role holds %s: %s", bad, s)
			}
		}
	}
}

// TestSourceLookupAccess: each function that finds subjects in a table may
// do it only as the registry says (Query or GetItem) and reaches indexes only
// where the source looks up on one.
func TestSourceLookupAccess(t *testing.T) {
	_, raw := synth(t)
	reg, err := registry.LoadFile(filepath.Join("..", "internal", "devstack", "demo-sources.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[bool]int{}
	for _, src := range reg.Sources {
		d := src.DynamoDB
		if d == nil {
			continue
		}
		kinds[d.GetItem()]++
		// Statements on the table, by function; tables shared by sources
		// are checked per statement, so compare the lookup action only.
		for _, policy := range resourcesOfType(raw, "AWS::IAM::Policy") {
			role := roleOf(policy)
			for _, st := range policy["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				b, _ := json.Marshal(st)
				s := string(b)
				if !strings.Contains(s, ":table/"+d.Table+`"`) {
					continue
				}
				onIndex := strings.Contains(s, ":table/"+d.Table+"/index/*")
				if onIndex && !slices.ContainsFunc(reg.Sources, func(o *registry.Source) bool {
					return o.DynamoDB != nil && o.DynamoDB.Table == d.Table && o.DynamoDB.Index != ""
				}) {
					t.Errorf("%s may reach the indexes of %s, which no source looks up on: %s", role, d.Table, s)
				}
				if !strings.Contains(s, `"dynamodb:DescribeTable"`) {
					t.Errorf("%s may use %s without reading its key schema: %s", role, d.Table, s)
				}
			}
		}
		for _, fn := range []string{"ResolveIdentitiesFunction", "CollectSourceFunction", "EraseSourceFunction"} {
			actions := sourceActions(raw, fn, d.Table)
			lookup, other := "dynamodb:Query", "dynamodb:GetItem"
			if d.GetItem() {
				lookup, other = other, lookup
			}
			if !slices.Contains(actions, lookup) {
				t.Errorf("%s cannot %s on %s (source %s): %v", fn, lookup, d.Table, src.ID, actions)
			}
			shared := slices.ContainsFunc(reg.Sources, func(o *registry.Source) bool {
				return o.DynamoDB != nil && o.DynamoDB.Table == d.Table && o.DynamoDB.GetItem() != d.GetItem()
			})
			if fn != "EraseSourceFunction" && !shared && slices.Contains(actions, other) {
				t.Errorf("%s may %s on %s, which source %s does not look up so: %v", fn, other, d.Table, src.ID, actions)
			}
		}
	}
	if kinds[true] == 0 || kinds[false] == 0 {
		t.Fatalf("the demo registry has %d get_item and %d query sources: the test needs both", kinds[true], kinds[false])
	}
}

// sourceActions lists the actions a function's policies grant on a table.
func sourceActions(raw map[string]any, fn, table string) []string {
	var actions []string
	for _, policy := range resourcesOfType(raw, "AWS::IAM::Policy") {
		if roleOf(policy) != fn {
			continue
		}
		for _, st := range policy["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			b, _ := json.Marshal(st.(map[string]any)["Resource"])
			if !strings.Contains(string(b), ":table/"+table+`"`) {
				continue
			}
			switch a := st.(map[string]any)["Action"].(type) {
			case string:
				actions = append(actions, a)
			case []any:
				for _, x := range a {
					actions = append(actions, x.(string))
				}
			}
		}
	}
	slices.Sort(actions)
	return slices.Compact(actions)
}

// TestReceiptAnchors: the anchors bucket locks every version in compliance
// mode for the retention years; only the receipt task may write there, only
// under anchors/, and no one in the stack may delete, unlock or bypass.
func TestReceiptAnchors(t *testing.T) {
	tpl, raw := synth(t)
	tpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
		"ObjectLockEnabled": true,
		"ObjectLockConfiguration": map[string]any{"ObjectLockEnabled": "Enabled",
			"Rule": map[string]any{"DefaultRetention": map[string]any{"Mode": "COMPLIANCE", "Days": 3653}}}, // ten years and their leap days
		"VersioningConfiguration": map[string]any{"Status": "Enabled"},
	})
	var bucketID string
	for id, r := range raw["Resources"].(map[string]any) {
		if strings.HasPrefix(id, "ReceiptAnchorsBucket") && r.(map[string]any)["Type"] == "AWS::S3::Bucket" {
			bucketID = id
		}
	}
	if bucketID == "" {
		t.Fatal("no receipt anchors bucket")
	}
	writers := map[string]bool{}
	for _, policy := range resourcesOfType(raw, "AWS::IAM::Policy") {
		for _, st := range policy["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			b, _ := json.Marshal(st)
			s := string(b)
			// A grant on every resource would reach the anchors too.
			if r, _ := json.Marshal(st.(map[string]any)["Resource"]); string(r) == `"*"` && strings.Contains(s, `"s3:`) {
				t.Errorf("%s may use S3 on every bucket: %s", roleOf(policy), s)
			}
			if !strings.Contains(s, bucketID) {
				continue
			}
			for _, forbidden := range []string{"s3:DeleteObject", "s3:PutObjectRetention", "s3:BypassGovernanceRetention", "s3:PutObjectLegalHold", "s3:PutBucketObjectLockConfiguration", "s3:GetObject\""} {
				if strings.Contains(s, forbidden) {
					t.Errorf("%s may %s on the anchors: %s", roleOf(policy), forbidden, s)
				}
			}
			if strings.Contains(s, `"s3:PutObject"`) {
				writers[roleOf(policy)] = true
				if !strings.Contains(s, "/anchors/*") {
					t.Errorf("%s may write anywhere in the anchors bucket: %s", roleOf(policy), s)
				}
			}
		}
	}
	if len(writers) != 1 || !writers["WriteReceiptFunction"] {
		t.Errorf("may write anchors: %v, want the receipt task alone", writers)
	}
	if told := toldTable(raw, resources.ReceiptAnchors.EnvVar); len(told) != 1 || !strings.HasPrefix(told[0], "WriteReceiptFunction") {
		t.Errorf("functions told the anchors bucket: %v, want the receipt task", told)
	}
	outputs, _ := json.Marshal(raw["Outputs"])
	if !strings.Contains(string(outputs), "ReceiptAnchorsBucketName") {
		t.Error("no output names the anchors bucket for privacyctl")
	}
}

// TestRoutesReachEveryHandler: API Gateway routes every method the API's
// handler serves (a method it does not route never reaches the function).
func TestRoutesReachEveryHandler(t *testing.T) {
	_, raw := synth(t)
	routed := map[string]bool{}
	for _, route := range resourcesOfType(raw, "AWS::ApiGatewayV2::Route") {
		key, _ := route["RouteKey"].(string)
		method, path, _ := strings.Cut(key, " ")
		routed[method+" "+path] = true
	}
	src, err := os.ReadFile(filepath.Join("..", "internal", "httpapi", "httpapi.go"))
	if err != nil {
		t.Fatal(err)
	}
	handled := regexp.MustCompile(`mux\.Handle(?:Func)?\("([A-Z]+) (/[^"]*)"`).FindAllStringSubmatch(string(src), -1)
	if len(handled) < 10 {
		t.Fatalf("found %d handler routes: the pattern no longer reads httpapi.go", len(handled))
	}
	for _, h := range handled {
		method, path := h[1], h[2]
		if path == "/{$}" {
			path = "/"
		}
		if !routed[method+" "+path] && !(path != "/" && routed[method+" /{proxy+}"]) {
			t.Errorf("%s %s is served by the API but not routed by API Gateway (routes %v)", method, path, routed)
		}
	}
}

// TestWebhookSecrets: the functions that call webhook sources (the wait on
// tasks) and take their callbacks (the API) may read the secrets the
// registry names, and only those; no other function reads secrets.
func TestWebhookSecrets(t *testing.T) {
	_, raw := synth(t)
	may := map[string][]string{} // role: "action resource"
	for _, r := range raw["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] != "AWS::IAM::Policy" {
			continue
		}
		policy := res["Properties"].(map[string]any)
		for _, st := range policy["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			a, _ := json.Marshal(st.(map[string]any)["Action"])
			if !strings.Contains(string(a), "ssm:") && !strings.Contains(string(a), "secretsmanager:") {
				continue
			}
			b, _ := json.Marshal(st.(map[string]any)["Resource"])
			may[roleOf(policy)] = append(may[roleOf(policy)], string(a)+" "+string(b))
		}
	}
	for _, role := range []string{"ApiFunction", "AwaitManualTasksFunction"} {
		got := strings.Join(may[role], "\n")
		if !strings.Contains(got, `"ssm:GetParameter"`) || !strings.Contains(got, `:parameter/privacy-pipeline/demo/chat-webhook"`) || strings.Contains(got, "*") {
			t.Errorf("%s may read secrets: %s", role, got)
		}
		delete(may, role)
	}
	for role, statements := range may {
		if role == "TellRecipientsFunction" {
			continue // the recipients' secrets
		}
		t.Errorf("%s may read secrets: %v", role, statements)
	}
}
