package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/train/cnn"
	"github.com/turbindex/turbindex/train/dataset"
	"github.com/turbindex/turbindex/train/experiment"
)

// smallCampaign plans and runs 4 Kolmogorov and 4 Burgers simulations at
// 16³ (paper preset splits: 4 train, 2 test, 2 holdout) and returns the
// manifest and the snapshot directory.
func smallCampaign(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	m, snaps := filepath.Join(dir, "m.csv"), filepath.Join(dir, "snaps")
	if _, stderr, code := run(t, "sim", "plan", "--preset", "demo", "--grid", "16", "--kolmogorov", "4", "--burgers", "4", "--sweep", "0", "--out", m); code != 0 {
		t.Fatal(stderr)
	}
	if _, stderr, code := run(t, "sim", "task", "--manifest", m, "--outdir", snaps, "--task-id", "0", "--per-task", "8"); code != 0 {
		t.Fatal(stderr)
	}
	return m, snaps
}

// TestFitMemoryEstimate trains one epoch at two image sizes and compares
// each run's peak resident set (the child's ru_maxrss) with the estimate
// that `train fit` checks against the budget: within 25 %.
func TestFitMemoryEstimate(t *testing.T) {
	mpath, snaps := smallCampaign(t)
	m, err := campaign.ReadFile(mpath)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{64, 160} {
		out := filepath.Join(t.TempDir(), "run")
		cmd := exec.Command(bins["train"], "fit", "--manifest", mpath, "--snapshots", snaps, "--task", "classify",
			"--epochs", "1", "--image-size", strconv.Itoa(size), "--out", out, "--log-every", "1h")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%d²: %v: %s", size, err, stderr.String())
		}
		peak := float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) * 1024
		cfg, err := experiment.ReadConfig(out)
		if err != nil {
			t.Fatal(err)
		}
		est := float64(experiment.FitMemory(cfg, size, splitRows(m, campaign.Train), splitRows(m, campaign.Test)))
		t.Logf("%d²: estimate %.0f MB, peak RSS %.0f MB (%+.0f %%)", size, est/1e6, peak/1e6, 100*(est/peak-1))
		if est < 0.75*peak || est > 1.25*peak {
			t.Errorf("%d²: estimate %.0f MB, measured peak %.0f MB: more than 25 %% apart", size, est/1e6, peak/1e6)
		}
	}
}

// TestFitRefusals checks that runs over the memory budget, or with sizes no
// machine could hold, are refused with exit status 2 and one line saying
// need, have and remedy, before any run directory or cache is written.
func TestFitRefusals(t *testing.T) {
	mpath, snaps := smallCampaign(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--memory", "20M"}, []string{"needs", "may use 20 MiB (--memory)", "--batch"}},
		{[]string{"--image-size", "100000"}, []string{"100000² images", "needs"}},
		{[]string{"--image-size", "2147483647"}, []string{"needs"}},
		{[]string{"--batch", "1000000000"}, []string{"batches of 1000000000", "needs"}},
	} {
		out := filepath.Join(dir, "run")
		args := append([]string{"fit", "--manifest", mpath, "--snapshots", snaps, "--out", out, "--cache", filepath.Join(dir, "cache")}, tc.args...)
		_, stderr, code := run(t, "train", args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		last := lines[len(lines)-1] // the error; log lines (the device chosen) may come before
		if code != 2 || !strings.HasPrefix(last, "train fit: ") {
			t.Errorf("%v: exit %d, %q; want 2 and the error on one line", tc.args, code, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(last, w) {
				t.Errorf("%v: %q does not say %q", tc.args, last, w)
			}
		}
		for _, p := range []string{out, filepath.Join(dir, "cache")} {
			if _, err := os.Stat(p); err == nil {
				t.Errorf("%v: %s was created", tc.args, p)
			}
		}
	}
	for _, cmd := range []string{"eval", "embed", "saliency"} {
		_, stderr, code := run(t, "train", cmd, "--run", filepath.Join(dir, "none"), "--memory", "1x")
		if code != 2 || !strings.Contains(stderr, "--memory") {
			t.Errorf("%s --memory 1x: exit %d, %q", cmd, code, stderr)
		}
	}
}

// TestProbeMemoryEstimate probes a (random) classifier of 160² images on a
// campaign of 24 Kolmogorov and 24 Burgers simulations at 16³ — about 2000
// training and holdout images, 0.2 GB of pixels — and compares the peak
// resident set of `train probe` with the estimate it checks against the
// budget (ProbeMemory): within 25 %, and below the pixels of the two
// splits, which a probe holding them whole needed at least.
func TestProbeMemoryEstimate(t *testing.T) {
	dir := t.TempDir()
	mpath, snaps := filepath.Join(dir, "m.csv"), filepath.Join(dir, "snaps")
	if _, stderr, code := run(t, "sim", "plan", "--preset", "demo", "--grid", "16", "--kolmogorov", "24", "--burgers", "24", "--sweep", "0", "--out", mpath); code != 0 {
		t.Fatal(stderr)
	}
	if _, stderr, code := run(t, "sim", "task", "--manifest", mpath, "--outdir", snaps, "--task-id", "0", "--per-task", "48"); code != 0 {
		t.Fatal(stderr)
	}
	m, err := campaign.ReadFile(mpath)
	if err != nil {
		t.Fatal(err)
	}
	const size = 160
	out := filepath.Join(dir, "run")
	cfg := experiment.Config{Task: experiment.Classify, Manifest: mpath, Snapshots: snaps, Cache: filepath.Join(dir, "cache"),
		ImageSize: size, Normalise: dataset.PerImageStats, Epochs: 1, Seed: 1,
		CNN: cnn.Config{Task: cnn.TaskClassify, ImageSize: size, Filters: []int{4, 4, 4, 4}, Dense: []int{8, 8}, LearnRate: 1e-3, Batch: 32, Seed: 1}}
	model, err := cnn.New(cfg.CNN)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(out, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := experiment.WriteConfig(out, cfg); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(out, "best.cnn"))
	if err != nil {
		t.Fatal(err)
	}
	if err := model.Save(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bins["train"], "probe", "--run", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("probe: %v: %s", err, stderr.String())
	}
	peak := float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) * 1024
	train, hold := splitRows(m, campaign.Train), splitRows(m, campaign.Holdout)
	est := float64(experiment.ProbeMemory(cfg, size, train, hold))
	pixels := float64((train+hold)*dataset.PerSnapshot) * 4 * size * size
	t.Logf("%d training and %d holdout images of %d² (%.0f MB of pixels): estimate %.0f MB, peak RSS %.0f MB (%+.0f %%)",
		train*dataset.PerSnapshot, hold*dataset.PerSnapshot, size, pixels/1e6, est/1e6, peak/1e6, 100*(est/peak-1))
	if est < 0.75*peak || est > 1.25*peak {
		t.Errorf("estimate %.0f MB, measured peak %.0f MB: more than 25 %% apart", est/1e6, peak/1e6)
	}
	if peak >= pixels {
		t.Errorf("peak %.0f MB: not below the %.0f MB of pixels of the two splits", peak/1e6, pixels/1e6)
	}
}

// splitRows returns the number of rows of m in split.
func splitRows(m *campaign.Manifest, split string) int {
	n := 0
	for _, r := range m.Rows {
		if r.Split == split {
			n++
		}
	}
	return n
}
