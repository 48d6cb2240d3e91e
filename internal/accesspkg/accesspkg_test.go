package accesspkg

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacy-pipeline/dsr/internal/i18n"
	"github.com/privacy-pipeline/dsr/internal/registry"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func source(id, kind string) *registry.Source {
	s := &registry.Source{
		ID: id, Description: "The " + id,
		Categories: []string{"identifiers", "commercial"},
		Purposes:   []string{"Provide the service."},
		Recipients: []registry.Recipient{{Name: "Pay Ltd", Role: "processor", Country: "IE"}},
		Retention:  &registry.Retention{Period: "2 years", Criteria: "after the account is closed"},
	}
	if kind == "dynamodb" {
		s.DynamoDB = &registry.DynamoDBSource{Table: id}
	} else {
		s.S3 = &registry.S3Source{Bucket: id}
	}
	return s
}

func unzip(t *testing.T, b []byte) (names []string, files map[string][]byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	files = map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
		names = append(names, f.Name)
	}
	return names, files
}

func TestWrite(t *testing.T) {
	users := source("users", "dynamodb")
	events := source("events", "s3")
	events.Recipients = nil
	parts := []Part{
		{Source: users, Records: []map[string]any{{"user_id": "u-1", "plan": "pro", "credit": json.Number("12.50")}}},
		{Source: events},
	}
	var buf bytes.Buffer
	m, err := Write(&buf, Package{RequestID: "dsr-1", RequestType: "portability", GeneratedAt: now, Parts: parts})
	if err != nil {
		t.Fatal(err)
	}
	names, files := unzip(t, buf.Bytes())
	want := []string{"json/users.json", "csv/users.csv", "json/events.json", "csv/events.csv", "manifest.json", "index.html"}
	if !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}
	var got Manifest
	if err := json.Unmarshal(files[ManifestFile], &got); err != nil {
		t.Fatal(err)
	}
	u := got.Sources[0]
	if got.RequestID != "dsr-1" || got.RequestType != "portability" || !got.GeneratedAt.Equal(now) || len(got.Sources) != 2 ||
		u.Records != 1 || u.JSONFile != "json/users.json" || u.CSVFile != "csv/users.csv" || u.Kind != "dynamodb" ||
		got.Sources[1].Records != 0 || got.Sources[1].Kind != "s3" {
		t.Fatalf("manifest %+v", got)
	}
	if len(u.Categories) != 2 || u.Categories[1].ID != "commercial" || !strings.HasPrefix(u.Categories[1].Label, "Commercial information") ||
		u.Purposes[0] != "Provide the service." || u.Recipients[0].Name != "Pay Ltd" || u.Retention.Period != "2 years" {
		t.Fatalf("manifest disclosure %+v", u)
	}
	if !strings.Contains(string(files[ManifestFile]), `"recipients": []`) {
		t.Errorf("a source without recipients should list [] in the manifest:\n%s", files[ManifestFile])
	}
	if m.Sources[0].Records != 1 {
		t.Fatalf("returned manifest %+v", m)
	}
	if string(files["json/users.json"]) != "[\n  {\n    \"credit\": 12.50,\n    \"plan\": \"pro\",\n    \"user_id\": \"u-1\"\n  }\n]\n" {
		t.Fatalf("users.json keeps values exactly:\n%s", files["json/users.json"])
	}
	if string(bytes.TrimSpace(files["json/events.json"])) != "[]" {
		t.Fatalf("empty source should be [], got %s", files["json/events.json"])
	}
	if string(files["csv/users.csv"]) != "credit,plan,user_id\r\n12.50,pro,u-1\r\n" {
		t.Fatalf("users.csv %q", files["csv/users.csv"])
	}
	if len(files["csv/events.csv"]) != 0 {
		t.Fatalf("events.csv %q", files["csv/events.csv"])
	}
}

func TestWriteCSV(t *testing.T) {
	tests := []struct {
		name    string
		records []map[string]any
		want    string
	}{
		{"union of fields, sorted", []map[string]any{{"b": "1"}, {"a": "2", "c": "3"}}, "a,b,c\r\n,1,\r\n2,,3\r\n"},
		{"quoting", []map[string]any{{"x": `say "hi", then`}, {"x": "two\nlines"}, {"x": " lead"}}, "x\r\n\"say \"\"hi\"\", then\"\r\n\"two\r\nlines\"\r\n\" lead\"\r\n"},
		{"values", []map[string]any{{"n": json.Number("-5.00"), "t": true, "z": nil, "o": map[string]any{"k": []any{"v"}}}}, "n,o,t,z\r\n-5.00,\"{\"\"k\"\":[\"\"v\"\"]}\",true,\r\n"},
		{"formulas", []map[string]any{{"a": "=1+1", "b": "+SUM(A1)", "c": "-2", "d": "@cmd", "e": "-x"}}, "a,b,c,d,e\r\n'=1+1,'+SUM(A1),-2,'@cmd,'-x\r\n"},
		{"no records", nil, ""},
		{"non-ASCII", []map[string]any{{"name": "Zoë Ångström, 山田"}}, "name\r\n\"Zoë Ångström, 山田\"\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteCSV(&b, tt.records); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Fatalf("got  %q\nwant %q", b.String(), tt.want)
			}
			if tt.want == "" {
				return
			}
			rows, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
			if err != nil || len(rows) != len(tt.records)+1 {
				t.Fatalf("does not read back as CSV: %v, %d rows", err, len(rows))
			}
		})
	}
}

func TestReport(t *testing.T) {
	hostile := `<script>alert("x")</script><img src=https://evil.example/t.gif>`
	users := source("users", "dynamodb")
	users.Description = "Accounts & <b>profiles</b>"
	users.Purposes = []string{"Fraud checks " + hostile}
	events := source("events", "s3")
	events.Recipients = nil
	many := make([]map[string]any, MaxReportRows+3)
	for i := range many {
		many[i] = map[string]any{"n": json.Number("1")}
	}
	parts := []Part{
		{Source: users, Records: []map[string]any{{"name": hostile, "note": "javascript:alert(1)"}}},
		{Source: events, Records: many},
		{Source: source("empty", "s3")},
	}
	var buf bytes.Buffer
	if _, err := Write(&buf, Package{RequestID: "dsr-20261123-abc", RequestType: "access", GeneratedAt: now, Parts: parts}); err != nil {
		t.Fatal(err)
	}
	_, files := unzip(t, buf.Bytes())
	page := string(files[ReportFile])

	// Only plain markup, and links that stay inside the package.
	allowed := []string{"html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "p", "strong", "time",
		"a", "nav", "ul", "li", "section", "dl", "dt", "dd", "div", "table", "thead", "tbody", "tr", "th", "td"}
	for _, m := range regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9]*)`).FindAllStringSubmatch(page, -1) {
		if !slices.Contains(allowed, m[1]) {
			t.Errorf("the report has a <%s> element", m[1])
		}
	}
	for _, m := range regexp.MustCompile(`\s([a-z-]+)="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if m[1] == "href" && (strings.Contains(m[2], ":") || strings.HasPrefix(m[2], "//")) {
			t.Errorf("the report links outside the package: %s", m[0])
		}
		if slices.Contains([]string{"src", "srcset", "action", "style", "background"}, m[1]) || strings.HasPrefix(m[1], "on") {
			t.Errorf("the report has an attribute %s", m[0])
		}
	}
	for _, bad := range []string{"@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("the report contains %q", bad)
		}
	}
	for _, want := range []string{
		`<html lang="en">`, `<meta charset="utf-8">`, "<title>Your personal data – request dsr-20261123-abc</title>",
		`&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`, "Accounts &amp; &lt;b&gt;profiles&lt;/b&gt;",
		`<th scope="col">name</th>`, `<p class="caption" id="source-users-caption">`, `<table aria-labelledby="source-users-caption">`,
		"Pay Ltd (Processor (acts on our instructions), in IE)", "No one outside our company.",
		"2 years, after the account is closed", "Commercial information",
		`<a href="json/users.json">`, `<a href="csv/events.csv">`, `<time datetime="2026-11-23T12:00:00Z">23 November 2026, 12:00 UTC</time>`,
		"(the first 500 of 503; the files hold all of them)", "We hold no records about you here.",
		`<li><a href="#source-events">The events</a>: 503 records</li>`, `<li><a href="#source-empty">The empty</a>: 0 records</li>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if n := strings.Count(page, "<tr><td>1</td></tr>"); n != MaxReportRows {
		t.Errorf("%d event rows shown, want %d", n, MaxReportRows)
	}

	// The only style is allowed by its hash; nothing else may load or run.
	csp := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]+)">`).FindStringSubmatch(page)
	style := regexp.MustCompile(`(?s)<style>(.*)</style>`).FindStringSubmatch(page)
	if csp == nil || style == nil {
		t.Fatal("no CSP or no style element")
	}
	sum := sha256.Sum256([]byte(style[1]))
	policy := html.UnescapeString(csp[1]) // as the browser reads the attribute
	if !strings.HasPrefix(policy, "default-src 'none'; ") || !strings.Contains(policy, "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") {
		t.Errorf("CSP %q does not allow exactly the page's style", policy)
	}
}

// TestReportInEveryLanguage: the report speaks the request's language, in
// every word of its own (the registry's descriptions stay as written), with
// the request's dates and counts written that language's way.
func TestReportInEveryLanguage(t *testing.T) {
	users := source("users", "dynamodb")
	events := source("events", "s3")
	parts := []Part{
		{Source: users, Records: []map[string]any{{"name": "Jane"}}, Unreadable: 1},
		{Source: events, Records: []map[string]any{{"n": json.Number("1")}, {"n": json.Number("2")}}, Unreadable: 3},
		{Source: source("empty", "s3")},
	}
	want := map[i18n.Lang][]string{
		i18n.English:   {"<h1>Your personal data</h1>", "23 November 2026, 12:00 UTC", "2 records", "Kinds of personal data"},
		i18n.German:    {"<h1>Ihre personenbezogenen Daten</h1>", "23. November 2026, 12:00 Uhr UTC", "2 Datensätze", "Geschäftliche Informationen"},
		i18n.Finnish:   {"<h1>Henkilötietosi</h1>", "23. marraskuuta 2026 klo 12.00 UTC", "2 tietuetta", "Kaupalliset tiedot"},
		i18n.Norwegian: {"<h1>Personopplysningene dine</h1>", "23. november 2026 kl. 12.00 UTC", "2 oppføringer", "Databehandler (handler etter våre instrukser), i IE"},
		i18n.Swedish:   {"<h1>Dina personuppgifter</h1>", "23 november 2026 kl. 12.00 UTC", "2 poster", "Personuppgiftsbiträde (agerar på våra instruktioner), i IE"},
	}
	for _, l := range i18n.Supported {
		var buf bytes.Buffer
		if _, err := Write(&buf, Package{RequestID: "dsr-20261123-abc", RequestType: "access", Language: l, GeneratedAt: now, Parts: parts}); err != nil {
			t.Fatal(err)
		}
		_, files := unzip(t, buf.Bytes())
		page := html.UnescapeString(string(files[ReportFile]))
		if !strings.Contains(page, `<html lang="`+string(l)+`">`) {
			t.Errorf("%s: the page does not say its language", l)
		}
		for _, w := range append(want[l], l.T("report.head_title", "id", "dsr-20261123-abc"), l.T("report.no_records"),
			l.Count("report.unreadable", 1), l.Count("report.unreadable", 3), l.T("report.caption", "source", "The events")) {
			if !strings.Contains(page, w) {
				t.Errorf("%s: the report lacks %q", l, w)
			}
		}
		if m := regexp.MustCompile(`\{[a-z_]+\}|\b(report|category|recipient_role)\.[a-z_.]+`).FindString(page); m != "" {
			t.Errorf("%s: the report shows %q", l, m)
		}
	}
}

// TestEveryCategoryAndRoleHasWords: each category and kind of recipient a
// registry may name is in the catalogue, so no report falls back to English.
func TestEveryCategoryAndRoleHasWords(t *testing.T) {
	for _, c := range registry.Categories {
		if !i18n.Has("category." + c.ID) {
			t.Errorf("category.%s is not in the catalogue", c.ID)
		}
		if got := i18n.English.T("category." + c.ID); got != c.Label {
			t.Errorf("category.%s in English is %q, the registry says %q", c.ID, got, c.Label)
		}
	}
	for _, r := range registry.RecipientRoles {
		if !i18n.Has("recipient_role." + r.ID) {
			t.Errorf("recipient_role.%s is not in the catalogue", r.ID)
		}
		if got := i18n.English.T("recipient_role." + r.ID); got != r.Label {
			t.Errorf("recipient_role.%s in English is %q, the registry says %q", r.ID, got, r.Label)
		}
	}
}

// Stream reads each source twice, a record at a time, and writes the same
// files a package held in memory would have: the JSON file is the indented
// array, the CSV has every record, the report the first MaxReportRows.
func TestStream(t *testing.T) {
	const n = MaxReportRows + 700
	reads := 0
	records := func(yield func(map[string]any) error) error {
		reads++
		for i := range n {
			r := map[string]any{"n": json.Number(fmt.Sprint(i)), "page": fmt.Sprintf("/p/%d", i)}
			if i%3 == 0 {
				r["ref"] = "=cmd" // only some records have it: a column all the same
			}
			if err := yield(r); err != nil {
				return err
			}
		}
		return nil
	}
	var buf bytes.Buffer
	m, err := Stream(&buf, "dsr-1", "access", i18n.English, now, []SourceRecords{{Source: source("events", "s3"), Records: records, Unreadable: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if reads != 2 || m.Sources[0].Records != n || m.Sources[0].Unreadable != 2 {
		t.Fatalf("%d reads, manifest %+v", reads, m.Sources[0])
	}
	_, files := unzip(t, buf.Bytes())
	var all []map[string]any
	if err := records(func(r map[string]any) error { all = append(all, r); return nil }); err != nil {
		t.Fatal(err)
	}
	whole, _ := json.MarshalIndent(all, "", "  ")
	if got := files[JSONFile("events")]; string(got) != string(whole)+"\n" {
		t.Fatalf("the JSON file differs from the array written whole (%d and %d bytes)", len(got), len(whole)+1)
	}
	rows, err := csv.NewReader(bytes.NewReader(files[CSVFile("events")])).ReadAll()
	if err != nil || len(rows) != n+1 || strings.Join(rows[0], ",") != "n,page,ref" || rows[1][2] != "'=cmd" || rows[2][2] != "" {
		t.Fatalf("csv: %d rows, header %v, %v", len(rows), rows[0], err)
	}
	page := string(files[ReportFile])
	if !strings.Contains(page, fmt.Sprintf("the first %d of %d", MaxReportRows, n)) || !strings.Contains(page, "/p/499<") || strings.Contains(page, "/p/500<") {
		t.Fatal("the report does not show exactly the first rows")
	}
	if !strings.Contains(page, "2 records or files here may hold data about you but could not be read") {
		t.Fatal("the report does not say what could not be read")
	}
}
