package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "roc.png"), []byte("png"), 0o644)
	r := Report{
		Title: "t", CodeVersion: "v1", Parameters: map[string]string{"grid": "64", "a": "<b>"},
		Tables: []Table{{Title: "Classification", Columns: []string{"accuracy", "auc"}, Rows: []Row{
			{Method: "HOG+SVM", Values: map[string]float64{"accuracy": 0.77, "auc": 0.8}},
			{Method: "inverted", Values: map[string]float64{"accuracy": 0.31, "auc": 0.2}, Warning: "AUC 0.2 below chance"},
		}}},
		Figures: []Figure{{"roc.png", "ROC curves"}},
	}
	if err := Write(dir, r); err != nil {
		t.Fatal(err)
	}
	html, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	for _, want := range []string{`<img src="roc.png"`, "<td>HOG&#43;SVM</td><td>0.77</td><td>0.8</td>", "&lt;b&gt;",
		`<tr class="warn"><td>inverted</td><td colspan="2">⚠ not a result: AUC 0.2 below chance</td></tr>`} {
		if !strings.Contains(string(html), want) {
			t.Errorf("index.html lacks %q:\n%s", want, html)
		}
	}
	if strings.Contains(string(html), "0.31") {
		t.Errorf("index.html shows the values of a row with a warning")
	}
	var back Report
	raw, _ := os.ReadFile(filepath.Join(dir, "metrics.json"))
	if err := json.Unmarshal(raw, &back); err != nil || back.Tables[0].Rows[0].Values["accuracy"] != 0.77 ||
		back.Tables[0].Rows[1].Warning == "" || back.Tables[0].Rows[1].Values["auc"] != 0.2 {
		t.Errorf("metrics.json: %v %+v", err, back)
	}
	r.Figures = append(r.Figures, Figure{"missing.png", "x"})
	if err := Write(dir, r); err == nil || !strings.Contains(err.Error(), "missing.png") {
		t.Errorf("missing figure: %v", err)
	}
}
