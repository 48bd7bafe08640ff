package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/turbindex/turbindex/analysis/study"
	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/internal/resources"
)

// TestRunMemory runs `analysis run` on one campaign of 24 + 24 + 8
// simulations at N = 16 (1 824 training vectors for the SVM) at two image
// sizes, and compares the peak resident set with the estimate it checks
// against the budget (study.Memory): within 25 % at each. The kernel cache
// is 8 MiB, which SMO fills: the estimate counts a cache as full, and a fit
// on a few thousand vectors leaves most of a larger one empty (at the
// paper's 38 400 it filled the whole matrix, docs/SCALING.md). A budget
// below the estimate is refused on one line before anything is written.
func TestRunMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the analysis twice on 56 simulations")
	}
	dir := t.TempDir()
	mpath, snaps, m := campaignIn(t, dir, campaign.PlanOptions{Preset: "demo", CampaignSeed: 7, Grid: 16, Kolmogorov: 24, Burgers: 24, Sweep: 8}, true)
	const budget = 2 << 30
	// Few degradation levels: they recompute the holdout's features, time
	// that the estimate does not depend on.
	flags := []string{"--manifest", mpath, "--snapshots", snaps, "--memory", strconv.Itoa(budget>>20) + "M",
		"--beam", "2", "--snr", "10", "--gradient", "1", "--zoom", "0.5,1", "--svm-subsample", "600", "--svm-cache", "8", "--tsne-points", "500"}
	out := filepath.Join(dir, "refused")
	_, stderr, code := run(t, append(append([]string{"run"}, flags...), "--image-size", "64", "--out", out, "--memory", "1M")...)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if last := lines[len(lines)-1]; code != 2 || !strings.HasPrefix(last, "analysis run: ") || !strings.Contains(last, "needs") || !strings.Contains(last, "--memory") {
		t.Errorf("--memory 1M: exit %d, %q; want 2 and one line saying need, have and remedy", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a refused analysis wrote %s", out)
	}
	for _, size := range []int{64, 160} {
		o := study.Defaults()
		o.Manifest, o.Snapshots = mpath, snaps
		o.SVMSubsample, o.SVMCacheMB, o.TSNEPoints = 600, 8, 500
		o.Limits = &resources.Limits{Memory: budget}
		est := study.Memory(o, m, size)
		cmd := exec.Command(bin, append(append([]string{"run"}, flags...), "--image-size", strconv.Itoa(size), "--out", filepath.Join(dir, strconv.Itoa(size)))...)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("analysis run at %d²: %v: %s", size, err, errb.String())
		}
		peak := peakRSS(cmd)
		t.Logf("%d²: estimate %.0f MB, peak RSS %.0f MB (%+.0f %%)", size, float64(est)/1e6, peak/1e6, 100*(float64(est)/peak-1))
		if e := float64(est); e < 0.75*peak || e > 1.25*peak {
			t.Errorf("%d²: estimate %.0f MB, measured peak %.0f MB: more than 25 %% apart", size, e/1e6, peak/1e6)
		}
	}
}
