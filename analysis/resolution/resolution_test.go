package resolution

import (
	"context"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/turbindex/turbindex/analysis/spectrum"
	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/internal/resources"
	"github.com/turbindex/turbindex/sim/driver"
	"github.com/turbindex/turbindex/train/cnn"
	"github.com/turbindex/turbindex/train/dataset"
	"github.com/turbindex/turbindex/train/experiment"
	"github.com/turbindex/turbindex/train/metrics"
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
	// The streamed study equals the one that held the holdouts whole.
	o := Options{Campaigns: []Campaign{cs[1], cs[0]}, ImageSize: 8, Out: out}
	wantCells, wantSpectra := inMemory(t, o)
	if len(wantCells) != len(cells) {
		t.Fatalf("%d cells, %d in memory", len(cells), len(wantCells))
	}
	for i := range cells {
		if cells[i] != wantCells[i] {
			t.Errorf("cell %d: streamed %+v, in memory %+v", i, cells[i], wantCells[i])
		}
	}
	gs, err := grids(o, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		got, err := spectra(g, g.cache(o.cacheDir()), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, wantSpectra[g.n]) {
			t.Errorf("N = %d: streamed spectra %v, in memory %v", g.n, got, wantSpectra[g.n])
		}
	}
	lim := resources.Limits{Memory: 1 << 20, MemorySource: "--memory"}
	refused := filepath.Join(dir, "refused")
	if _, err := Run(Options{Campaigns: cs, ImageSize: 8, Out: refused, Limits: &lim}); !resources.IsTooBig(err) {
		t.Errorf("a study over a 1 MiB budget: %v, want a *resources.TooBigError", err)
	}
	if _, err := os.Stat(refused); err == nil {
		t.Error("a refused study wrote its report directory")
	}
	if _, err := Run(Options{Campaigns: cs[:1], Out: out}); err == nil {
		t.Error("one campaign accepted")
	}
	if _, err := Run(Options{Campaigns: []Campaign{cs[0], cs[0]}, Out: out}); err == nil {
		t.Error("two campaigns at the same N accepted")
	}
}

// inMemory is the study as Run computed it before it streamed: every
// grid's holdout loaded whole (dataset.Load, no image cache) at the common
// size, each CNN applied to it at once (experiment.PredictImages), and the
// spectra summed over the holdout loaded whole at its native size. It
// returns the cells and each grid's spectra, the reference for the
// streamed study.
func inMemory(t *testing.T, o Options) ([]Cell, map[int]map[string][2][]float64) {
	t.Helper()
	gs, err := grids(o, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	size := imageSize(o, gs)
	hold := map[int][]dataset.Image{}
	specs := map[int]map[string][2][]float64{}
	for _, g := range gs {
		opt := dataset.Options{Splits: []string{campaign.Holdout}, Classes: holdoutClasses()}
		native, err := dataset.Load(g.m, g.c.Snapshots, opt)
		if err != nil {
			t.Fatal(err)
		}
		side := g.boxPc / 2
		sum, count := map[string][]float64{}, map[string]int{}
		var kk []float64
		for _, im := range native.Images {
			if im.Label.Flip != 0 {
				continue
			}
			k, pw, err := spectrum.Shells(im.Pix, im.Size, "hann")
			if err != nil {
				t.Fatal(err)
			}
			kk = k
			if sum[im.Label.Class] == nil {
				sum[im.Label.Class] = make([]float64, len(pw))
			}
			for i, v := range pw {
				sum[im.Label.Class][i] += v
			}
			count[im.Label.Class]++
		}
		pixel := side / float64(g.n/2)
		specs[g.n] = map[string][2][]float64{}
		for class, s := range sum {
			x, y := make([]float64, len(s)), make([]float64, len(s))
			for i := range s {
				x[i], y[i] = kk[i]/side, s[i]/float64(count[class])*pixel*pixel
			}
			specs[g.n][class] = [2][]float64{x, y}
		}
		opt.Size = size
		set, err := dataset.Load(g.m, g.c.Snapshots, opt)
		if err != nil {
			t.Fatal(err)
		}
		hold[g.n] = set.Images
	}
	var cells []Cell
	for _, tr := range gs {
		if tr.c.Run == "" {
			continue
		}
		for _, te := range gs {
			p, err := experiment.PredictImages(tr.c.Run, hold[te.n])
			if err != nil {
				t.Fatal(err)
			}
			s, labels, ids := make([]float64, len(p)), make([]int, len(p)), make([]string, len(p))
			for i, v := range p {
				s[i], ids[i] = float64(v)-0.5, hold[te.n][i].Label.ID
				if hold[te.n][i].Label.Class == campaign.Burgers {
					labels[i] = 1
				}
			}
			cm, err := metrics.ClassifyAt(s, labels, 0)
			if err != nil {
				t.Fatal(err)
			}
			keys, means := metrics.GroupMean(s, ids)
			_, lab := metrics.GroupMean(f64(labels), ids)
			right := 0
			for i := range keys {
				if (means[i] >= 0) == (lab[i] == 1) {
					right++
				}
			}
			cells = append(cells, Cell{Train: tr.n, Test: te.n, Accuracy: cm.Accuracy, AUC: cm.AUC,
				PerSimAccuracy: float64(right) / float64(len(keys)), Images: cm.N})
		}
	}
	return cells, specs
}
