package webhook

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/privacy-pipeline/dsr/internal/apperr"
)

// Where a secret may be kept: an SSM parameter (a SecureString, decrypted
// on read) or a Secrets Manager secret (its string value).
const (
	SSMPrefix            = "ssm:"
	SecretsManagerPrefix = "secretsmanager:"
)

// SSM reads parameters (the part of the SSM client used here).
type SSM interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// SecretsManager reads secrets (the part of the client used here).
type SecretsManager interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// SecretTTL is how long a secret read is kept in memory: a rotated secret
// is picked up within it, and a busy function does not read it per call.
const SecretTTL = 5 * time.Minute

// SecretStore reads the secrets references name, keeping each for
// SecretTTL.
type SecretStore struct {
	SSM            SSM
	SecretsManager SecretsManager
	Now            func() time.Time

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	value []byte
	until time.Time
}

// Secret returns the secret ref names. A secret shorter than
// MinSecretBytes is refused: it would make signatures guessable.
func (s *SecretStore) Secret(ctx context.Context, ref string) ([]byte, error) {
	now := s.Now()
	s.mu.Lock()
	c, ok := s.cache[ref]
	s.mu.Unlock()
	if ok && now.Before(c.until) {
		return c.value, nil
	}
	v, err := s.read(ctx, ref)
	if err != nil {
		return nil, err
	}
	if len(v) < MinSecretBytes {
		return nil, apperr.E(apperr.Internal, fmt.Sprintf("The webhook secret %s is shorter than %d bytes.", ref, MinSecretBytes))
	}
	s.mu.Lock()
	if s.cache == nil {
		s.cache = map[string]cached{}
	}
	s.cache[ref] = cached{value: v, until: now.Add(SecretTTL)}
	s.mu.Unlock()
	return v, nil
}

func (s *SecretStore) read(ctx context.Context, ref string) ([]byte, error) {
	switch {
	case strings.HasPrefix(ref, SSMPrefix):
		out, err := s.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(strings.TrimPrefix(ref, SSMPrefix)), WithDecryption: aws.Bool(true)})
		if err != nil {
			return nil, fmt.Errorf("reading the webhook secret %s: %w", ref, err)
		}
		if out.Parameter == nil || out.Parameter.Value == nil {
			return nil, fmt.Errorf("the webhook secret %s has no value", ref)
		}
		return []byte(*out.Parameter.Value), nil
	case strings.HasPrefix(ref, SecretsManagerPrefix):
		out, err := s.SecretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(strings.TrimPrefix(ref, SecretsManagerPrefix))})
		if err != nil {
			return nil, fmt.Errorf("reading the webhook secret %s: %w", ref, err)
		}
		if out.SecretString == nil {
			return nil, fmt.Errorf("the webhook secret %s has no string value", ref)
		}
		return []byte(*out.SecretString), nil
	}
	return nil, fmt.Errorf("the webhook secret %q names neither ssm: nor secretsmanager:", ref)
}
