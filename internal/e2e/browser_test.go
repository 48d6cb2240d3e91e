package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/privacy-pipeline/dsr/internal/i18n"
)

// The browser tests drive the web form in headless Chromium as a person with
// a keyboard would: no JavaScript of ours runs (there is none), keys are
// typed into the fields and Enter submits. Each page is saved as a
// screenshot under test-output/browser/ at the top of the repository.

// chromiumPath finds the browser. Without one the tests skip, except in CI,
// whose script installs it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("Chromium is not installed; .ci/run installs the Debian package chromium")
	}
	t.Skip("browser test skipped: Chromium is not installed (Debian: apt-get install chromium)")
	return ""
}

// browser starts one headless Chromium for a test and returns a function
// that opens a new tab with the given Accept-Language.
func browser(t *testing.T) func(acceptLanguage string) context.Context {
	t.Helper()
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox cannot start
		chromedp.WindowSize(1000, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	// One tab starts the browser; later tabs share it.
	first, cancelFirst := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelFirst)
	if err := chromedp.Do(first, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return func(acceptLanguage string) context.Context {
		tab, cancelTab := chromedp.NewContext(first)
		ctx, cancel := context.WithTimeout(tab, 60*time.Second)
		t.Cleanup(func() { cancel(); cancelTab() })
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
			Headers: network.Headers{"Accept-Language": acceptLanguage}}); err != nil {
			t.Fatal(err)
		}
		return ctx
	}
}

// screenshotDir is test-output/browser at the top of the repository (git
// ignores test-output/).
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
	out := filepath.Join(dir, "test-output", "browser")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}

// page is one browser tab in one language, with checks that stop the test.
type page struct {
	t    *testing.T
	ctx  context.Context
	lang i18n.Lang
	dir  string
	run  string
}

func (p *page) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.t.Fatal(err)
	}
}

// open loads url and waits for an element that only the expected page has.
func (p *page) open(url, waitFor string) {
	p.t.Helper()
	p.do(chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(waitFor)))
}

// submitWith presses Enter on the focused control and waits for the page it
// loads; it returns the HTTP status of that page.
func (p *page) submitWith(keys string) int64 {
	p.t.Helper()
	resp, err := chromedp.RunResponse(p.ctx, chromedp.KeyEvent(keys))
	if err != nil {
		p.t.Fatal(err)
	}
	return resp.Status
}

func (p *page) text(css string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		p.t.Fatal(err)
	}
	return strings.TrimSpace(s)
}

func (p *page) attr(css, name string) string {
	p.t.Helper()
	a, err := chromedp.Run(p.ctx, chromedp.AttributeValue(chromedp.CSS(css), name))
	if err != nil {
		p.t.Fatal(err)
	}
	return a.Value
}

// expectHeading checks the page's h1 and html lang.
func (p *page) expectHeading(key string) {
	p.t.Helper()
	if got, want := p.text("h1"), p.lang.T(key); got != want {
		p.t.Fatalf("heading %q, want %q", got, want)
	}
	if got := p.attr("html", "lang"); got != string(p.lang) {
		p.t.Fatalf("html lang=%q, want %q", got, p.lang)
	}
}

func (p *page) screenshot(name string) {
	p.t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.dir, p.run+"-"+name+".png"), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

var requestIDPattern = regexp.MustCompile(`dsr-\d{8}-[0-9a-z]{16}`)

// fillForm goes through the form with the keyboard: the law step (the
// preselected law, Tab to the button, Enter), then the request step (Space
// on the chosen request, the address typed into its field, Enter).
func (p *page) fillForm(typ, email string) int64 {
	p.t.Helper()
	p.open(stack.APIURL+"/", `form[action="/"] select#jurisdiction`)
	p.expectHeading("form.title")
	p.screenshot("1-law")
	p.do(chromedp.Focus(chromedp.ID("jurisdiction")), chromedp.KeyEvent(kb.Tab))
	if focused := p.focusedTag(); focused != "BUTTON" {
		p.t.Fatalf("Tab from the law menu reached %s, not the Continue button", focused)
	}
	if status := p.submitWith(kb.Enter); status != 200 {
		p.t.Fatalf("law step: HTTP %d", status)
	}
	p.do(chromedp.WaitVisible(chromedp.CSS(`form[action="/v1/requests"] input#email`)))
	p.screenshot("2-form")
	p.do(chromedp.Focus(chromedp.CSS(`input[name="type"][value="`+typ+`"]`)), chromedp.KeyEvent(" "),
		chromedp.Focus(chromedp.ID("email")), chromedp.SendKeys(chromedp.ID("email"), email))
	return p.submitWith(kb.Enter)
}

func (p *page) focusedTag() string {
	p.t.Helper()
	tag, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.tagName : ""`))
	if err != nil {
		p.t.Fatal(err)
	}
	return tag
}

// TestBrowser drives the form in one headless Chromium. In English and in
// German (by the browser's Accept-Language) a person fills the form with the
// keyboard, gets the confirmation page, receives the acknowledgement and the
// verification mail in the same language, opens the link, confirms, and reads
// the status page. Then an address the form cannot take brings the form back
// with an error summary that has the focus and links to the field, the error
// beside the field, and everything typed kept.
func TestBrowser(t *testing.T) {
	newTab := browser(t)
	dir := screenshotDir(t)
	for _, tc := range []struct {
		run, acceptLanguage, typ, email string
		lang                            i18n.Lang
		nextStep                        string
	}{
		{"en", "en-GB,en;q=0.9", "access", "browser.english@example.com", i18n.English, "done.next.access"},
		{"de", "de-DE,de;q=0.9,en;q=0.5", "delete", "browser.deutsch@example.com", i18n.German, "done.next.delete"},
	} {
		t.Run(tc.run, func(t *testing.T) {
			p := &page{t: t, ctx: newTab(tc.acceptLanguage), lang: tc.lang, dir: dir, run: tc.run}
			requestFlow(p, tc.typ, tc.email, tc.nextStep)
		})
	}
	t.Run("error", func(t *testing.T) {
		formError(&page{t: t, ctx: newTab("en-US"), lang: i18n.English, dir: dir, run: "error"})
	})
}

func requestFlow(p *page, typ, email, nextStep string) {
	t := p.t
	if status := p.fillForm(typ, email); status != 202 {
		t.Fatalf("submit: HTTP %d", status)
	}
	p.do(chromedp.WaitVisible(chromedp.CSS(`main a[href*="token="]`)))
	p.expectHeading("done.title")
	p.screenshot("3-received")
	id := requestIDPattern.FindString(p.text("main p"))
	if id == "" {
		t.Fatalf("no request id on the confirmation page: %q", p.text("main"))
	}
	if body := p.text("main"); !strings.Contains(body, p.lang.T(nextStep)) || !strings.Contains(body, p.lang.T("done.next.verify")) {
		t.Fatalf("the confirmation page does not say what happens next:\n%s", body)
	}
	statusLink := p.attr(`main a[href*="token="]`, "href")
	if r := storedRequest(t, id); r.Language != p.lang || r.Email != email {
		t.Fatalf("stored language %q", r.Language)
	}

	// The mails speak the language of the form.
	ack := mailTo(t, email, id, p.lang.T("mail.ack.subject", "id", id))
	if !strings.Contains(ack.Text, p.lang.T("type."+typ)) {
		t.Fatalf("acknowledgement:\n%s", ack.Text)
	}
	link := linkIn(t, mailTo(t, email, id, p.lang.T("mail.verify.subject", "id", id)), "/verify")
	if link.Query().Get("lang") != string(p.lang) {
		t.Fatalf("verification link without the language: %s", link.Path)
	}

	p.open(link.String(), `form[action$="/verify"] button`)
	p.expectHeading("verify.title")
	p.screenshot("4-verify")
	p.do(chromedp.Focus(chromedp.CSS(`form[action$="/verify"] button`)))
	if status := p.submitWith(kb.Enter); status != 200 {
		t.Fatalf("confirm: HTTP %d", status)
	}
	p.expectHeading("confirmed.title")
	p.screenshot("5-confirmed")

	p.open(statusLink, "dd#status")
	p.expectHeading("status.title")
	confirmed := []string{p.lang.T("status.value.verified"), p.lang.T("status.value.in_progress"), p.lang.T("status.value.completed")}
	if got := p.text("dd#status"); !slices.Contains(confirmed, got) {
		t.Fatalf("status %q after confirming, want one of %q", got, confirmed)
	}
	if got := p.text("main dl"); !strings.Contains(got, id) || !strings.Contains(got, p.lang.T("type."+typ)) {
		t.Fatalf("status page:\n%s", got)
	}
	p.screenshot("6-status")
}

func formError(p *page) {
	t := p.t
	const typed = "jane.doe@example"
	if status := p.fillForm("delete", typed); status != 400 {
		t.Fatalf("submit: HTTP %d, want 400", status)
	}
	p.do(chromedp.WaitVisible(chromedp.CSS(`.summary a[href="#email"]`)))
	p.screenshot("3-summary")
	// The summary takes the focus as the page loads (autofocus), so a
	// screen reader reads it first and Tab leads into its links.
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[bool](`document.activeElement.classList.contains("summary")`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("the error summary does not get the focus: %v", err)
	}
	want := i18n.English.T("error.email.invalid")
	if got := p.text(`.summary a[href="#email"]`); got != want {
		t.Fatalf("summary says %q, want %q", got, want)
	}
	if got := p.text("#email-error"); !strings.Contains(got, want) {
		t.Fatalf("the field's error says %q", got)
	}
	if got, err := chromedp.Run(p.ctx, chromedp.Value(chromedp.ID("email"))); err != nil || got != typed {
		t.Fatalf("email field holds %q (%v), want %q as typed", got, err, typed)
	}
	if got := p.attr("#email", "aria-invalid"); got != "true" {
		t.Fatalf("aria-invalid=%q", got)
	}
	checked, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.querySelector('input[name="type"]:checked').value`))
	if err != nil || checked != "delete" {
		t.Fatalf("the chosen request is %q (%v), want delete kept", checked, err)
	}
	// Tab from the summary reaches its link, which names the field.
	p.do(chromedp.KeyEvent(kb.Tab))
	target, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`(function(a) {
		var f = a && a.getAttribute("href") && document.querySelector(a.getAttribute("href"));
		return f ? f.tagName + "#" + f.id : "";
	})(document.activeElement)`))
	if err != nil || target != "INPUT#email" {
		t.Fatalf("Tab from the summary reached a link to %q (%v), want the email field", target, err)
	}
}
