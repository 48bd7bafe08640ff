package main

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/fits"
	"github.com/turbindex/turbindex/train/experiment"
)

// observeFixture is a tiny campaign (32³, 6 + 6 simulations and 2 of the
// sweep) with a small classifier trained and evaluated on it, shared by
// the tests of predict, the autoencoder and realism.
type observeFixture struct {
	dir, manifest, snaps, cls string
	holdout                   []string // ids of the holdout simulations of the classes
	err                       string
}

var (
	fixtureOnce sync.Once
	fixture     observeFixture
)

func observeSetup(t *testing.T) *observeFixture {
	t.Helper()
	fixtureOnce.Do(func() {
		f := &fixture
		var err error
		// Inside the binaries' directory, which TestMain removes.
		if f.dir, err = os.MkdirTemp(filepath.Dir(bins["train"]), "observe"); err != nil {
			f.err = err.Error()
			return
		}
		f.manifest, f.snaps, f.cls = filepath.Join(f.dir, "m.csv"), filepath.Join(f.dir, "snaps"), filepath.Join(f.dir, "cls")
		steps := [][]string{{"sim", "plan", "--preset", "demo", "--grid", "32", "--kolmogorov", "6", "--burgers", "6", "--sweep", "2", "--out", f.manifest}}
		for k := range 5 {
			steps = append(steps, []string{"sim", "task", "--manifest", f.manifest, "--outdir", f.snaps, "--task-id", strconv.Itoa(k), "--per-task", "3"})
		}
		steps = append(steps,
			[]string{"train", "fit", "--manifest", f.manifest, "--snapshots", f.snaps, "--task", "classify", "--out", f.cls,
				"--filters", "4,4,4,4", "--dense", "8,8", "--epochs", "2", "--batch", "16", "--log-every", "0s"},
			[]string{"train", "eval", "--run", f.cls})
		for _, s := range steps {
			if _, stderr, code := run(t, s[0], s[1:]...); code != 0 {
				f.err = strings.Join(s, " ") + ": " + stderr
				return
			}
		}
		m, err := campaign.ReadFile(f.manifest)
		if err != nil {
			f.err = err.Error()
			return
		}
		for _, r := range m.Rows {
			if r.Split == campaign.Holdout && r.Class != campaign.Sweep {
				f.holdout = append(f.holdout, r.ID)
			}
		}
	})
	if fixture.err != "" {
		t.Fatal(fixture.err)
	}
	return &fixture
}

func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	recs, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		row := map[string]string{}
		for i, k := range recs[0] {
			row[k] = r[i]
		}
		out = append(out, row)
	}
	return out
}

// TestPredictExported: the Σ_z maps of the holdout simulations, exported
// with `sim export --format fits` and read back by predict, give exactly
// the predictions `train eval` made for the same images (projection z, no
// flip, the four quadrants are predict's four tiles).
func TestPredictExported(t *testing.T) {
	f := observeSetup(t)
	if len(f.holdout) == 0 {
		t.Fatal("no holdout simulation in the fixture")
	}
	evals, err := experiment.ReadEvalPredictions(f.cls, campaign.Holdout)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float32{} // id/quadrant → P(Burgers)
	for _, p := range evals {
		if p.Label.Projection == 2 && p.Label.Flip == 0 {
			want[p.Label.ID+"/"+strconv.Itoa(p.Label.Quadrant)] = p.Prediction
		}
	}
	dir := t.TempDir()
	for _, id := range f.holdout {
		if _, stderr, code := run(t, "sim", "export", "--snapshot", filepath.Join(f.snaps, id+".tsnap"), "--format", "fits", "--fields", "sigma_z", "--out", dir); code != 0 {
			t.Fatal(stderr)
		}
		out := filepath.Join(dir, id)
		stdout, stderr, code := run(t, "train", "predict", "--run", f.cls, "--fits", filepath.Join(dir, id+"_sigma_z.fits"), "--out", out)
		if code != 0 {
			t.Fatalf("predict %s: %s", id, stderr)
		}
		if !strings.Contains(stdout, "tiles: 4 predicted, 0 skipped") || !strings.Contains(stdout, "holdout kolmogorov simulations") {
			t.Errorf("predict %s printed %q", id, stdout)
		}
		rows := readCSV(t, filepath.Join(out, "predictions.csv"))
		if len(rows) != 4 {
			t.Fatalf("%s: %d tiles, want the 4 quadrants", id, len(rows))
		}
		for _, r := range rows {
			q := 0
			if r["row"] != "0" {
				q += 2
			}
			if r["col"] != "0" {
				q++
			}
			got, err := strconv.ParseFloat(r["p_burgers"], 32)
			w, ok := want[id+"/"+strconv.Itoa(q)]
			if err != nil || !ok || float32(got) != w {
				t.Errorf("%s quadrant %d: predict %s, eval %v", id, q, r["p_burgers"], w)
			}
		}
		for _, name := range []string{"summary.json", "summary.txt", "map.png"} {
			if _, err := os.Stat(filepath.Join(out, name)); err != nil {
				t.Error(err)
			}
		}
	}
}

// writeMap writes a float32 FITS image with the given extra cards.
func writeMap(t *testing.T, path string, shape []int, data []float32, extra func(c *fits.Cards)) {
	t.Helper()
	var c fits.Cards
	c.Logical("SIMPLE", true, "")
	c.Integer("BITPIX", -32, "")
	c.Integer("NAXIS", int64(len(shape)), "")
	for i := range shape {
		c.Integer("NAXIS"+strconv.Itoa(i+1), int64(shape[len(shape)-1-i]), "")
	}
	if extra != nil {
		extra(&c)
	}
	if err := os.WriteFile(path, fits.Float32Image(&c, data), 0o666); err != nil {
		t.Fatal(err)
	}
}

// TestPredictRefuses: maps predict cannot read as the run's images are
// refused with exit status 1 and a message saying why and what to do.
func TestPredictRefuses(t *testing.T) {
	f := observeSetup(t)
	dir := t.TempDir()
	full := func(n int, v float32) []float32 {
		d := make([]float32, n)
		for i := range d {
			d[i] = v
		}
		return d
	}
	linear := func(c *fits.Cards) {
		c.String("BUNIT", "g cm-2", "")
		c.String("CTYPE1", "X", "")
		c.String("CTYPE2", "Y", "")
		c.String("CUNIT1", "pc", "")
		c.String("CUNIT2", "pc", "")
		c.Real("CDELT1", 10.0/32, "")
		c.Real("CDELT2", 10.0/32, "")
	}
	writeMap(t, filepath.Join(dir, "nowcs.fits"), []int{32, 32}, full(32*32, 0.02), func(c *fits.Cards) { c.String("BUNIT", "g cm-2", "") })
	writeMap(t, filepath.Join(dir, "sky.fits"), []int{32, 32}, full(32*32, 0.02), func(c *fits.Cards) {
		c.String("BUNIT", "g cm-2", "")
		c.String("CTYPE1", "RA---TAN", "")
		c.String("CTYPE2", "DEC--TAN", "")
		c.Real("CDELT1", -1e-3, "")
		c.Real("CDELT2", 1e-3, "")
	})
	writeMap(t, filepath.Join(dir, "small.fits"), []int{8, 8}, full(64, 0.02), linear)
	writeMap(t, filepath.Join(dir, "nan.fits"), []int{32, 32}, full(32*32, float32(math.NaN())), linear)
	writeMap(t, filepath.Join(dir, "cube.fits"), []int{2, 32, 32}, full(2*32*32, 0.02), linear)
	writeMap(t, filepath.Join(dir, "nounit.fits"), []int{32, 32}, full(32*32, 0.02), func(c *fits.Cards) { c.String("BUNIT", "Jy/beam", "") })
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--fits", filepath.Join(dir, "nowcs.fits")}, 1, "give --pixel-scale PC"},
		{[]string{"--fits", filepath.Join(dir, "sky.fits")}, 1, "give the cloud's --distance PC"},
		{[]string{"--fits", filepath.Join(dir, "small.fits")}, 1, "map smaller than one tile"},
		{[]string{"--fits", filepath.Join(dir, "nan.fits")}, 1, "all 32 × 32 values are NaN"},
		{[]string{"--fits", filepath.Join(dir, "cube.fits")}, 1, "choose a 2-D HDU with --hdu N or a plane with --slice K"},
		{[]string{"--fits", filepath.Join(dir, "nounit.fits"), "--pixel-scale", "0.3"}, 1, `BUNIT = "Jy/beam" is none of`},
		{[]string{"--fits", filepath.Join(dir, "nowcs.fits"), "--units", "Jy"}, 2, `unit "Jy"`},
		{[]string{"--fits", filepath.Join(dir, "missing.fits")}, 1, "missing.fits"},
		{[]string{}, 2, "--fits is required"},
	} {
		_, stderr, code := run(t, "train", append([]string{"predict", "--run", f.cls, "--out", filepath.Join(dir, "out")}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("predict %v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("a refused predict left an output directory")
	}
	// The cube's plane 1, and the sky map at a distance, are read.
	for _, args := range [][]string{
		{"--fits", filepath.Join(dir, "cube.fits"), "--slice", "1"},
		{"--fits", filepath.Join(dir, "sky.fits"), "--distance", "20000"}, // 1e-3° at 20 kpc: 0.35 pc pixels, resampled to the run's 0.3125
	} {
		out := filepath.Join(dir, "ok")
		stdout, stderr, code := run(t, "train", append([]string{"predict", "--run", f.cls, "--out", out}, args...)...)
		if code != 0 || !strings.Contains(stdout, "predicted") {
			t.Errorf("predict %v: exit %d: %s %s", args, code, stdout, stderr)
		}
	}
}

// TestLikeUnlike: the autoencoder and the realism classifier tell a map like
// the simulations (the Σ_z map of a holdout simulation, exported to FITS)
// from one that is not (a log Σ field with another power-spectrum slope
// and amplitude, plus point sources, on the same pixels).
func TestLikeUnlike(t *testing.T) {
	f := observeSetup(t)
	dir := t.TempDir()
	ae := filepath.Join(dir, "ae")
	stdout, stderr, code := run(t, "train", "fit", "--manifest", f.manifest, "--snapshots", f.snaps, "--task", "autoencode", "--out", ae,
		"--epochs", "4", "--batch", "16", "--lr", "3e-3", "--log-every", "0s")
	if code != 0 || !strings.Contains(stdout, "best.ae") {
		t.Fatalf("fit --task autoencode: %s %s", stdout, stderr)
	}
	recon := readCSV(t, filepath.Join(ae, "recon-holdout.csv"))
	if len(recon) != 48*len(f.holdout) {
		t.Errorf("recon-holdout.csv: %d rows, want 48 × %d holdout simulations", len(recon), len(f.holdout))
	}
	like := filepath.Join(dir, f.holdout[0]+"_sigma_z.fits")
	if _, stderr, code := run(t, "sim", "export", "--snapshot", filepath.Join(f.snaps, f.holdout[0]+".tsnap"), "--format", "fits", "--fields", "sigma_z", "--out", dir); code != 0 {
		t.Fatal(stderr)
	}
	unlike := filepath.Join(dir, "synth.fits")
	if _, stderr, code := run(t, "train", "synthmap", "--out", unlike, "--size", "64", "--pixel-scale", "0.3125", "--slope", "2.5", "--sigma-dex", "0.3", "--sources", "20"); code != 0 {
		t.Fatal(stderr)
	}
	type summary struct {
		Autoencoder struct {
			Median    float64 `json:"median_percentile"`
			BeyondP99 float64 `json:"fraction_beyond_99"`
		}
	}
	for _, c := range []struct {
		name, path string
		unlike     bool
	}{{"like", like, false}, {"unlike", unlike, true}} {
		out := filepath.Join(dir, "p-"+c.name)
		stdout, stderr, code := run(t, "train", "predict", "--run", f.cls, "--fits", c.path, "--autoencoder", ae, "--out", out)
		if code != 0 {
			t.Fatalf("predict %s: %s", c.name, stderr)
		}
		var s summary
		raw, _ := os.ReadFile(filepath.Join(out, "summary.json"))
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		warned := strings.Contains(stdout, "the map is unlike the simulations")
		if c.unlike != (s.Autoencoder.BeyondP99 > 0.5) || warned != c.unlike {
			t.Errorf("%s map: %.0f%% of tiles beyond the 99th percentile (median percentile %.1f), warned %v", c.name, 100*s.Autoencoder.BeyondP99, s.Autoencoder.Median, warned)
		}
		if rows := readCSV(t, filepath.Join(out, "predictions.csv")); len(rows) == 0 || rows[0]["recon_percentile"] == "" {
			t.Errorf("%s: predictions.csv has no recon_percentile column", c.name)
		}
		rout := filepath.Join(dir, "r-"+c.name)
		if _, stderr, code := run(t, "train", "realism", "--run", f.cls, "--fits", c.path, "--out", rout); code != 0 {
			t.Fatalf("realism %s: %s", c.name, stderr)
		}
		var r experiment.RealismResult
		raw, _ = os.ReadFile(filepath.Join(rout, "realism.json"))
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		if len(r.SimAUCs) < 4 {
			t.Fatalf("realism: %d reference simulations", len(r.SimAUCs))
		}
		// Unlike: told apart better than any simulation from the others.
		if top := r.SimAUCs[len(r.SimAUCs)-1]; c.unlike != (r.AUC > top) {
			t.Errorf("%s map: realism AUC %.3f, simulations from each other up to %.3f (%d map tiles, %d simulation tiles)", c.name, r.AUC, top, r.MapTiles, r.SimTiles)
		}
		t.Logf("%s map: autoencoder median percentile %.1f, %.0f%% beyond the 99th; realism AUC %.3f (percentile %.0f of %v)", c.name, s.Autoencoder.Median, 100*s.Autoencoder.BeyondP99, r.AUC, r.Percentile, r.SimAUCs)
	}
}
