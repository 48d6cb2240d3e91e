package accesspkg

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/privacy-pipeline/dsr/internal/i18n"
	"github.com/privacy-pipeline/dsr/internal/registry"
)

// MaxReportRows bounds the records shown per source in index.html, so the
// report opens quickly in a browser; the JSON and CSV files hold them all.
const MaxReportRows = 500

// reportStyle is the report's only style. The Content-Security-Policy allows
// exactly this stylesheet (by hash) and nothing else: no script, no image, no
// request leaves the page.
const reportStyle = `body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1a1a1a;background:#fff}
main{max-width:70rem;margin:0 auto;padding:1rem 1.5rem 3rem}
h1,h2,p,dl,ul{overflow-wrap:anywhere;hyphens:auto}
h1{font-size:1.8rem}h2{font-size:1.4rem;margin-top:2.5rem;border-top:1px solid #ccc;padding-top:1rem}
dt{font-weight:600;margin-top:.6rem}dd{margin-left:0}dd ul{margin:.2rem 0;padding-left:1.2rem}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin-top:.4rem;font-size:.9rem}
.caption{font-weight:600;margin:1rem 0 0}
th,td{border:1px solid #999;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#eee}
a{color:#0645ad}a:focus,.scroll:focus{outline:3px solid #1a73e8;outline-offset:2px}`

var styleHash = func() string {
	sum := sha256.Sum256([]byte(reportStyle))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}()

type reportSource struct {
	ManifestSource
	Title      string
	Anchor     string
	Columns    []string
	Rows       [][]string
	Count      string // the records, in words: "3 records"
	Unread     string // what could not be read, in words
	Caption    string
	Categories []string
	Recipients []string
	Retention  string
}

type reportData struct {
	Manifest
	L          i18n.Lang
	CSP        string
	Style      template.CSS
	Intro      template.HTML
	FilesIntro template.HTML
	Sources    []reportSource
}

// shown is what the report shows of one source: the columns of all its
// records and the first MaxReportRows of them.
type shown struct {
	columns []string
	records []map[string]any
}

// markup is the text of key in l, escaped, with its placeholders filled by
// markup of the report's own making (a link, the request id in bold).
func markup(l i18n.Lang, key string, parts map[string]template.HTML) template.HTML {
	s := template.HTMLEscapeString(l.T(key))
	for name, html := range parts {
		s = strings.ReplaceAll(s, "{"+name+"}", string(html))
	}
	return template.HTML(s)
}

// writeReport writes index.html in l: the catalogue's words around what the
// registry says of each source (its description, purposes and retention,
// shown as written) and the records.
func writeReport(w io.Writer, l i18n.Lang, m Manifest, parts []shown) error {
	if l == "" {
		l = i18n.Default
	}
	esc := template.HTMLEscapeString
	link := func(href string) template.HTML {
		return template.HTML(`<a href="` + esc(href) + `">` + esc(href) + `</a>`)
	}
	d := reportData{
		Manifest: m,
		L:        l,
		CSP:      "default-src 'none'; style-src '" + styleHash + "'; base-uri 'none'; form-action 'none'",
		Style:    template.CSS(reportStyle),
		Intro: markup(l, "report.intro", map[string]template.HTML{
			"id":   template.HTML("<strong>" + esc(m.RequestID) + "</strong>"),
			"date": template.HTML(`<time datetime="` + m.GeneratedAt.Format(time.RFC3339) + `">` + esc(l.DateTime(m.GeneratedAt)) + "</time>"),
		}),
		FilesIntro: markup(l, "report.files_intro", map[string]template.HTML{"json": link("json/"), "csv": link("csv/"), "manifest": link(ManifestFile)}),
	}
	for i, ms := range m.Sources {
		records := parts[i].records
		rs := reportSource{ManifestSource: ms, Title: ms.Description, Anchor: "source-" + ms.ID, Columns: parts[i].columns,
			Count: l.Count("mail.records", ms.Records)}
		if rs.Title == "" {
			rs.Title = ms.ID
		}
		if ms.Unreadable > 0 {
			rs.Unread = l.Count("report.unreadable", ms.Unreadable)
		}
		rs.Caption = l.T("report.caption", "source", rs.Title)
		if ms.Records > len(records) {
			rs.Caption = l.T("report.caption.first", "source", rs.Title, "max", fmt.Sprint(MaxReportRows), "count", fmt.Sprint(ms.Records))
		}
		for _, c := range ms.Categories {
			rs.Categories = append(rs.Categories, words(l, "category."+c.ID, c.Label))
		}
		for _, r := range ms.Recipients {
			role := words(l, "recipient_role."+r.Role, registry.RoleLabel(r.Role))
			text := l.T("report.recipient", "name", r.Name, "role", role)
			if r.Country != "" {
				text = l.T("report.recipient.country", "name", r.Name, "role", role, "country", r.Country)
			}
			if r.Safeguards != "" {
				text = l.T("report.recipient.safeguards", "recipient", text, "safeguards", r.Safeguards)
			}
			rs.Recipients = append(rs.Recipients, text)
		}
		rs.Retention = ms.Retention.Period
		if ms.Retention.Period != "" && ms.Retention.Criteria != "" {
			rs.Retention += ", "
		}
		rs.Retention += ms.Retention.Criteria
		for _, r := range records {
			row := make([]string, len(rs.Columns))
			for j, c := range rs.Columns {
				row[j] = Text(r[c])
			}
			rs.Rows = append(rs.Rows, row)
		}
		d.Sources = append(d.Sources, rs)
	}
	return report.Execute(w, d)
}

// words is the catalogue's text of key in l, or else the registry's own
// label: a category or role the catalogue lacks is shown, not hidden.
func words(l i18n.Lang, key, label string) string {
	if i18n.Has(key) {
		return l.T(key)
	}
	return label
}

var report = template.Must(template.New(ReportFile).Parse(`<!doctype html>
<html lang="{{.L}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="referrer" content="no-referrer">
<title>{{.L.T "report.head_title" "id" .RequestID}}</title>
<style>{{.Style}}</style>
</head>
<body>
<main>
<h1>{{.L.T "report.title"}}</h1>
<p>{{.Intro}}</p>
<p>{{.FilesIntro}}</p>
<nav aria-labelledby="contents">
<h2 id="contents">{{.L.T "report.contents"}}</h2>
<ul>
{{- range .Sources}}
<li><a href="#{{.Anchor}}">{{.Title}}</a>: {{if .File}}{{$.L.T "report.file.contents"}}{{else}}{{.Count}}{{end}}</li>
{{- end}}
</ul>
</nav>
{{- range .Sources}}
<section aria-labelledby="{{.Anchor}}">
<h2 id="{{.Anchor}}">{{.Title}}</h2>
<dl>
<dt>{{$.L.T "report.records"}}</dt>
<dd>{{if .File}}{{$.L.T "report.file.records"}}{{else}}{{.Records}}{{end}}</dd>
{{- if .Unread}}
<dt>{{$.L.T "report.unreadable"}}</dt>
<dd>{{.Unread}}</dd>{{end}}
<dt>{{$.L.T "report.categories"}}</dt>
<dd><ul>{{range .Categories}}<li>{{.}}</li>{{end}}</ul></dd>
<dt>{{$.L.T "report.purposes"}}</dt>
<dd><ul>{{range .Purposes}}<li>{{.}}</li>{{end}}</ul></dd>
<dt>{{$.L.T "report.recipients"}}</dt>
<dd>{{if .Recipients}}<ul>{{range .Recipients}}<li>{{.}}</li>{{end}}</ul>{{else}}{{$.L.T "report.recipients.none"}}{{end}}</dd>
<dt>{{$.L.T "report.retention"}}</dt>
<dd>{{.Retention}}</dd>
{{- if .File}}
<dt>{{$.L.T "report.file"}}</dt>
<dd><a href="{{.File}}">{{.File}}</a></dd>
{{- else if .JSONFile}}
<dt>{{$.L.T "report.files"}}</dt>
<dd><a href="{{.JSONFile}}">{{.JSONFile}}</a>, <a href="{{.CSVFile}}">{{.CSVFile}}</a></dd>
{{- end}}
</dl>
{{- if .File}}
<p>{{$.L.T "report.file.exported"}} <a href="{{.File}}">{{.File}}</a></p>
{{- else if .Rows}}
<p class="caption" id="{{.Anchor}}-caption">{{.Caption}}</p>
<div class="scroll" role="region" aria-labelledby="{{.Anchor}}-caption" tabindex="0">
<table aria-labelledby="{{.Anchor}}-caption">
<thead><tr>{{range .Columns}}<th scope="col">{{.}}</th>{{end}}</tr></thead>
<tbody>
{{- range .Rows}}
<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{- end}}
</tbody>
</table>
</div>
{{- else}}
<p>{{$.L.T "report.no_records"}}</p>
{{- end}}
</section>
{{- end}}
</main>
</body>
</html>
`))
