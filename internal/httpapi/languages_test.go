package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/privacy-pipeline/dsr/internal/i18n"
	"github.com/privacy-pipeline/dsr/internal/portal"
	"github.com/privacy-pipeline/dsr/internal/request"
)

// TestPagesOfferTheCompanysLanguages: with the company's languages set, a
// page is in one of them (the first when the reader asks another) and its
// menu offers only them; with one, there is no menu.
func TestPagesOfferTheCompanysLanguages(t *testing.T) {
	p := &fakePortal{offers: []portal.Offer{{Type: request.Access, Verification: true}}}
	tests := []struct {
		name        string
		langs       []i18n.Lang
		target, hdr string
		want        i18n.Lang
		menu        []string // hreflang values in the menu
	}{
		{"asked for one offered", []i18n.Lang{"de", "en"}, "/?jurisdiction=EU&lang=en", "", "en", []string{"de", "en"}},
		{"browser asks one not offered", []i18n.Lang{"de", "en"}, "/?jurisdiction=EU", "fi", "de", []string{"de", "en"}},
		{"link asks one not offered", []i18n.Lang{"de", "en"}, "/?jurisdiction=EU&lang=fi", "", "de", []string{"de", "en"}},
		{"one language: no menu", []i18n.Lang{"en"}, "/?jurisdiction=EU&lang=de", "", "en", nil},
		{"no policy: every language", nil, "/?jurisdiction=EU&lang=fi", "", "fi", []string{"en", "de", "fi", "nb", "sv"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []Option
			if tt.langs != nil {
				opts = append(opts, WithLanguages(tt.langs))
			}
			h := New(p, discardLog(), opts...)
			req := httptest.NewRequest("GET", tt.target, nil)
			if tt.hdr != "" {
				req.Header.Set("Accept-Language", tt.hdr)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if got := rec.Header().Get("Content-Language"); got != string(tt.want) {
				t.Errorf("Content-Language %q, want %q", got, tt.want)
			}
			page := rec.Body.String()
			for _, l := range i18n.Supported {
				in := strings.Contains(page, `hreflang="`+string(l)+`"`) || strings.Contains(page, `<span lang="`+string(l)+`" aria-current="true">`)
				want := false
				for _, m := range tt.menu {
					want = want || m == string(l)
				}
				if in != want {
					t.Errorf("menu offers %s: %v, want %v", l, in, want)
				}
			}
		})
	}
}
