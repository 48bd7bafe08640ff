package dataset

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/sim/driver"
	"github.com/turbindex/turbindex/sim/snapshot"
)

// fixture is a tiny campaign run once for the whole package: 3 Kolmogorov
// and 3 Burgers simulations at 16³ (one of each per split).
var fixture struct {
	once sync.Once
	dir  string // snapshots
	m    *campaign.Manifest
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixture.dir != "" {
		os.RemoveAll(fixture.dir)
	}
	os.Exit(code)
}

// campaignFixture returns the fixture's manifest and snapshot directory,
// running the simulations on first use. Tests must not modify either.
func campaignFixture(t testing.TB) (*campaign.Manifest, string) {
	t.Helper()
	fixture.once.Do(func() {
		fixture.dir, fixture.err = os.MkdirTemp("", "dataset-test-")
		if fixture.err != nil {
			return
		}
		fixture.m, fixture.err = campaign.Plan(campaign.PlanOptions{Preset: "demo", CampaignSeed: 3,
			Grid: 16, Kolmogorov: 3, Burgers: 3, Sweep: 0})
		if fixture.err != nil {
			return
		}
		for _, r := range fixture.m.Rows {
			if _, err := driver.Run(context.Background(), driver.Turbulence(fixture.m.Run(r), campaign.SnapshotPath(fixture.dir, r.ID)), driver.Options{}); err != nil {
				fixture.err = err
				return
			}
		}
	})
	if fixture.err != nil {
		t.Fatal(fixture.err)
	}
	return fixture.m, fixture.dir
}

// copyDir copies the snapshots of the fixture into a fresh directory that a
// test may modify.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// mustContain fails unless err is non-nil and its message holds every part.
func mustContain(t *testing.T, what string, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want one containing %q", what, parts)
		return
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %q does not contain %q", what, err, p)
		}
	}
}

// TestFromSnapshotRun cuts the snapshot of a real 16³ run and checks the
// images against the Σ maps read directly.
func TestFromSnapshotRun(t *testing.T) {
	cfg := driver.Defaults()
	cfg.Grid = 16
	cfg.Out = filepath.Join(t.TempDir(), "run.tsnap")
	if _, err := driver.Run(context.Background(), cfg, driver.Options{}); err != nil {
		t.Fatal(err)
	}
	row := campaign.Row{ID: "run", Class: campaign.Kolmogorov, Index: cfg.Index, Seed: cfg.Seed, Split: campaign.Train}
	imgs, err := FromSnapshot(cfg.Out, 0, row)
	if err != nil {
		t.Fatal(err)
	}
	f, err := snapshot.Open(cfg.Out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var sig [3][]float32
	for p, name := range Projections {
		if sig[p], err = f.Read(name); err != nil {
			t.Fatal(err)
		}
	}
	want, err := Cut(sig, 16, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != PerSnapshot {
		t.Fatalf("%d images, want %d", len(imgs), PerSnapshot)
	}
	for i, im := range imgs {
		l := im.Label
		if im.Size != 8 || !slices.Equal(im.Pix, want[i]) {
			t.Errorf("image %d: size %d, pixels differ from Cut", i, im.Size)
		}
		if l.ID != "run" || l.Class != row.Class || l.Split != row.Split || l.Index != row.Index ||
			ImageIndex(l.Projection, l.Flip, l.Quadrant) != i {
			t.Errorf("image %d: label %+v", i, l)
		}
		for a := range i {
			if slices.Equal(im.Pix, imgs[a].Pix) {
				t.Errorf("images %d and %d are equal", a, i)
			}
		}
	}
	// Pixel (0, 0) of the unflipped top-left quadrant of Σ_z is log10 Σ_z[0][0]
	// and has the magnitude of log10(ρ0 L) (a 10 pc column at 6.77e-22 g cm⁻³).
	v := imgs[ImageIndex(2, 0, 0)].Pix[0]
	if w := float32(math.Log10(float64(sig[2][0]))); v != w || math.Abs(float64(v)-math.Log10(6.77e-22*10*3.0857e18)) > 0.05 {
		t.Errorf("pixel = %v, want log10 Σ_z[0][0] = %v ≈ %v", v, w, math.Log10(6.77e-22*10*3.0857e18))
	}

	small, err := FromSnapshot(cfg.Out, 4, row)
	if err != nil {
		t.Fatal(err)
	}
	if small[5].Size != 4 || len(small[5].Pix) != 16 {
		t.Errorf("size 4: image of side %d with %d pixels", small[5].Size, len(small[5].Pix))
	}

	bad := row
	bad.Seed++
	_, err = FromSnapshot(cfg.Out, 0, bad)
	mustContain(t, "seed mismatch", err, cfg.Out, "seed", fmt.Sprint(cfg.Seed), fmt.Sprint(bad.Seed))
	bad = row
	bad.Index = 4
	_, err = FromSnapshot(cfg.Out, 0, bad)
	mustContain(t, "index mismatch", err, cfg.Out, "index=3.6666666666666665", "has 4")
	_, err = FromSnapshot(filepath.Join(t.TempDir(), "none.tsnap"), 0, row)
	mustContain(t, "missing file", err, "none.tsnap")
}

// writeHandmade writes a snapshot with the named N × N Σ maps of value
// sigma, whose parameters name index and seed.
func writeHandmade(t *testing.T, path string, n int, sigma float32, index float64, seed uint64, names ...string) {
	t.Helper()
	params, _ := json.Marshal(map[string]any{"problem": "turbulence", "index": index, "seed": seed, "grid": n})
	h := snapshot.Header{CodeVersion: "test", Problem: "turbulence", Params: params,
		Units: map[string]string{"column_density": SigmaUnit}, Grid: [3]int{n, n, n},
		BoxCm: [3]float64{1, 1, 1}, Ranks: 1, Decomposition: [3]int{1, 1, 1}}
	axes := map[string][]string{"sigma_x": {"z", "y"}, "sigma_y": {"z", "x"}, "sigma_z": {"y", "x"}}
	var fields []snapshot.Array
	for k, name := range names {
		data := make([]float32, n*n)
		for i := range data {
			data[i] = sigma * (1 + 0.01*float32(i+7*k)/float32(n*n))
		}
		fields = append(fields, snapshot.Array{Name: name, Unit: SigmaUnit, Shape: []int{n, n}, Axes: axes[name],
			Chunks: []snapshot.Block{{Start: []int{0, 0}, Shape: []int{n, n}, Data: data}}})
	}
	if err := snapshot.Write(path, h, fields, true); err != nil {
		t.Fatal(err)
	}
}

func TestFromSnapshotHandmade(t *testing.T) {
	dir := t.TempDir()
	row := campaign.Row{ID: "hand", Class: campaign.Burgers, Index: 4, Seed: 12345678901234567890, Split: campaign.Test}

	full := filepath.Join(dir, "full.tsnap")
	writeHandmade(t, full, 6, 0.02, 4, row.Seed, "sigma_x", "sigma_y", "sigma_z")
	imgs, err := FromSnapshot(full, 0, row)
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != PerSnapshot || imgs[0].Size != 3 {
		t.Fatalf("%d images of side %d, want 48 of 3", len(imgs), imgs[0].Size)
	}

	noY := filepath.Join(dir, "no-y.tsnap")
	writeHandmade(t, noY, 6, 0.02, 4, row.Seed, "sigma_x", "sigma_z")
	_, err = FromSnapshot(noY, 0, row)
	mustContain(t, "missing sigma_y", err, noY, "sigma_y")

	bigSeed := row
	bigSeed.Seed = 12345678901234567891 // differs from the header's in the last digit only
	_, err = FromSnapshot(full, 0, bigSeed)
	mustContain(t, "seed mismatch", err, full, "12345678901234567890", "12345678901234567891")

	neg := filepath.Join(dir, "neg.tsnap")
	writeHandmade(t, neg, 6, -1, 4, row.Seed, "sigma_x", "sigma_y", "sigma_z")
	_, err = FromSnapshot(neg, 0, row)
	mustContain(t, "negative Σ", err, neg, "sigma_x[0][0]", "positive")
}

// TestLoad loads the fixture campaign and checks counts, labels and splits.
func TestLoad(t *testing.T) {
	m, dir := campaignFixture(t)
	var calls []int
	set, err := Load(m, dir, Options{Workers: 2, Progress: func(done, total int) {
		if total != len(m.Rows) {
			t.Errorf("progress total %d, want %d", total, len(m.Rows))
		}
		calls = append(calls, done)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{1, 2, 3, 4, 5, 6}; !slices.Equal(calls, want) {
		t.Errorf("progress calls %v, want %v", calls, want)
	}
	if set.Size != 8 || len(set.Images) != PerSnapshot*len(m.Rows) || len(set.Warnings) != 0 {
		t.Fatalf("size %d, %d images, warnings %q", set.Size, len(set.Images), set.Warnings)
	}
	perSplit := map[string]int{}
	for _, r := range m.Rows {
		perSplit[r.Split]++
	}
	for _, sp := range campaign.Splits {
		imgs, err := set.Split(sp)
		if err != nil {
			t.Fatal(err)
		}
		if len(imgs) != PerSnapshot*perSplit[sp] {
			t.Errorf("split %s: %d images, want 48 × %d", sp, len(imgs), perSplit[sp])
		}
	}
	// Images are grouped by simulation in row order, labelled by the row,
	// and equal to FromSnapshot's.
	sims := set.Sims()
	for k, r := range m.Rows {
		idx := sims[r.ID]
		if len(idx) != PerSnapshot || idx[0] != k*PerSnapshot || idx[PerSnapshot-1] != (k+1)*PerSnapshot-1 {
			t.Errorf("%s: indices %v", r.ID, idx)
			continue
		}
		want, err := FromSnapshot(campaign.SnapshotPath(dir, r.ID), 0, r)
		if err != nil {
			t.Fatal(err)
		}
		for i, j := range idx {
			if !slices.Equal(set.Images[j].Pix, want[i].Pix) || set.Images[j].Label != want[i].Label {
				t.Errorf("%s image %d differs from FromSnapshot", r.ID, i)
			}
		}
	}
	if err := set.Validate(); err != nil {
		t.Error(err)
	}

	// Resampled.
	small, err := Load(m, dir, Options{Size: 4, Splits: []string{campaign.Holdout}, Classes: []string{campaign.Burgers}})
	if err != nil {
		t.Fatal(err)
	}
	if small.Size != 4 || len(small.Images) != PerSnapshot*m.Counts()[1][2] {
		t.Errorf("holdout burgers at 4²: size %d, %d images", small.Size, len(small.Images))
	}
	for _, im := range small.Images {
		if im.Label.Split != campaign.Holdout || im.Label.Class != campaign.Burgers || len(im.Pix) != 16 {
			t.Fatalf("image %+v of %d pixels in holdout burgers at 4²", im.Label, len(im.Pix))
		}
	}
}

// TestNoLeakage checks that splits are by simulation: each simulation's
// images all carry its manifest split, the splits share no simulation, and a
// manifest that names a simulation twice is refused.
func TestNoLeakage(t *testing.T) {
	m, dir := campaignFixture(t)
	set, err := Load(m, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	split := map[string]string{}
	for _, r := range m.Rows {
		split[r.ID] = r.Split
	}
	owner := map[string]string{} // simulation id → split its images were found in
	for _, sp := range campaign.Splits {
		imgs, err := set.Split(sp)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range imgs {
			if im.Label.Split != sp || split[im.Label.ID] != sp {
				t.Fatalf("image of %s (manifest split %s) in split %s", im.Label.ID, split[im.Label.ID], sp)
			}
			if o, ok := owner[im.Label.ID]; ok && o != sp {
				t.Fatalf("simulation %s has images in %s and %s", im.Label.ID, o, sp)
			}
			owner[im.Label.ID] = sp
		}
	}
	if len(owner) != len(m.Rows) {
		t.Errorf("%d simulations found in the splits, want %d", len(owner), len(m.Rows))
	}

	// Loading one split gives exactly that split's simulations.
	test, err := Load(m, dir, Options{Splits: []string{campaign.Test}})
	if err != nil {
		t.Fatal(err)
	}
	for id := range test.Sims() {
		if split[id] != campaign.Test {
			t.Errorf("split test holds %s of split %s", id, split[id])
		}
	}

	// The same simulation twice, in two splits: refused.
	dup := *m
	dup.Rows = slices.Clone(m.Rows)
	extra := dup.Rows[0]
	extra.Split = campaign.Holdout
	if extra.Split == dup.Rows[0].Split {
		extra.Split = campaign.Test
	}
	extra.Line = 99
	dup.Rows = append(dup.Rows, extra)
	_, err = Load(&dup, dir, Options{})
	mustContain(t, "duplicate id", err, extra.ID, "twice", "99")
}

// TestStats checks that standardisation statistics come from the training
// split only.
func TestStats(t *testing.T) {
	m, dir := campaignFixture(t)
	set, err := Load(m, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := ComputeStats(set)
	if err != nil {
		t.Fatal(err)
	}
	// By hand over the training images.
	var sum, n float64
	var vals []float64
	for _, im := range set.Images {
		if im.Label.Split == campaign.Train {
			for _, v := range im.Pix {
				sum += float64(v)
				vals = append(vals, float64(v))
				n++
			}
		}
	}
	mean := sum / n
	var ss float64
	for _, v := range vals {
		ss += (v - mean) * (v - mean)
	}
	if math.Abs(st.Mean-mean) > 1e-12 || math.Abs(st.Std-math.Sqrt(ss/n)) > 1e-12*st.Std+1e-15 {
		t.Errorf("stats %+v, want mean %v std %v", st, mean, math.Sqrt(ss/n))
	}
	if !(st.Std > 0) || st.Std > 0.1 {
		t.Errorf("std %v dex: want a small positive spread", st.Std)
	}

	// Changing test or holdout images leaves the statistics alone.
	for i := range set.Images {
		if set.Images[i].Label.Split != campaign.Train {
			for j := range set.Images[i].Pix {
				set.Images[i].Pix[j] = 1000
			}
		}
	}
	if st2, err := ComputeStats(set); err != nil || st2 != st {
		t.Errorf("after changing non-training images: %+v, %v; want %+v", st2, err, st)
	}
	// Changing a training image changes them.
	train, _ := set.Split(campaign.Train)
	train[0].Pix[0] += 1
	if st3, err := ComputeStats(set); err != nil || st3 == st {
		t.Errorf("after changing a training image: %+v, %v; want a change", st3, err)
	}

	// Apply standardises the training split to mean 0, std 1.
	train[0].Pix[0] -= 1
	var s1, s2 float64
	for _, im := range train {
		pix := slices.Clone(im.Pix)
		st.Apply(pix)
		for _, v := range pix {
			s1 += float64(v)
			s2 += float64(v) * float64(v)
		}
	}
	if m1, m2 := s1/n, s2/n; math.Abs(m1) > 1e-4 || math.Abs(m2-1) > 1e-4 {
		t.Errorf("after Apply: mean %v, mean square %v", m1, m2)
	}

	// A set without training images has no statistics.
	noTrain := &Set{Size: set.Size, Images: slices.DeleteFunc(slices.Clone(set.Images), func(im Image) bool { return im.Label.Split == campaign.Train })}
	_, err = ComputeStats(noTrain)
	mustContain(t, "no training split", err, `"train"`, "no images")
}

func TestPerImage(t *testing.T) {
	a := []float32{-1.70, -1.69, -1.68, -1.67}
	b := []float32{-1.72, -1.69, -1.66, -1.63} // same shape, 3 × the amplitude
	PerImage(a)
	PerImage(b)
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-5 {
			t.Errorf("per-image standardised %v and %v differ: the amplitude should be gone", a, b)
			break
		}
	}
	var s, s2 float64
	for _, v := range a {
		s += float64(v)
		s2 += float64(v * v)
	}
	if math.Abs(s/4) > 1e-6 || math.Abs(s2/4-1) > 1e-5 {
		t.Errorf("per-image: mean %v, mean square %v", s/4, s2/4)
	}
	c := []float32{2, 2, 2}
	PerImage(c)
	if !slices.Equal(c, []float32{0, 0, 0}) {
		t.Errorf("constant image → %v, want zeros", c)
	}
}

// TestCache checks hits, that a hit skips decoding, rebuilding of corrupt
// and stale cache files.
func TestCache(t *testing.T) {
	m, fix := campaignFixture(t)
	dir := copyDir(t, fix)
	cache := filepath.Join(t.TempDir(), "cache")
	ref, err := Load(m, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := Load(m, dir, Options{Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range m.Rows {
		if _, err := os.Stat(CachePath(cache, r.ID, 8)); err != nil {
			t.Fatal(err)
		}
	}
	equalSets(t, "first cached load", first, ref)
	if len(first.Warnings) != 0 {
		t.Errorf("warnings on a fresh cache: %q", first.Warnings)
	}

	// A hit skips decoding: with a corrupt data chunk in one snapshot, the
	// cached load still succeeds where a plain load fails.
	id := m.Rows[2].ID
	snap := campaign.SnapshotPath(dir, id)
	b, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0xff // the last stored byte of the last Σ chunk
	if err := os.WriteFile(snap, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(m, dir, Options{})
	mustContain(t, "corrupt snapshot without cache", err, id, snap)
	hit, err := Load(m, dir, Options{Cache: cache})
	if err != nil {
		t.Fatalf("cached load of a snapshot with corrupt data: %v", err)
	}
	equalSets(t, "cache hit", hit, ref)
	if len(hit.Warnings) != 0 {
		t.Errorf("warnings on a cache hit: %q", hit.Warnings)
	}
	b[len(b)-1] ^= 0xff
	if err := os.WriteFile(snap, b, 0o644); err != nil {
		t.Fatal(err)
	}

	// A corrupt or truncated cache file is ignored, reported and rebuilt.
	for _, damage := range []string{"flip", "truncate", "magic"} {
		cp := CachePath(cache, id, 8)
		c, err := os.ReadFile(cp)
		if err != nil {
			t.Fatal(err)
		}
		switch damage {
		case "flip":
			c[len(c)/2] ^= 0x55
		case "truncate":
			c = c[:len(c)-10]
		case "magic":
			c[0] = 'X'
		}
		if err := os.WriteFile(cp, c, 0o644); err != nil {
			t.Fatal(err)
		}
		var live []string
		got, err := Load(m, dir, Options{Cache: cache, Warn: func(msg string) { live = append(live, msg) }})
		if err != nil {
			t.Fatal(err)
		}
		equalSets(t, damage+" cache", got, ref)
		if len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], cp) || !slices.Equal(live, got.Warnings) {
			t.Errorf("%s cache: warnings %q (live %q), want one naming %s", damage, got.Warnings, live, cp)
		}
		again, err := Load(m, dir, Options{Cache: cache})
		if err != nil || len(again.Warnings) != 0 {
			t.Errorf("%s cache: not rebuilt: %v, warnings %q", damage, err, again.Warnings)
		}
	}

	// A changed snapshot invalidates its cache file.
	r := m.Rows[0]
	writeHandmade(t, campaign.SnapshotPath(dir, r.ID), 16, 0.05, r.Index, r.Seed, Projections[:]...)
	got, err := Load(m, dir, Options{Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], "stale") {
		t.Errorf("changed snapshot: warnings %q, want one saying stale", got.Warnings)
	}
	want, err := FromSnapshot(campaign.SnapshotPath(dir, r.ID), 0, r)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if !slices.Equal(got.Images[i].Pix, want[i].Pix) {
			t.Fatalf("changed snapshot: image %d is the old one", i)
		}
	}
}

func equalSets(t *testing.T, what string, a, b *Set) {
	t.Helper()
	if a.Size != b.Size || len(a.Images) != len(b.Images) {
		t.Fatalf("%s: %d images of %d², want %d of %d²", what, len(a.Images), a.Size, len(b.Images), b.Size)
	}
	for i := range a.Images {
		if a.Images[i].Label != b.Images[i].Label || !slices.Equal(a.Images[i].Pix, b.Images[i].Pix) {
			t.Fatalf("%s: image %d differs", what, i)
		}
	}
}

// TestLoadErrors checks the errors of bad campaigns and options.
func TestLoadErrors(t *testing.T) {
	m, fix := campaignFixture(t)

	_, err := Load(m, fix, Options{Splits: []string{campaign.Train}, Classes: []string{campaign.Sweep}})
	mustContain(t, "empty split", err, `split "train" is empty`, "sweep")
	_, err = Load(m, fix, Options{Splits: []string{"validation"}})
	mustContain(t, "unknown split", err, `"validation"`, "unknown")
	_, err = Load(m, fix, Options{Classes: []string{"kolmo"}})
	mustContain(t, "unknown class", err, `"kolmo"`, "unknown")
	_, err = Load(m, fix, Options{Size: -2})
	mustContain(t, "negative size", err, "-2")

	dir := copyDir(t, fix)
	gone := m.Rows[4]
	if err := os.Remove(campaign.SnapshotPath(dir, gone.ID)); err != nil {
		t.Fatal(err)
	}
	_, err = Load(m, dir, Options{})
	mustContain(t, "missing snapshot", err, gone.ID, campaign.SnapshotPath(dir, gone.ID), fmt.Sprintf("line %d", gone.Line))

	bad := *m
	bad.Rows = slices.Clone(m.Rows)
	bad.Rows[1].Seed = 42
	_, err = Load(&bad, fix, Options{})
	mustContain(t, "seed mismatch", err, bad.Rows[1].ID, campaign.SnapshotPath(fix, bad.Rows[1].ID), "seed", "42")

	grid := *m
	grid.Params.Grid = 32
	_, err = Load(&grid, fix, Options{})
	mustContain(t, "grid mismatch", err, "grid", "32")

	// Snapshots of different grids with no image size: mixed sizes.
	mixed := t.TempDir()
	rows := []campaign.Row{
		{ID: "a", Class: campaign.Kolmogorov, Index: campaign.KolmogorovIndex, Seed: 1, Split: campaign.Train, Line: 1},
		{ID: "b", Class: campaign.Burgers, Index: campaign.BurgersIndex, Seed: 2, Split: campaign.Train, Line: 2},
	}
	writeHandmade(t, campaign.SnapshotPath(mixed, "a"), 8, 0.02, rows[0].Index, 1, Projections[:]...)
	writeHandmade(t, campaign.SnapshotPath(mixed, "b"), 6, 0.02, rows[1].Index, 2, Projections[:]...)
	hm := &campaign.Manifest{Rows: rows}
	_, err = Load(hm, mixed, Options{})
	mustContain(t, "mixed sizes", err, "mixed size", "b", "3²", "4²")
	if set, err := Load(hm, mixed, Options{Size: 5}); err != nil || set.Size != 5 {
		t.Errorf("mixed grids resampled to 5²: %v", err)
	}

	// A hand-built Set with mixed sizes is invalid.
	set := &Set{Size: 2, Images: []Image{
		{Size: 2, Pix: make([]float32, 4), Label: Label{ID: "a", Split: campaign.Train}},
		{Size: 3, Pix: make([]float32, 9), Label: Label{ID: "b", Split: campaign.Train}},
	}}
	mustContain(t, "Validate", set.Validate(), "mixed size", "b", "3²")
	_, err = ComputeStats(set)
	mustContain(t, "ComputeStats of a mixed set", err, "mixed size")
}
