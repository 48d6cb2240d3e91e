package webhook

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

type fakeSSM struct {
	values map[string]string
	reads  int
}

func (f *fakeSSM) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	f.reads++
	if !aws.ToBool(in.WithDecryption) {
		return nil, context.Canceled // a SecureString must be read decrypted
	}
	v, ok := f.values[aws.ToString(in.Name)]
	if !ok {
		return nil, &types.ParameterNotFound{}
	}
	return &ssm.GetParameterOutput{Parameter: &types.Parameter{Value: aws.String(v)}}, nil
}

type fakeSM map[string]string

func (f fakeSM) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(f[aws.ToString(in.SecretId)])}, nil
}

func TestSecretStore(t *testing.T) {
	long := strings.Repeat("a", MinSecretBytes)
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	ps := &fakeSSM{values: map[string]string{"/hooks/helpdesk": long, "/hooks/short": "abc"}}
	s := &SecretStore{SSM: ps, SecretsManager: fakeSM{"helpdesk": long + "b"}, Now: func() time.Time { return now }}
	ctx := context.Background()
	cases := []struct {
		ref, want string
		fails     bool
	}{
		{ref: "ssm:/hooks/helpdesk", want: long},
		{ref: "secretsmanager:helpdesk", want: long + "b"},
		{ref: "ssm:/hooks/short", fails: true},
		{ref: "ssm:/hooks/missing", fails: true},
		{ref: "vault:/x", fails: true},
	}
	for _, c := range cases {
		v, err := s.Secret(ctx, c.ref)
		if c.fails != (err != nil) || string(v) != c.want {
			t.Errorf("Secret(%s) = %q, %v", c.ref, v, err)
		}
	}
	reads := ps.reads
	if _, err := s.Secret(ctx, "ssm:/hooks/helpdesk"); err != nil || ps.reads != reads {
		t.Errorf("a secret read a moment ago was read again (%d reads, then %d)", reads, ps.reads)
	}
	now = now.Add(SecretTTL)
	if _, err := s.Secret(ctx, "ssm:/hooks/helpdesk"); err != nil || ps.reads != reads+1 {
		t.Errorf("a secret older than SecretTTL was not read again, so a rotation would go unseen")
	}
}
