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
		Tables:  []Table{{Title: "Classification", Columns: []string{"accuracy", "auc"}, Rows: []Row{{"HOG+SVM", map[string]float64{"accuracy": 0.77, "auc": 0.8}}}}},
		Figures: []Figure{{"roc.png", "ROC curves"}},
	}
	if err := Write(dir, r); err != nil {
		t.Fatal(err)
	}
	html, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	for _, want := range []string{`<img src="roc.png"`, "<td>HOG&#43;SVM</td><td>0.77</td><td>0.8</td>", "&lt;b&gt;"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("index.html lacks %q:\n%s", want, html)
		}
	}
	var back Report
	raw, _ := os.ReadFile(filepath.Join(dir, "metrics.json"))
	if err := json.Unmarshal(raw, &back); err != nil || back.Tables[0].Rows[0].Values["accuracy"] != 0.77 {
		t.Errorf("metrics.json: %v %+v", err, back)
	}
	r.Figures = append(r.Figures, Figure{"missing.png", "x"})
	if err := Write(dir, r); err == nil || !strings.Contains(err.Error(), "missing.png") {
		t.Errorf("missing figure: %v", err)
	}
}
