// Package report writes the study's report: metrics.json with every number
// and index.html, one self-contained page (no network access needed) that
// shows every figure and table with the run's parameters and code version.
package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"sort"

	"github.com/turbindex/turbindex/internal/atomicfile"
)

// Figure is an image file in the report directory and its caption.
type Figure struct {
	File    string `json:"file"`
	Caption string `json:"caption"`
}

// Row is one line of a results table. A row with a Warning failed a
// sanity check (for instance a classifier scoring below chance): its
// values stay in metrics.json for diagnosis, but the page shows the
// warning in their place, so that they are not read as a result.
type Row struct {
	Method  string             `json:"method"`
	Values  map[string]float64 `json:"values"`
	Warning string             `json:"warning,omitempty"`
}

// Table is a titled table of results; Columns orders the values.
type Table struct {
	Title   string   `json:"title"`
	Columns []string `json:"columns"`
	Rows    []Row    `json:"rows"`
}

// Report is everything the page shows; it is also metrics.json.
type Report struct {
	Title       string            `json:"title"`
	CodeVersion string            `json:"code_version"`
	Created     string            `json:"created"`
	Parameters  map[string]string `json:"parameters"`
	// Headline are the sentences that sum up the results, shown first.
	Headline []string `json:"headline,omitempty"`
	Tables   []Table  `json:"tables"`
	Figures  []Figure `json:"figures"`
	Notes    []string `json:"notes,omitempty"`
}

// Write writes metrics.json and index.html into dir. Every figure must
// exist in dir: a page that references a missing image is an error.
func Write(dir string, r Report) error {
	for _, f := range r.Figures {
		if _, err := os.Stat(filepath.Join(dir, f.File)); err != nil {
			return fmt.Errorf("report: figure %s: %w", f.File, err)
		}
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, "metrics.json"), js, []byte("\n")); err != nil {
		return err
	}
	var b bytes.Buffer
	if err := page.Execute(&b, view(r)); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return atomicfile.WriteBytes(filepath.Join(dir, "index.html"), b.Bytes())
}

type paramView struct{ Key, Value string }

type tableView struct {
	Title   string
	Columns []string
	Rows    []rowView
}

// rowView is a table row as shown: the method and its cells, or the
// method and a warning spanning the value columns.
type rowView struct {
	Method  string
	Cells   []string
	Warning string
}

func view(r Report) map[string]any {
	var params []paramView
	for k, v := range r.Parameters {
		params = append(params, paramView{k, v})
	}
	sort.Slice(params, func(i, j int) bool { return params[i].Key < params[j].Key })
	var tables []tableView
	for _, t := range r.Tables {
		tv := tableView{Title: t.Title, Columns: t.Columns}
		for _, row := range t.Rows {
			rv := rowView{Method: row.Method, Warning: row.Warning}
			if rv.Warning != "" {
				tv.Rows = append(tv.Rows, rv)
				continue
			}
			for _, c := range t.Columns {
				if v, ok := row.Values[c]; ok {
					rv.Cells = append(rv.Cells, fmt.Sprintf("%.4g", v))
				} else {
					rv.Cells = append(rv.Cells, "—")
				}
			}
			tv.Rows = append(tv.Rows, rv)
		}
		tables = append(tables, tv)
	}
	return map[string]any{"R": r, "Params": params, "Tables": tables}
}

var page = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.R.Title}}</title>
<style>
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.7em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { display: inline-block; width: 48%; margin: 0.5%; vertical-align: top; }
figure img { width: 100%; }
figcaption { font-size: 0.9em; color: #555; }
.meta { font-size: 0.85em; color: #666; }
p.headline { font-size: 1.1em; font-weight: bold; }
tr.warn td { background: #fde2e1; color: #8a1c14; text-align: left; }
</style>
</head>
<body>
<h1>{{.R.Title}}</h1>
<p class="meta">code version {{.R.CodeVersion}} · {{.R.Created}}</p>
{{range .R.Headline}}<p class="headline">{{.}}</p>
{{end}}{{range $t := .Tables}}<h2>{{.Title}}</h2>
<table>
<tr><th>method</th>{{range .Columns}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}{{if .Warning}}<tr class="warn"><td>{{.Method}}</td><td colspan="{{len $t.Columns}}">⚠ not a result: {{.Warning}}</td></tr>
{{else}}<tr><td>{{.Method}}</td>{{range .Cells}}<td>{{.}}</td>{{end}}</tr>
{{end}}{{end}}</table>
{{end}}<h2>Figures</h2>
{{range .R.Figures}}<figure><img src="{{.File}}" alt="{{.Caption}}"><figcaption>{{.Caption}}</figcaption></figure>
{{end}}{{if .R.Notes}}<h2>Notes</h2><ul>{{range .R.Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
<h2>Parameters</h2>
<table>{{range .Params}}<tr><td>{{.Key}}</td><td>{{.Value}}</td></tr>
{{end}}</table>
</body>
</html>
`))
