package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// logicalID returns the id of the one resource of a type whose id starts
// with prefix.
func logicalID(t *testing.T, tpl map[string]any, typ, prefix string) string {
	t.Helper()
	var found []string
	for id, r := range tpl["Resources"].(map[string]any) {
		if r.(map[string]any)["Type"] == typ && strings.HasPrefix(id, prefix) {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s %s*: found %v", typ, prefix, found)
	}
	return found[0]
}

func ref(id string) map[string]any   { return map[string]any{"Ref": id} }
func arnOf(id string) map[string]any { return map[string]any{"Fn::GetAtt": []any{id, "Arn"}} }
func propsOf(tpl map[string]any, id string) map[string]any {
	return tpl["Resources"].(map[string]any)[id].(map[string]any)["Properties"].(map[string]any)
}

func TestInboundMail(t *testing.T) {
	tpl, raw := synth(t)
	bucket := logicalID(t, raw, "AWS::S3::Bucket", "RawMailBucket")
	fn := logicalID(t, raw, "AWS::Lambda::Function", "InboundFunction")
	dlq := logicalID(t, raw, "AWS::SQS::Queue", "InboundDeadLetterQueue")
	inbox := logicalID(t, raw, "AWS::SQS::Queue", "OperatorInboxQueue")
	mailKey := logicalID(t, raw, "AWS::KMS::Key", "MailKey")

	t.Run("the receipt rule stores the message, then invokes the function", func(t *testing.T) {
		tpl.HasResourceProperties(jsii.String("AWS::SES::ReceiptRule"), map[string]any{
			"Rule": map[string]any{
				"Enabled": true, "ScanEnabled": true, "Recipients": []any{ref("PrivacyInboxAddress")},
				"Actions": []any{
					map[string]any{"S3Action": map[string]any{"BucketName": ref(bucket), "ObjectKeyPrefix": "inbound/"}},
					map[string]any{"LambdaAction": map[string]any{"FunctionArn": arnOf(fn), "InvocationType": "Event"}},
				},
			},
		})
		tpl.HasResourceProperties(jsii.String("AWS::SES::ReceiptRuleSet"), map[string]any{"RuleSetName": "Test-inbound"})
		tpl.HasParameter(jsii.String("PrivacyInboxAddress"), map[string]any{"Type": "String", "Default": "privacy@example.com"})
		env, _ := json.Marshal(propsOf(raw, fn)["Environment"])
		if !strings.Contains(string(env), `"PRIVACY_INBOX":{"Ref":"PrivacyInboxAddress"}`) {
			t.Errorf("the function is not told the inbox address: %s", env)
		}
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), map[string]any{
			"FunctionName": arnOf(fn), "Principal": "ses.amazonaws.com", "Action": "lambda:InvokeFunction",
			"SourceAccount": map[string]any{"Ref": "AWS::AccountId"},
		})
	})
	t.Run("raw mail is encrypted with its own key, private, SSL only, and expires only once decided", func(t *testing.T) {
		b := propsOf(raw, bucket)
		enc, _ := json.Marshal(b["BucketEncryption"])
		if !strings.Contains(string(enc), `"aws:kms"`) || !strings.Contains(string(enc), mailKey) {
			t.Errorf("encryption %s", enc)
		}
		pab, _ := json.Marshal(b["PublicAccessBlockConfiguration"])
		if strings.Count(string(pab), "true") != 4 {
			t.Errorf("public access block %s", pab)
		}
		rules, _ := json.Marshal(b["LifecycleConfiguration"])
		var lc struct {
			Rules []struct {
				ExpirationInDays int
				Prefix           string
				TagFilters       []struct{ Key, Value string }
			}
		}
		_ = json.Unmarshal(rules, &lc)
		expiring := map[string]int{}
		for _, r := range lc.Rules {
			if r.ExpirationInDays == 0 {
				continue
			}
			if len(r.TagFilters) != 1 || r.TagFilters[0].Key != "disposition" || r.Prefix != "inbound/" {
				t.Errorf("a rule expires mail it does not single out by tag: %+v", r)
				continue
			}
			expiring[r.TagFilters[0].Value] = r.ExpirationInDays
		}
		if len(expiring) != 2 || expiring["quarantined"] != 30 || expiring["discarded"] != 30 {
			t.Errorf("expiring dispositions %v, want quarantined and discarded after 30 days", expiring)
		}
		tpl.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), map[string]any{
			"Bucket": ref(bucket),
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{"Effect": "Deny", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}}),
				assertions.Match_ObjectLike(&map[string]any{"Effect": "Allow", "Action": "s3:PutObject", "Principal": map[string]any{"Service": "ses.amazonaws.com"}}),
			})},
		})
	})
	t.Run("SES may use the mail key only for this account's rule set", func(t *testing.T) {
		policy, _ := json.Marshal(propsOf(raw, mailKey)["KeyPolicy"])
		var doc struct{ Statement []map[string]any }
		_ = json.Unmarshal(policy, &doc)
		i := slices.IndexFunc(doc.Statement, func(s map[string]any) bool {
			b, _ := json.Marshal(s["Principal"])
			return strings.Contains(string(b), "ses.amazonaws.com")
		})
		if i < 0 {
			t.Fatalf("no statement for SES in %s", policy)
		}
		cond, _ := json.Marshal(doc.Statement[i]["Condition"])
		if !strings.Contains(string(cond), `"aws:SourceAccount":"111111111111"`) || !strings.Contains(string(cond), "receipt-rule-set/Test-inbound:receipt-rule/*") {
			t.Errorf("SES key statement conditions %s", cond)
		}
	})
	t.Run("the function's failed events go to an encrypted dead-letter queue that alarms", func(t *testing.T) {
		f := propsOf(raw, fn)
		if dl, _ := json.Marshal(f["DeadLetterConfig"]); !strings.Contains(string(dl), dlq) {
			t.Errorf("dead-letter config %s", dl)
		}
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::EventInvokeConfig"), map[string]any{
			"FunctionName": ref(fn), "MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 21600,
		})
		for _, q := range []string{dlq, inbox} {
			qp := propsOf(raw, q)
			if qp["KmsMasterKeyId"] == nil || qp["MessageRetentionPeriod"] != float64(1209600) {
				t.Errorf("queue %s: %v", q, qp)
			}
		}
		alarms := map[string]float64{}
		for _, a := range resourcesOfType(raw, "AWS::CloudWatch::Alarm") {
			dims, _ := json.Marshal(a["Dimensions"])
			for _, q := range []string{dlq, inbox} {
				if strings.Contains(string(dims), q) {
					alarms[q+" "+a["MetricName"].(string)] = a["Threshold"].(float64)
				}
			}
		}
		want := map[string]float64{
			dlq + " ApproximateNumberOfMessagesVisible":   1,
			inbox + " ApproximateNumberOfMessagesVisible": 1,
			inbox + " ApproximateAgeOfOldestMessage":      2 * 24 * 3600,
		}
		for k, v := range want {
			if alarms[k] != v {
				t.Errorf("alarm %s threshold %v, want %v (have %v)", k, alarms[k], v, alarms)
			}
		}
	})
	t.Run("only the inbound function reads and labels mail; only the close deletes it", func(t *testing.T) {
		for _, policy := range resourcesOfType(raw, "AWS::IAM::Policy") {
			doc := policy["PolicyDocument"].(map[string]any)
			for _, st := range doc["Statement"].([]any) {
				b, _ := json.Marshal(st)
				if !strings.Contains(string(b), bucket) {
					continue
				}
				role := roleOf(policy)
				actions, _ := json.Marshal(st.(map[string]any)["Action"])
				switch role {
				case "InboundFunction":
					if string(actions) != `["s3:GetObject","s3:GetObjectTagging","s3:PutObjectTagging"]` {
						t.Errorf("inbound may %s", actions)
					}
				case "CloseRequestFunction":
					if string(actions) != `"s3:DeleteObject"` {
						t.Errorf("close-request may %s", actions)
					}
				default:
					t.Errorf("%s may %s on the raw mail", role, actions)
				}
				if !strings.Contains(string(b), `/inbound/*`) {
					t.Errorf("%s's grant is not limited to inbound/: %s", role, b)
				}
			}
		}
	})
}

// TestAllowedOrigins: CORS is on only when the AllowedOrigins parameter
// names an origin; by default the API answers no cross-origin request.
func TestAllowedOrigins(t *testing.T) {
	tpl, raw := synth(t)
	tpl.HasParameter(jsii.String("AllowedOrigins"), map[string]any{"Type": "CommaDelimitedList", "Default": ""})
	cond, _ := json.Marshal(raw["Conditions"])
	if !strings.Contains(string(cond), `"Fn::Join":["",{"Ref":"AllowedOrigins"}]`) {
		t.Fatalf("conditions %s", cond)
	}
	api := propsOf(raw, logicalID(t, raw, "AWS::ApiGatewayV2::Api", "HttpApi"))
	cors, _ := json.Marshal(api["CorsConfiguration"])
	for _, want := range []string{`"Fn::If":["HasAllowedOrigins"`, `"AllowOrigins":{"Ref":"AllowedOrigins"}`, `{"Ref":"AWS::NoValue"}`, `"idempotency-key"`} {
		if !strings.Contains(string(cors), want) {
			t.Errorf("CORS %s lacks %s", cors, want)
		}
	}
}
