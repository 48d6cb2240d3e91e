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

func TestConfigFromEnvPermissionRetention(t *testing.T) {
	base := map[string]string{
		"REQUESTS_TABLE": "requests", "EXPORTS_BUCKET": "exports", "MAIL_FROM": "privacy@example.com",
		"PUBLIC_BASE_URL": "https://dsr.example",
	}
	tests := []struct {
		value   string
		want    int
		wantErr bool
	}{
		{"", 0, false},
		{"0", 0, false},
		{"30", 30, false},
		{"365", 365, false},
		{"366", 0, true},
		{"-1", 0, true},
		{"30d", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			c, err := ConfigFromEnv(func(k string) string {
				if k == "PERMISSION_RETENTION_DAYS" {
					return tt.value
				}
				return base[k]
			})
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "PERMISSION_RETENTION_DAYS") {
					t.Fatalf("err = %v, want one naming PERMISSION_RETENTION_DAYS", err)
				}
				return
			}
			if err != nil || c.PermissionRetentionDays != tt.want {
				t.Fatalf("retention %d, %v; want %d", c.PermissionRetentionDays, err, tt.want)
			}
		})
	}
}
