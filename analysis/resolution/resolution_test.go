package resolution

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/sim/driver"
	"github.com/turbindex/turbindex/train/cnn"
	"github.com/turbindex/turbindex/train/experiment"
)

// TestRun simulates the same small campaign at N = 16 and 32, trains a
// tiny CNN at each, and checks the study: the two campaigns share their
// seeds (the same initial conditions), every cell of the 2 × 2 matrix is
// there, and the spectra behave as resolution says they must — the finer
// grid reaches twice the wavenumber, and at the largest scales, which both
// grids resolve, the same initial conditions give the same power to within
// a factor 2.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	var cs []Campaign
	var seeds [][]uint64
	for _, n := range []int{16, 32} {
		m, err := campaign.Plan(campaign.PlanOptions{Preset: "demo", CampaignSeed: 5, Grid: n, Kolmogorov: 3, Burgers: 3})
		if err != nil {
			t.Fatal(err)
		}
		d := filepath.Join(dir, strconv.Itoa(n))
		os.MkdirAll(filepath.Join(d, "snaps"), 0o777)
		mpath := filepath.Join(d, "m.csv")
		if err := campaign.WriteFile(mpath, m, false); err != nil {
			t.Fatal(err)
		}
		var s []uint64
		for _, row := range m.Rows {
			s = append(s, row.Seed)
			if _, err := driver.Run(context.Background(), driver.Turbulence(m.Run(row), campaign.SnapshotPath(filepath.Join(d, "snaps"), row.ID)), driver.Options{}); err != nil {
				t.Fatal(err)
			}
		}
		seeds = append(seeds, s)
		run := filepath.Join(d, "cnn")
		cfg := experiment.Config{Task: experiment.Classify, Manifest: mpath, Snapshots: filepath.Join(d, "snaps"), ImageSize: 8, Epochs: 1, Seed: 1,
			CNN: cnn.Config{Task: cnn.TaskClassify, ImageSize: 8, Filters: []int{4, 4}, Dense: []int{8}, LearnRate: 1e-3, Batch: 16, Seed: 1}}
		if err := experiment.Fit(context.Background(), run, cfg, experiment.FitOptions{}); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, Campaign{Manifest: mpath, Snapshots: filepath.Join(d, "snaps"), Run: run})
	}
	for i := range seeds[0] {
		if seeds[0][i] != seeds[1][i] {
			t.Fatalf("row %d: seed %d at N = 16, %d at N = 32: the same campaign seed must give the same initial conditions", i, seeds[0][i], seeds[1][i])
		}
	}
	out := filepath.Join(dir, "report")
	cells, err := Run(Options{Campaigns: []Campaign{cs[1], cs[0]}, ImageSize: 8, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	if len(cells) != 4 {
		t.Fatalf("%d cells, want 2 × 2", len(cells))
	}
	for _, c := range cells {
		if c.Accuracy < 0 || c.Accuracy > 1 || c.Images != 96 {
			t.Errorf("%+v", c)
		}
	}
	for _, f := range []string{"resolution.csv", "resolution.png", "spectrum.csv", "spectrum.png", "index.html", "metrics.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	raw, err := os.ReadFile(filepath.Join(out, "spectrum.csv"))
	if err != nil {
		t.Fatal(err)
	}
	type pt struct{ k, p float64 }
	spec := map[string][]pt{}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n")[1:] {
		f := strings.Split(line, ",")
		k, _ := strconv.ParseFloat(f[2], 64)
		p, _ := strconv.ParseFloat(f[3], 64)
		spec[f[0]+"/"+f[1]] = append(spec[f[0]+"/"+f[1]], pt{k, p})
	}
	for _, class := range []string{campaign.Kolmogorov, campaign.Burgers} {
		lo, hi := spec["16/"+class], spec["32/"+class]
		if len(lo) != 4 || len(hi) != 8 {
			t.Fatalf("%s: %d and %d shells, want N/4 = 4 and 8", class, len(lo), len(hi))
		}
		if r := hi[len(hi)-1].k / lo[len(lo)-1].k; math.Abs(r-2) > 0.1 {
			t.Errorf("%s: the finest scale of N = 32 is %.3g × that of N = 16, want 2", class, r)
		}
		// Both images are 5 pc wide: shell 1 is the same k in 1/pc.
		if math.Abs(lo[0].k/hi[0].k-1) > 1e-9 {
			t.Errorf("%s: k %g at N = 16, %g at N = 32", class, lo[0].k, hi[0].k)
		}
		if r := lo[0].p / hi[0].p; r < 0.5 || r > 2 {
			t.Errorf("%s: power at k = %.2g/pc differs by a factor %.2f between N = 16 and 32 (same initial conditions)", class, lo[0].k, r)
		}
	}
	if _, err := Run(Options{Campaigns: cs[:1], Out: out}); err == nil {
		t.Error("one campaign accepted")
	}
	if _, err := Run(Options{Campaigns: []Campaign{cs[0], cs[0]}, Out: out}); err == nil {
		t.Error("two campaigns at the same N accepted")
	}
}
