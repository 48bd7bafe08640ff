// Package scripts_test runs the repository's scripts as a user would.
package scripts_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDemo runs a reduced `make demo` (scripts/demo.sh at 32³, 16
// simulations per class, 2 epochs) and checks that the report, its figures
// and metrics exist and agree with what the demo printed; then runs
// scripts/demo-extras.sh on its campaign and checks that the extras join
// the report and that the demo's finished work is reused.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo takes a few minutes")
	}
	out := t.TempDir()
	env := append(os.Environ(), "DEMO_GRID=32", "DEMO_SIMS=16", "DEMO_EPOCHS=2", "DEMO_TRIALS=2", "DEMO_OUT="+out, "BIN="+filepath.Join(out, "bin"))
	run := func(script string) string {
		cmd := exec.Command("bash", script)
		cmd.Env = env
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", script, err, b)
		}
		return string(b)
	}
	stdout := run("demo.sh")
	report := filepath.Join(out, "report")
	if !strings.Contains(stdout, filepath.Join(report, "index.html")) {
		t.Errorf("the demo did not print the report's path:\n%s", stdout)
	}
	html, err := os.ReadFile(filepath.Join(report, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	imgs := regexp.MustCompile(`<img src="([^"]+)"`).FindAllStringSubmatch(string(html), -1)
	if len(imgs) < 8 {
		t.Errorf("index.html shows %d figures", len(imgs))
	}
	for _, m := range imgs {
		if _, err := os.Stat(filepath.Join(report, m[1])); err != nil {
			t.Errorf("figure %s: %v", m[1], err)
		}
	}
	var metrics struct {
		Headline []string
		Tables   []struct {
			Title string
			Rows  []struct {
				Method  string
				Values  map[string]float64
				Warning string
			}
		}
	}
	raw, err := os.ReadFile(filepath.Join(report, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &metrics); err != nil {
		t.Fatal(err)
	}
	for _, row := range metrics.Tables[0].Rows {
		line := fmt.Sprintf("%-28s accuracy %.3f  AUC %.3f  per simulation %.3f", row.Method, row.Values["accuracy"], row.Values["auc"], row.Values["per_sim_accuracy"])
		if row.Warning != "" {
			line = fmt.Sprintf("%-28s WARNING, not a result: %s", row.Method, row.Warning)
		}
		if !strings.Contains(stdout, line) {
			t.Errorf("headline %q not printed; the demo said:\n%s", line, stdout)
		}
	}
	// HOG+SVM, the power-spectrum slope, three moments, the logistic
	// regression, the CNN under three normalisations (the protocols table
	// compares the three) and the CNN trained on beamed and noisy maps.
	if len(metrics.Tables[0].Rows) != 10 {
		t.Errorf("%d classifiers in the report, want 10", len(metrics.Tables[0].Rows))
	}
	protocols := false
	for _, tb := range metrics.Tables {
		if strings.HasPrefix(tb.Title, "CNN protocols") {
			protocols = len(tb.Rows) == 3
		}
	}
	if !protocols || len(metrics.Headline) == 0 {
		t.Errorf("no protocols table of three runs, or no headline: %+v", metrics)
	}
	for _, f := range []string{"cnn-classify/metrics.json", "cnn-classify/roc.png", "cnn-classify/sweep.png", "cnn-classify/reliability.png",
		"cnn-image/metrics.json", "cnn-keras8/metrics.json", "cnn-regress/regress.png", "cnn-classify/saliency.png", "report/reliability.png", "report/zoom.png",
		"report/beam.png", "report/noise.png", "report/gradient.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	// predict and realism on a holdout map and a synthetic one.
	for _, f := range []string{"predictions.csv", "summary.json", "map.png", "realism.json"} {
		if _, err := os.Stat(filepath.Join(out, "observe", "synthetic", f)); err != nil {
			t.Error(err)
		}
	}
	if strings.Count(stdout, "realism: cross-validated AUC") != 2 {
		t.Errorf("the demo did not print realism for two maps:\n%s", stdout)
	}

	// The extras: zoom augmentation, transfer (3 fractions × 2 starts), the
	// search (2 trials, the winner on the holdout) and the autoencoder join
	// the report, which demo-extras.sh rewrites through demo.sh: that
	// rerun simulates nothing and trains nothing of the demo's again.
	simulated := func() int {
		b, _ := os.ReadFile(filepath.Join(out, "sim.log"))
		return strings.Count(string(b), "simulation done")
	}
	before := simulated()
	stdout = run("demo-extras.sh")
	if strings.Count(stdout, "trained already") != 5 || simulated() != before || before != 48 {
		t.Errorf("the extras redid the demo's finished work (%d simulations logged, then %d):\n%s", before, simulated(), stdout)
	}
	if html, err = os.ReadFile(filepath.Join(report, "index.html")); err != nil {
		t.Fatal(err)
	}
	if raw, err = os.ReadFile(filepath.Join(report, "metrics.json")); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &metrics); err != nil {
		t.Fatal(err)
	}
	if len(metrics.Tables[0].Rows) != 11 {
		t.Errorf("%d classifiers in the report after the extras, want 11", len(metrics.Tables[0].Rows))
	}
	if b, err := os.ReadFile(filepath.Join(out, "transfer", "transfer.csv")); err != nil || strings.Count(string(b), "\n") != 7 {
		t.Errorf("transfer.csv: %v\n%s", err, b)
	}
	for _, f := range []string{"transfer_holdout.png", "transfer_curves.png", "search.png"} {
		if !strings.Contains(string(html), `<img src="`+f+`"`) {
			t.Errorf("the report does not show %s", f)
		}
	}
	if !strings.Contains(string(html), "the winner against the default network on the holdout") {
		t.Error("the report has no search winner against the default network")
	}
	for _, f := range []string{"search/winner.json", "search/summary.csv", "autoencoder/autoencoder.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	if strings.Count(stdout, "tiles' reconstruction errors at percentiles") != 2 || !strings.Contains(stdout, "the map is unlike the simulations") {
		t.Errorf("the extras did not print predict's autoencoder check for two maps:\n%s", stdout)
	}
}
