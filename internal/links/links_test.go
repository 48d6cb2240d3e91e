package links

import (
	"testing"

	"github.com/privacy-pipeline/dsr/internal/i18n"
)

func TestLinks(t *testing.T) {
	const (
		base  Base = "https://privacy.example.com"
		id         = "dsr-20261123-4k7m2q9x8v3b5n6p"
		token      = "tok_en-1"
		de         = i18n.Lang("de")
	)
	tests := []struct {
		name, got, want string
	}{
		{"submit", base.Submit(), "https://privacy.example.com/v1/requests"},
		{"status", base.Status(id, token), "https://privacy.example.com/v1/requests/" + id + "?token=" + token},
		{"verify", base.Verify(id, token, de), "https://privacy.example.com/v1/requests/" + id + "/verify?token=" + token + "&lang=de"},
		{"verify, no language", base.Verify(id, token, ""), "https://privacy.example.com/v1/requests/" + id + "/verify?token=" + token},
		{"code", base.Code(id, de), "https://privacy.example.com/v1/requests/" + id + "/code?lang=de"},
		{"code, no language", base.Code(id, ""), "https://privacy.example.com/v1/requests/" + id + "/code"},
		{"download", base.Download(id, token, de), "https://privacy.example.com/v1/requests/" + id + "/download?token=" + token + "&lang=de"},
		{"form", base.Form("US-CA", de), "https://privacy.example.com/?jurisdiction=US-CA&lang=de"},
		{"form, no language", base.Form("EU", ""), "https://privacy.example.com/?jurisdiction=EU"},
		{"appeal", base.Appeal("US-VA", id, de), "https://privacy.example.com/?appeal_of=" + id + "&jurisdiction=US-VA&type=appeal&lang=de"},
		{"verify action", VerifyAction(id), "/v1/requests/" + id + "/verify"},
		{"code action", CodeAction(id), "/v1/requests/" + id + "/code"},
		{"status page", StatusPage(id, token, de), "/v1/requests/" + id + "?lang=de&token=" + token},
		{"permission", Permission(id, token, de), "/v1/requests/" + id + "/permission?lang=de&token=" + token},
		{"form page", FormPage(de), "/?lang=de"},
		{"with language", WithLang(base.Status(id, token), de), "https://privacy.example.com/v1/requests/" + id + "?lang=de&token=" + token},
		{"with another language", WithLang(base.Verify(id, token, "en"), de), "https://privacy.example.com/v1/requests/" + id + "/verify?lang=de&token=" + token},
		{"an id is a path segment", VerifyAction("a/../b"), "/v1/requests/a%2F..%2Fb/verify"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}
