package app

import (
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/ratelimit"
)

func TestConfigFromEnvLimits(t *testing.T) {
	base := map[string]string{
		"REQUESTS_TABLE": "requests", "EXPORTS_BUCKET": "exports", "MAIL_FROM": "privacy@example.com",
		"PUBLIC_BASE_URL": "https://dsr.example", "INTAKE_TABLE": "intake",
	}
	tests := []struct {
		name         string
		env          map[string]string
		wantClient   ratelimit.Rule
		wantIdentity ratelimit.Rule
		wantTTL      time.Duration
		wantErr      string
	}{
		{name: "defaults", wantClient: DefaultClientLimit, wantIdentity: DefaultIdentityLimit, wantTTL: 24 * time.Hour},
		{name: "set", env: map[string]string{"RATE_LIMIT_CLIENT": "100/1m", "RATE_LIMIT_IDENTITY": "off", "IDEMPOTENCY_TTL": "2h"},
			wantClient: ratelimit.Rule{Limit: 100, Window: time.Minute}, wantIdentity: ratelimit.Off, wantTTL: 2 * time.Hour},
		{name: "bad client limit", env: map[string]string{"RATE_LIMIT_CLIENT": "lots"}, wantErr: "RATE_LIMIT_CLIENT"},
		{name: "bad identity limit", env: map[string]string{"RATE_LIMIT_IDENTITY": "5"}, wantErr: "RATE_LIMIT_IDENTITY"},
		{name: "idempotency TTL too short", env: map[string]string{"IDEMPOTENCY_TTL": "5s"}, wantErr: "IDEMPOTENCY_TTL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ConfigFromEnv(func(k string) string {
				if v, ok := tt.env[k]; ok {
					return v
				}
				return base[k]
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.ClientLimit != tt.wantClient || c.IdentityLimit != tt.wantIdentity || c.IdempotencyTTL != tt.wantTTL || c.IntakeTable != "intake" {
				t.Fatalf("config %v %v %v %q", c.ClientLimit, c.IdentityLimit, c.IdempotencyTTL, c.IntakeTable)
			}
		})
	}
}
