package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/privacy-pipeline/dsr/internal/accesspkg"
	"github.com/privacy-pipeline/dsr/internal/i18n"
	"github.com/privacy-pipeline/dsr/internal/links"
	"github.com/privacy-pipeline/dsr/internal/manualtask"
	"github.com/privacy-pipeline/dsr/internal/registry"
)

// axeSource is the pinned axe-core (internal/e2e/axe, installed by make
// test with npm ci). Without it the check cannot run: CI fails, elsewhere
// the test says so and skips.
func axeSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("axe", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("axe-core is not installed (make test runs npm ci --prefix internal/e2e/axe): %v", err)
		}
		t.Skip("accessibility check skipped: axe-core is not installed (npm ci --prefix internal/e2e/axe)")
	}
	return string(b)
}

// widths are the viewports every page is checked at: a phone and a desktop.
var widths = []struct {
	name          string
	width, height int64
}{{"phone", 375, 740}, {"desktop", 1280, 900}}

// axeViolation is what the check reports of a violation: the rule and the
// elements, by selector (never their text).
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Nodes  []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// checkPage runs axe-core on the loaded page at each width (WCAG 2.1 A and
// AA and axe's best practices) and checks that at 320 CSS pixels nothing
// needs scrolling sideways (WCAG 1.4.10); the page is not reloaded, so an
// answer to a form is checked as it stands.
func (p *page) checkPage(axe, name string) {
	p.t.Helper()
	if _, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`typeof axe !== "undefined" || (function(){`+axe+`; return true})()`)); err != nil {
		p.t.Fatalf("%s: loading axe-core: %v", name, err)
	}
	for _, w := range append(widths, struct {
		name          string
		width, height int64
	}{"320px", 320, 640}) {
		p.do(chromedp.EmulateViewport(w.width, w.height))
		if w.name == "320px" {
			wide, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
			if err != nil || wide {
				p.t.Errorf("%s at 320px: the page scrolls sideways (%v)", name, err)
			}
			continue
		}
		raw, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](
			`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}}).then(r => JSON.stringify(r.violations))`,
			chromedp.EvalAwaitPromise))
		if err != nil {
			p.t.Fatalf("%s (%s): axe: %v", name, w.name, err)
		}
		var violations []axeViolation
		if err := json.Unmarshal([]byte(raw), &violations); err != nil {
			p.t.Fatalf("%s (%s): axe answered %q: %v", name, w.name, raw, err)
		}
		for _, v := range violations {
			var targets []string
			for _, n := range v.Nodes {
				targets = append(targets, fmt.Sprint(n.Target...))
			}
			p.t.Errorf("%s (%s, %s): %s (%s) at %s", name, p.lang, w.name, v.ID, v.Impact, strings.Join(targets, ", "))
		}
	}
	p.do(chromedp.EmulateReset())
}

// TestPagesAreAccessible opens every page a person can reach, in every
// language, and checks each with axe-core at a phone's and a desktop's
// width, and for reflow at 320 pixels: the law and the request step (with
// the corrections and the appeal they offer), a form with errors, the
// confirmation page (a subject's and an agent's, with the upload), the
// mailed link's page, the confirmed page, a used link, the code page and
// the status page.
func TestPagesAreAccessible(t *testing.T) {
	axe := axeSource(t)
	newTab := browser(t)
	t.Parallel()
	for _, l := range i18n.Supported {
		t.Run(string(l), func(t *testing.T) {
			p := &page{t: t, ctx: newTab(string(l)), lang: l}
			lang := "lang=" + string(l)

			p.open(stack.APIURL+"/?"+lang, `select#jurisdiction`)
			p.checkPage(axe, "law step")
			for _, law := range []string{"EU", "US-VA"} {
				p.open(stack.APIURL+"/?jurisdiction="+law+"&"+lang, `input#email`)
				p.checkPage(axe, "request step "+law)
			}

			// A form with errors: nothing chosen, an address the form cannot take.
			p.do(chromedp.SendKeys(chromedp.CSS(`input#email`), "not-an-address"), chromedp.Submit(chromedp.CSS(`input#email`)))
			p.do(chromedp.WaitVisible(chromedp.CSS(`.summary`)))
			p.checkPage(axe, "form with errors")

			email := "a11y." + string(l) + "@example.com"
			p.open(stack.APIURL+"/?jurisdiction=EU&"+lang, `input#email`)
			p.do(chromedp.Click(chromedp.CSS(`input[name="type"][value="access"]`)),
				chromedp.SendKeys(chromedp.CSS(`input#email`), email), chromedp.Submit(chromedp.CSS(`input#email`)),
				chromedp.WaitVisible(chromedp.CSS(`main a[href*="token="]`)))
			p.checkPage(axe, "request received")
			statusLink := p.attr(`main a[href*="token="]`, "href")
			id := requestIDPattern.FindString(p.text("main p"))
			if id == "" {
				t.Fatal("no reference on the confirmation page")
			}

			p.open(stack.APIURL+"/v1/requests/"+id+"/code?"+lang, `input#code`)
			p.checkPage(axe, "code")

			verify := linkIn(t, mailTo(t, email, id, l.T("mail.verify.subject", "id", id)), "/verify")
			p.open(verify.String(), `form[action$="/verify"] button`)
			p.checkPage(axe, "confirm by link")
			if _, err := chromedp.RunResponse(p.ctx, chromedp.Click(chromedp.CSS(`form[action$="/verify"] button`))); err != nil {
				t.Fatal(err)
			}
			p.expectHeading("confirmed.title")
			p.checkPage(axe, "confirmed")

			p.open(verify.String(), `main p a`)
			p.expectHeading("error.title.link")
			p.checkPage(axe, "used link")

			p.open(statusLink, `dd#status`)
			p.checkPage(axe, "status")

			// An agent's request: the confirmation page holds the upload.
			p.open(stack.APIURL+"/?jurisdiction=US-CA&"+lang, `input#agent_email`)
			p.do(chromedp.Click(chromedp.CSS(`input[name="type"][value="access"]`)),
				chromedp.SendKeys(chromedp.CSS(`input#email`), "a11y.subject."+string(l)+"@example.com"),
				chromedp.SendKeys(chromedp.CSS(`input#agent_email`), "a11y.agent."+string(l)+"@example.com"),
				chromedp.Submit(chromedp.CSS(`input#email`)),
				chromedp.WaitVisible(chromedp.CSS(`input#permission`)))
			p.checkPage(axe, "agent's request received")
			later := p.attr(`main a[href*="/permission?"]`, "href")
			p.open(stack.APIURL+later, `input#permission`)
			p.checkPage(axe, "agent's upload")
		})
	}
}

// TestAccessReportIsAccessible opens the report of an access package
// (index.html, opened from the subject's own disk) in every language and
// checks it as the pages are: a table wider than a phone scrolls inside its
// own box, whose caption stays in view outside it, and nothing else
// scrolls sideways.
func TestAccessReportIsAccessible(t *testing.T) {
	axe := axeSource(t)
	newTab := browser(t)
	t.Parallel()
	wide := map[string]any{}
	for _, col := range []string{"customer_number", "email_address", "delivery_address", "last_order_reference", "loyalty_tier", "marketing_preferences", "created_at"} {
		wide[col] = strings.Repeat("x", 24)
	}
	orders := &registry.Source{ID: "orders", Description: "Orders placed in the web shop", Categories: []string{"identifiers", "commercial"},
		Purposes: []string{"Deliver what was ordered."}, Recipients: []registry.Recipient{{Name: "Parcel Carrier Ltd", Role: "processor", Country: "DE"}},
		Retention: &registry.Retention{Period: "10 years", Criteria: "after the order, for the tax authority"}, DynamoDB: &registry.DynamoDBSource{Table: "orders"}}
	empty := &registry.Source{ID: "tickets", Description: "Support tickets", Categories: []string{"identifiers"}, Purposes: []string{"Answer questions."},
		Retention: &registry.Retention{Period: "2 years"}, S3: &registry.S3Source{Bucket: "tickets"}}
	for _, l := range i18n.Supported {
		t.Run(string(l), func(t *testing.T) {
			var zipped bytes.Buffer
			if _, err := accesspkg.Write(&zipped, accesspkg.Package{RequestID: "dsr-20261207-a11yreport", RequestType: "access", Language: l,
				GeneratedAt: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC),
				Parts:       []accesspkg.Part{{Source: orders, Records: []map[string]any{wide, wide}}, {Source: empty}}}); err != nil {
				t.Fatal(err)
			}
			zr, err := zip.NewReader(bytes.NewReader(zipped.Bytes()), int64(zipped.Len()))
			if err != nil {
				t.Fatal(err)
			}
			f, err := zr.Open(accesspkg.ReportFile)
			if err != nil {
				t.Fatal(err)
			}
			report, err := io.ReadAll(f)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "index.html")
			if err := os.WriteFile(path, report, 0o600); err != nil {
				t.Fatal(err)
			}
			p := &page{t: t, ctx: newTab(string(l)), lang: l}
			p.open("file://"+path, `main h1`)
			p.checkPage(axe, "access report")
			// On a phone the table scrolls (the style applies: the page's CSP
			// allows it by its hash); its caption does not scroll with it.
			p.do(chromedp.EmulateViewport(360, 640))
			outside, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`(() => {
				const box = document.querySelector(".scroll");
				const caption = document.getElementById(box.getAttribute("aria-labelledby"));
				return getComputedStyle(box).overflowX === "auto" && box.scrollWidth > box.clientWidth && caption !== null && !box.contains(caption);
			})()`))
			if err != nil || !outside {
				t.Errorf("on a phone the table should scroll in its box with its caption outside it (%v)", err)
			}
			p.do(chromedp.EmulateReset())
		})
	}
}

// TestTaskPageIsAccessible checks the page of a manual source's task in
// every language, as its owner sees it: a correction's task, which shows
// whom to look for and the new values, with its answer form.
func TestTaskPageIsAccessible(t *testing.T) {
	axe := axeSource(t)
	newTab := browser(t)
	t.Parallel()
	ctx := context.Background()
	for _, l := range i18n.Supported {
		t.Run(string(l), func(t *testing.T) {
			r := submitFor(t, "access", "a11y.task."+string(l)+"@example.com")
			now := time.Now().UTC()
			task := manualtask.Task{RequestID: r.ID, SourceID: "crm", Type: "correct", Status: manualtask.Open, Owner: crmOwner, CreatedAt: now, Due: now.Add(72 * time.Hour)}
			token := task.Issue(now.Add(96 * time.Hour))
			if _, _, err := stack.App.ManualTasks().AddTask(ctx, task); err != nil {
				t.Fatal(err)
			}
			p := &page{t: t, ctx: newTab(string(l)), lang: l}
			p.open(links.WithLang(links.Base(stack.APIURL).Task(r.ID, "crm", token), l), `input#answer-done`)
			p.checkPage(axe, "task")
		})
	}
}
