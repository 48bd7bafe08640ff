package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/turbindex/turbindex/analysis/resolution"
	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/train/cnn"
	"github.com/turbindex/turbindex/train/dataset"
	"github.com/turbindex/turbindex/train/experiment"
)

// TestResolutionMemory runs `analysis resolution` on the same campaign of
// 16 Kolmogorov and 16 Burgers simulations at N = 16 and 32, most of them
// in the holdout (22 simulations, 1056 images a grid), with a (random)
// classifier of 160² images at N = 16, and compares the peak resident set
// with the estimate it checks against the budget (resolution.Memory):
// within 25 %, and below the pixels of the two holdouts at 160², which the
// study held at once before it streamed them. A budget below the estimate
// is refused on one line, before anything is written.
func TestResolutionMemory(t *testing.T) {
	dir := t.TempDir()
	const size = 160
	var cs []resolution.Campaign
	var flags []string
	holdout := 0
	for _, n := range []int{16, 32} {
		d := filepath.Join(dir, strconv.Itoa(n))
		mpath, snaps, m := campaignIn(t, d, campaign.PlanOptions{Preset: "demo", CampaignSeed: 5, Grid: n, Kolmogorov: 16, Burgers: 16, Sweep: 0, Train: 0.2, Test: 0.1}, true)
		for _, r := range m.Rows {
			if r.Split == campaign.Holdout {
				holdout++
			}
		}
		c := resolution.Campaign{Manifest: mpath, Snapshots: snaps}
		if n == 16 {
			c.Run = filepath.Join(d, "cnn")
			cfg := experiment.Config{Task: experiment.Classify, Manifest: mpath, Snapshots: snaps, ImageSize: size, Normalise: dataset.PerImageStats, Epochs: 1, Seed: 1,
				CNN: cnn.Config{Task: cnn.TaskClassify, ImageSize: size, Filters: []int{4, 4, 4, 4}, Dense: []int{8, 8}, LearnRate: 1e-3, Batch: 32, Seed: 1}}
			writeRun(t, c.Run, cfg)
		}
		cs = append(cs, c)
		flags = append(flags, "--campaign", strings.Join([]string{c.Manifest, c.Snapshots, c.Run}, ","))
	}
	out := filepath.Join(dir, "report")
	_, stderr, code := run(t, append(append([]string{"resolution"}, flags...), "--image-size", strconv.Itoa(size), "--out", out, "--memory", "1M")...)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	last := lines[len(lines)-1]
	if code != 2 || !strings.HasPrefix(last, "analysis resolution: ") || !strings.Contains(last, "needs") || !strings.Contains(last, "--memory") {
		t.Errorf("--memory 1M: exit %d, %q; want 2 and one line saying need, have and remedy", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a refused study wrote %s", out)
	}
	cmd := exec.Command(bin, append(append([]string{"resolution"}, flags...), "--image-size", strconv.Itoa(size), "--out", out)...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("resolution: %v: %s", err, errb.String())
	}
	peak := peakRSS(cmd)
	est, err := resolution.Memory(resolution.Options{Campaigns: cs, ImageSize: size, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	pixels := float64(holdout*dataset.PerSnapshot) * 4 * size * size
	t.Logf("%d holdout images of %d² (%.0f MB of pixels): estimate %.0f MB, peak RSS %.0f MB (%+.0f %%)",
		holdout*dataset.PerSnapshot, size, pixels/1e6, float64(est)/1e6, peak/1e6, 100*(float64(est)/peak-1))
	if e := float64(est); e < 0.75*peak || e > 1.25*peak {
		t.Errorf("estimate %.0f MB, measured peak %.0f MB: more than 25 %% apart", e/1e6, peak/1e6)
	}
	if peak >= pixels {
		t.Errorf("peak %.0f MB: not below the %.0f MB of pixels of the two holdouts", peak/1e6, pixels/1e6)
	}
}

// writeRun writes a run directory of cfg with a best model as initialised
// (untrained): what `analysis resolution` needs of a run.
func writeRun(t *testing.T, dir string, cfg experiment.Config) {
	t.Helper()
	model, err := cnn.New(cfg.CNN)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := experiment.WriteConfig(dir, cfg); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "best.cnn"))
	if err != nil {
		t.Fatal(err)
	}
	if err := model.Save(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
