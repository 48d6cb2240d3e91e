package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/registry"
	"github.com/privacy-pipeline/dsr/internal/webhook"
)

// TestRecipientSecrets: only the function that tells recipients may read
// the secrets their webhooks are signed with, and it may read no other
// secret.
func TestRecipientSecrets(t *testing.T) {
	_, raw := synth(t)
	reg, err := registry.LoadFile(filepath.Join("..", "internal", "devstack", "demo-sources.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string // as the policies name them
	for _, ref := range reg.NotifiedSecrets() {
		names = append(names, strings.TrimPrefix(strings.TrimPrefix(ref, webhook.SecretsManagerPrefix), webhook.SSMPrefix+"/"))
	}
	if len(names) == 0 {
		t.Fatal("the demo registry tells no recipient through a webhook: the test would prove nothing")
	}
	readers := map[string]int{}
	for _, policy := range resourcesOfType(raw, "AWS::IAM::Policy") {
		for _, st := range policy["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			b, _ := json.Marshal(st)
			s := string(b)
			if !strings.Contains(s, `"secretsmanager:GetSecretValue"`) && !strings.Contains(s, `"ssm:GetParameter"`) {
				continue
			}
			role, ours := roleOf(policy), 0
			for _, name := range names {
				if strings.Contains(s, name) {
					readers[name]++
					ours++
					if role != "TellRecipientsFunction" {
						t.Errorf("%s may read the recipients' secret %s", role, name)
					}
				}
			}
			if role == "TellRecipientsFunction" && ours == 0 {
				t.Errorf("the function that tells recipients may read another secret: %s", s)
			}
		}
	}
	for _, name := range names {
		if readers[name] == 0 {
			t.Errorf("no function may read %s: recipients could not be told", name)
		}
	}
}
