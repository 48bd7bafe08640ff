package scripts_test

import (
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// runScript runs a script of this directory with env added, failing the
// test with its output when it fails.
func runScript(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("bash", args...)
	cmd.Env = append(os.Environ(), env...)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, b)
	}
	return string(b)
}

// readCSV reads a CSV file with a header into records keyed by column.
func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("%s: %v (%d rows)", path, err, len(rows))
	}
	var out []map[string]string
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, c := range rows[0] {
			m[c] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// TestResolutionScript runs scripts/resolution.sh on a tiny study — 32³
// and 64³ trained on (10 + 10 simulations, one epoch), 128³ only tested on
// (its 2 holdout simulations) — and checks that the matrix has
// every train × test cell with an accuracy in [0, 1], and that the spectra
// were written; a rerun trains and simulates nothing again.
func TestResolutionScript(t *testing.T) {
	if testing.Short() {
		t.Skip("the resolution study takes a minute")
	}
	out := t.TempDir()
	env := []string{"RES_GRIDS=32 64", "RES_TEST_GRIDS=128", "RES_SIMS=10", "RES_EPOCHS=1", "RES_IMAGE_SIZE=16",
		"RES_OUT=" + out, "BIN=" + filepath.Join(out, "bin")}
	runScript(t, env, "resolution.sh")
	cells := readCSV(t, filepath.Join(out, "report", "resolution.csv"))
	seen := map[string]bool{}
	for _, c := range cells {
		acc, err := strconv.ParseFloat(c["accuracy"], 64)
		if err != nil || acc < 0 || acc > 1 {
			t.Errorf("cell %v: accuracy %q", c, c["accuracy"])
		}
		seen[c["train_grid"]+"→"+c["test_grid"]] = true
	}
	for _, tr := range []string{"32", "64"} {
		for _, te := range []string{"32", "64", "128"} {
			if !seen[tr+"→"+te] {
				t.Errorf("no cell trained at %s³, tested at %s³: %v", tr, te, seen)
			}
		}
	}
	if len(cells) != 6 {
		t.Errorf("%d cells, want 6", len(cells))
	}
	if _, err := os.Stat(filepath.Join(out, "report", "spectrum.csv")); err != nil {
		t.Error(err)
	}
	again := runScript(t, env, "resolution.sh")
	if strings.Count(again, "trained already") != 2 || strings.Contains(again, "training (") {
		t.Errorf("the rerun trained again:\n%s", again)
	}
}
