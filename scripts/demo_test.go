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
// and metrics exist and agree with what the demo printed; then reruns it
// and checks that finished work is reused.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo takes about a minute")
	}
	out := t.TempDir()
	env := append(os.Environ(), "DEMO_GRID=32", "DEMO_SIMS=16", "DEMO_EPOCHS=2", "DEMO_TRIALS=2", "DEMO_OUT="+out, "BIN="+filepath.Join(out, "bin"))
	run := func() string {
		cmd := exec.Command("bash", "demo.sh")
		cmd.Env = env
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("demo.sh: %v\n%s", err, b)
		}
		return string(b)
	}
	stdout := run()
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
	// compares the three) and two CNNs trained with augmentation.
	if len(metrics.Tables[0].Rows) != 11 {
		t.Errorf("%d classifiers in the report, want 11", len(metrics.Tables[0].Rows))
	}
	// The transfer study (3 fractions × 2 starts) and the search (2 trials, the winner on the
	// holdout) are in the report.
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
	protocols := false
	for _, tb := range metrics.Tables {
		if strings.HasPrefix(tb.Title, "CNN protocols") {
			protocols = len(tb.Rows) == 3
		}
	}
	if !protocols || len(metrics.Headline) == 0 {
		t.Errorf("no protocols table of three runs, or no headline: %+v", metrics)
	}
	for _, f := range []string{"search/winner.json", "search/summary.csv", "cnn-classify/metrics.json", "cnn-classify/roc.png", "cnn-classify/sweep.png", "cnn-classify/reliability.png",
		"cnn-image/metrics.json", "cnn-keras8/metrics.json", "cnn-regress/regress.png", "cnn-classify/saliency.png", "report/reliability.png", "report/zoom.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	// predict, the autoencoder and realism on a holdout map and a synthetic one.
	for _, name := range []string{"synthetic"} {
		for _, f := range []string{"predictions.csv", "summary.json", "map.png", "realism.json"} {
			if _, err := os.Stat(filepath.Join(out, "observe", name, f)); err != nil {
				t.Error(err)
			}
		}
	}
	if strings.Count(stdout, "tiles' reconstruction errors at percentiles") != 2 || !strings.Contains(stdout, "the map is unlike the simulations") || strings.Count(stdout, "realism: cross-validated AUC") != 2 {
		t.Errorf("the demo did not print predict's autoencoder check and realism for two maps:\n%s", stdout)
	}
	// A second run reuses the snapshots and the trained models.
	simulated := func() int {
		b, _ := os.ReadFile(filepath.Join(out, "sim.log"))
		return strings.Count(string(b), "simulation done")
	}
	before := simulated()
	again := run()
	if strings.Count(again, "trained already") != 6 || simulated() != before || before != 48 {
		t.Errorf("the rerun redid finished work (%d simulations logged, then %d):\n%s", before, simulated(), again)
	}
}
