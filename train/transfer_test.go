package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/turbindex/turbindex/train/cnn"
	"github.com/turbindex/turbindex/train/experiment"
)

// tinyCampaign plans and simulates 5 Kolmogorov, 5 Burgers and 6 sweep
// boxes at 16³ (8² images) in dir and returns the manifest and snapshot
// directory.
func tinyCampaign(t *testing.T, dir string) (string, string) {
	t.Helper()
	m, snaps := filepath.Join(dir, "m.csv"), filepath.Join(dir, "snaps")
	if _, stderr, code := run(t, "sim", "plan", "--preset", "demo", "--grid", "16", "--kolmogorov", "5", "--burgers", "5", "--sweep", "6", "--out", m); code != 0 {
		t.Fatal(stderr)
	}
	for k := range 4 {
		if _, stderr, code := run(t, "sim", "task", "--manifest", m, "--outdir", snaps, "--task-id", strconv.Itoa(k), "--per-task", "4"); code != 0 {
			t.Fatal(stderr)
		}
	}
	return m, snaps
}

func loadBest(t *testing.T, run string) *cnn.Model {
	t.Helper()
	f, err := os.Open(filepath.Join(run, "best.cnn"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := cnn.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestTransfer starts a classifier from a regressor's convolution blocks,
// frozen and not, on part of the training simulations, through the
// command line; then runs the transfer study.
func TestTransfer(t *testing.T) {
	dir := t.TempDir()
	m, snaps := tinyCampaign(t, dir)
	small := []string{"--manifest", m, "--snapshots", snaps, "--filters", "4,4", "--dense", "8", "--batch", "16", "--epochs", "2", "--log-every", "0s", "--cache", filepath.Join(dir, "cache")}
	reg := filepath.Join(dir, "reg")
	if _, stderr, code := run(t, "train", append([]string{"fit", "--task", "regress", "--out", reg}, small...)...); code != 0 {
		t.Fatal(stderr)
	}
	source := loadBest(t, reg).ConvWeights()

	for _, freeze := range []string{"conv", ""} {
		cls := filepath.Join(dir, "cls-"+freeze)
		args := append([]string{"fit", "--task", "classify", "--out", cls, "--init-from", reg, "--train-fraction", "0.3"}, small...)
		if freeze != "" {
			args = append(args, "--freeze", freeze)
		}
		if _, stderr, code := run(t, "train", args...); code != 0 {
			t.Fatal(stderr)
		}
		cfg, err := experiment.ReadConfig(cls)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.InitFrom != reg || cfg.CNN.Freeze != freeze || cfg.TrainFraction != 0.3 {
			t.Errorf("config.json: init_from %q, freeze %q, train_fraction %v", cfg.InitFrom, cfg.CNN.Freeze, cfg.TrainFraction)
		}
		got := loadBest(t, cls)
		if got.Steps() == 0 {
			t.Fatal("no training steps")
		}
		// 30 % of 3 training simulations per class: 1 each, 96 images, 6 steps of 16.
		if got.Steps() != 2*6 {
			t.Errorf("%d steps in 2 epochs, want 12 (one training simulation per class)", got.Steps())
		}
		same := slices.EqualFunc(source, got.ConvWeights(), slices.Equal[[]float32])
		if same != (freeze == "conv") {
			t.Errorf("--freeze %q: conv weights equal to the source's = %v", freeze, same)
		}
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--filters", "4,8"}, "the source network has filters 4,4 on 8² images, this one filters 4,8 on 8² images"},
		{[]string{"--filters", "4,4", "--image-size", "16"}, "filters 4,4 on 8² images, this one filters 4,4 on 16² images"},
		{[]string{"--freeze", "dense"}, "--freeze dense"},
		{[]string{"--train-fraction", "1.5"}, "--train-fraction"},
	} {
		out := filepath.Join(dir, "bad")
		args := append(append([]string{"fit", "--task", "classify", "--out", out, "--init-from", reg}, small...), tc.args...)
		_, stderr, code := run(t, "train", args...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q; want an error with %q", tc.args, code, stderr, tc.want)
		}
		os.RemoveAll(out)
	}
	if _, stderr, code := run(t, "train", "fit", "--task", "classify", "--out", filepath.Join(dir, "f"), "--freeze", "conv", "--manifest", m, "--snapshots", snaps); code == 0 || !strings.Contains(stderr, "--init-from") {
		t.Errorf("--freeze without --init-from: exit %d, %s", code, stderr)
	}

	study := filepath.Join(dir, "study")
	stdout, stderr, code := run(t, "train", "transfer", "--source", reg, "--fractions", "0.3,1", "--epochs", "2", "--out", study, "--log-every", "0s")
	if code != 0 {
		t.Fatal(stderr)
	}
	task, rows, err := experiment.ReadTransferCSV(filepath.Join(study, "transfer.csv"))
	if err != nil || task != experiment.Classify || len(rows) != 4 {
		t.Fatalf("transfer.csv: %s %v %v\n%s", task, rows, err, stdout)
	}
	for _, r := range rows {
		if want := map[float64]int{0.3: 2, 1: 6}[r.Fraction]; r.TrainSims != want || r.Score < 0 || r.Score > 1 {
			t.Errorf("row %+v: want %d training simulations and an accuracy", r, want)
		}
	}
	for _, f := range []string{"transfer_curves.csv", "transfer_holdout.png", "transfer_curves.png", "f0.30-transfer/metrics.json", "f1.00-scratch/metrics.json"} {
		if _, err := os.Stat(filepath.Join(study, f)); err != nil {
			t.Error(err)
		}
	}
	// Idempotent: a second run trains nothing and gives the same table.
	before, _ := os.ReadFile(filepath.Join(study, "transfer.csv"))
	hist, _ := os.Stat(filepath.Join(study, "f1.00-transfer", "history.csv"))
	if _, stderr, code := run(t, "train", "transfer", "--source", reg, "--fractions", "0.3,1", "--epochs", "2", "--out", study); code != 0 {
		t.Fatal(stderr)
	}
	after, _ := os.ReadFile(filepath.Join(study, "transfer.csv"))
	hist2, _ := os.Stat(filepath.Join(study, "f1.00-transfer", "history.csv"))
	if string(before) != string(after) || !hist.ModTime().Equal(hist2.ModTime()) {
		t.Errorf("rerun changed the study:\n%s\n%s", before, after)
	}
}
