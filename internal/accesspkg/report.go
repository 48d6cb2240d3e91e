package accesspkg

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"io"

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
h1{font-size:1.8rem}h2{font-size:1.4rem;margin-top:2.5rem;border-top:1px solid #ccc;padding-top:1rem}
dt{font-weight:600;margin-top:.6rem}dd{margin-left:0}dd ul{margin:.2rem 0;padding-left:1.2rem}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin-top:1rem;font-size:.9rem}
caption{text-align:left;font-weight:600;padding:.4rem 0}
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
	Truncated  bool
	Recipients []reportRecipient
}

type reportRecipient struct {
	registry.Recipient
	RoleLabel string
}

type reportData struct {
	Manifest
	CSP     string
	Style   template.CSS
	When    string
	Sources []reportSource
	MaxRows int
}

// shown is what the report shows of one source: the columns of all its
// records and the first MaxReportRows of them.
type shown struct {
	columns []string
	records []map[string]any
}

func writeReport(w io.Writer, m Manifest, parts []shown) error {
	d := reportData{
		Manifest: m,
		CSP:      "default-src 'none'; style-src '" + styleHash + "'; base-uri 'none'; form-action 'none'",
		Style:    template.CSS(reportStyle),
		When:     m.GeneratedAt.Format("2 January 2006, 15:04 UTC"),
		MaxRows:  MaxReportRows,
	}
	for i, ms := range m.Sources {
		records := parts[i].records
		rs := reportSource{ManifestSource: ms, Title: ms.Description, Anchor: "source-" + ms.ID, Columns: parts[i].columns,
			Truncated: ms.Records > len(records)}
		if rs.Title == "" {
			rs.Title = ms.ID
		}
		for _, r := range records {
			row := make([]string, len(rs.Columns))
			for j, c := range rs.Columns {
				row[j] = Text(r[c])
			}
			rs.Rows = append(rs.Rows, row)
		}
		for _, r := range ms.Recipients {
			rs.Recipients = append(rs.Recipients, reportRecipient{Recipient: r, RoleLabel: registry.RoleLabel(r.Role)})
		}
		d.Sources = append(d.Sources, rs)
	}
	return report.Execute(w, d)
}

var report = template.Must(template.New(ReportFile).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="referrer" content="no-referrer">
<title>Your personal data – request {{.RequestID}}</title>
<style>{{.Style}}</style>
</head>
<body>
<main>
<h1>Your personal data</h1>
<p>This is a copy of the personal data we hold about you, made for your request <strong>{{.RequestID}}</strong> on <time datetime="{{.GeneratedAt.Format "2006-01-02T15:04:05Z07:00"}}">{{.When}}</time>.
For each place where we keep data about you it says what kinds of data it holds, why we use them, who receives them and how long we keep them, and then shows the records.</p>
<p>The package also holds the same records in files a program can read: <a href="json/">json/</a> (one JSON file per place, exact values) and <a href="csv/">csv/</a> (one CSV file per place, for spreadsheets; text that a spreadsheet would treat as a formula starts with an apostrophe). <a href="manifest.json">manifest.json</a> lists the files and the facts on this page.</p>
<nav aria-labelledby="contents">
<h2 id="contents">Contents</h2>
<ul>
{{- range .Sources}}
<li><a href="#{{.Anchor}}">{{.Title}}</a>: {{if .File}}a file exported from the system{{else}}{{.Records}} record{{if ne .Records 1}}s{{end}}{{end}}</li>
{{- end}}
</ul>
</nav>
{{- range .Sources}}
<section aria-labelledby="{{.Anchor}}">
<h2 id="{{.Anchor}}">{{.Title}}</h2>
<dl>
<dt>Records about you</dt>
<dd>{{if .File}}in the file below, as the system's owner exported them{{else}}{{.Records}}{{end}}</dd>
{{- if .Unreadable}}
<dt>Not read</dt>
<dd>{{.Unreadable}} record{{if ne .Unreadable 1}}s or files{{else}} or file{{end}} here may hold data about you but could not be read; our staff are checking {{if ne .Unreadable 1}}them{{else}}it{{end}} by hand.</dd>{{end}}
<dt>Kinds of personal data</dt>
<dd><ul>{{range .Categories}}<li>{{.Label}}</li>{{end}}</ul></dd>
<dt>Why we use it</dt>
<dd><ul>{{range .Purposes}}<li>{{.}}</li>{{end}}</ul></dd>
<dt>Who receives it</dt>
<dd>{{if .Recipients}}<ul>{{range .Recipients}}<li>{{.Name}} ({{.RoleLabel}}{{if .Country}}, in {{.Country}}{{end}}){{if .Safeguards}}; safeguards: {{.Safeguards}}{{end}}</li>{{end}}</ul>{{else}}No one outside our company.{{end}}</dd>
<dt>How long we keep it</dt>
<dd>{{with .Retention.Period}}{{.}}{{end}}{{if and .Retention.Period .Retention.Criteria}}, {{end}}{{with .Retention.Criteria}}{{.}}{{end}}</dd>
{{- if .File}}
<dt>File</dt>
<dd><a href="{{.File}}">{{.File}}</a></dd>
{{- else if .JSONFile}}
<dt>Files</dt>
<dd><a href="{{.JSONFile}}">{{.JSONFile}}</a>, <a href="{{.CSVFile}}">{{.CSVFile}}</a></dd>
{{- end}}
</dl>
{{- if .File}}
<p>Our staff exported your data from this system into <a href="{{.File}}">{{.File}}</a>.</p>
{{- else if .Rows}}
<div class="scroll" role="region" aria-labelledby="{{.Anchor}}-caption" tabindex="0">
<table>
<caption id="{{.Anchor}}-caption">Your records in {{.Title}}{{if .Truncated}} (the first {{$.MaxRows}} of {{.Records}}; the files hold all of them){{end}}</caption>
<thead><tr>{{range .Columns}}<th scope="col">{{.}}</th>{{end}}</tr></thead>
<tbody>
{{- range .Rows}}
<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{- end}}
</tbody>
</table>
</div>
{{- else}}
<p>We hold no records about you here.</p>
{{- end}}
</section>
{{- end}}
</main>
</body>
</html>
`))
