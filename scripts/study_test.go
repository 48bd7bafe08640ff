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

// TestPaperScaleScript runs scripts/paper-scale.sh on a tiny campaign (10 +
// 10 + 20 simulations at 16³, 32² images, one epoch of a small network) and
// checks its table: one row per stage, in order, each with a wall time, a
// CPU time, the peak RSS of a Go program and the disk used, which
// grows once the snapshots and the cache are written; and that the
// report was written with HOG + SVM fitted on every training vector.
func TestPaperScaleScript(t *testing.T) {
	if testing.Short() {
		t.Skip("the paper-scale script takes a minute")
	}
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		t.Skip("needs GNU time (Debian package time)")
	}
	out := t.TempDir()
	runScript(t, []string{"GRID=16", "SIZE=32", "EPOCHS=1", "KOLMOGOROV=10", "BURGERS=10", "SWEEP=20",
		"NET=--filters 4,4,4,4 --dense 8,8", "SVM_CACHE=50", "OUT=" + out, "BIN=" + filepath.Join(out, "bin")}, "paper-scale.sh")
	b, err := os.ReadFile(filepath.Join(out, "table.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	want := []string{"plan", "simulate (40 at 16³)", "image cache (32²)", "train fit classify (1 epochs)", "train eval classify",
		"train fit regress (1 epochs)", "train eval regress", "train embed", "analysis run"}
	if len(lines) != len(want)+1 || lines[0] != "stage\twall_s\tcpu_s\tpeak_rss_mib\tdisk_mib" {
		t.Fatalf("table:\n%s", b)
	}
	var disk []float64
	for i, l := range lines[1:] {
		f := strings.Split(l, "\t")
		if len(f) != 5 || f[0] != want[i] {
			t.Errorf("row %d: %q, want stage %q and 4 figures", i, l, want[i])
			continue
		}
		v := make([]float64, 4)
		for k := range v {
			if v[k], err = strconv.ParseFloat(f[k+1], 64); err != nil || v[k] < 0 {
				t.Errorf("row %q: column %d is %q", l, k+1, f[k+1])
			}
		}
		if v[2] < 1 {
			t.Errorf("row %q: peak RSS %g MiB is not that of a Go program", l, v[2])
		}
		disk = append(disk, v[3])
	}
	if len(disk) == len(want) && !(disk[2] > disk[0]) {
		t.Errorf("disk used after the plan %g MiB, after the cache %g MiB: the snapshots and cache were not counted", disk[0], disk[2])
	}
	params, err := os.ReadFile(filepath.Join(out, "report", "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(params), "fitted on all") {
		t.Errorf("the report does not say the SVM was fitted on every training vector:\n%.2000s", params)
	}
}
