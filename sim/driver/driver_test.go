package driver

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/turbindex/turbindex/sim/hydro"
	"github.com/turbindex/turbindex/sim/physics"
	"github.com/turbindex/turbindex/sim/snapshot"
)

// run performs cfg (into a temporary directory unless cfg.Out is set), with
// the options if given, and returns the result and the opened snapshot.
func run(t *testing.T, cfg Config, opt ...Options) (*Result, *snapshot.File) {
	t.Helper()
	if cfg.Out == "" || cfg.Out == Defaults().Out {
		cfg.Out = filepath.Join(t.TempDir(), "run.tsnap")
	}
	res, err := Run(context.Background(), cfg, append(opt, Options{})[0])
	if err != nil {
		t.Fatal(err)
	}
	f, err := snapshot.Open(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return res, f
}

// TestRankInvariance checks that a 32³ turbulence run gives bitwise
// identical cubes and Σ maps for every rank count.
func TestRankInvariance(t *testing.T) {
	cfg := Defaults()
	cfg.Grid = 32
	cfg.Seed = 7
	cfg.Fields = []string{"density", "velocity"}
	names := []string{"sigma_x", "sigma_y", "sigma_z", "density", "velocity_x", "velocity_y", "velocity_z"}
	var ref map[string][]float32
	var refSteps int
	for _, ranks := range []int{1, 2, 3, 4, 6, 8} {
		cfg.Ranks = ranks
		cfg.Out = filepath.Join(t.TempDir(), "run.tsnap")
		res, f := run(t, cfg)
		if left, _ := os.ReadDir(filepath.Dir(cfg.Out)); len(left) != 1 {
			t.Errorf("ranks %d: the output directory holds %v, want just the snapshot", ranks, left)
		}
		got := map[string][]float32{}
		for _, name := range names {
			v, err := f.Read(name)
			if err != nil {
				t.Fatal(err)
			}
			got[name] = v
		}
		t.Logf("ranks %d: decomposition %v, %d steps", ranks, res.Header.Decomposition, res.Header.Steps)
		if ref == nil {
			ref, refSteps = got, res.Header.Steps
			continue
		}
		if res.Header.Steps != refSteps {
			t.Errorf("ranks %d: %d steps, 1 rank %d", ranks, res.Header.Steps, refSteps)
		}
		for _, name := range names {
			for i, v := range got[name] {
				if math.Float32bits(v) != math.Float32bits(ref[name][i]) {
					t.Errorf("ranks %d: %s[%d] = %v, 1 rank %v", ranks, name, i, v, ref[name][i])
					break
				}
			}
		}
	}
}

// TestConservation checks that a periodic turbulence run conserves mass and
// momentum to round-off.
func TestConservation(t *testing.T) {
	cfg := Defaults()
	cfg.Grid = 32
	cfg.Ranks = 2
	cfg.TEndMyr = 2 // longer than the default, so the flow has evolved
	res, _ := run(t, cfg)
	if e := math.Abs(res.MassEnd-res.MassStart) / res.MassStart; e > 1e-12 {
		t.Errorf("mass changed by %.2e relative", e)
	}
	for d := range 3 {
		if e := math.Abs(res.MomentumEnd[d]-res.MomentumStart[d]) / res.MomentumScale; e > 1e-12 {
			t.Errorf("momentum %c changed by %.2e relative to Σ|ρv|", "xyz"[d], e)
		}
	}
	t.Logf("%d steps; mass %.17g → %.17g", res.Header.Steps, res.MassStart, res.MassEnd)
}

// TestColumnDensity checks the Σ maps against sums of the stored density
// cube and their mean against the box's mass: Σ̄ = ρ0 L.
func TestColumnDensity(t *testing.T) {
	cfg := Defaults()
	cfg.Grid = 16
	cfg.Ranks = 3
	cfg.Fields = []string{"density"}
	res, f := run(t, cfg)
	rho, err := f.Read("density")
	if err != nil {
		t.Fatal(err)
	}
	n := cfg.Grid
	dx := res.Header.BoxCm[0] / float64(n)
	sums := [3][]float64{make([]float64, n*n), make([]float64, n*n), make([]float64, n*n)}
	for k := range n {
		for j := range n {
			for i := range n {
				r := float64(rho[(k*n+j)*n+i]) * dx
				sums[0][k*n+j] += r
				sums[1][k*n+i] += r
				sums[2][j*n+i] += r
			}
		}
	}
	for a, name := range []string{"sigma_x", "sigma_y", "sigma_z"} {
		sig, err := f.Read(name)
		if err != nil {
			t.Fatal(err)
		}
		mean := 0.0
		for i, s := range sig {
			// The cube is float32, the map summed in float64: agree to float32 precision.
			if math.Abs(float64(s)-sums[a][i]) > 1e-6*sums[a][i] {
				t.Fatalf("%s[%d] = %g, sum of the density cube %g", name, i, s, sums[a][i])
			}
			mean += float64(s) / float64(len(sig))
		}
		want := cfg.Rho0 * res.Header.BoxCm[a]
		if math.Abs(mean-want) > 1e-6*want {
			t.Errorf("%s: mean %g g/cm2, want ρ0 L = %g", name, mean, want)
		}
	}
}

// TestBadInput checks that every bad parameter is refused in one line that
// names it, before any work.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "exists.tsnap")
	if err := os.WriteFile(existing, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"small grid", func(c *Config) { c.Grid = 8 }, "grid 8"},
		{"too many ranks", func(c *Config) { c.Grid = 16; c.Ranks = 1000 }, "ranks 1000"},
		{"thin blocks", func(c *Config) { c.Grid = 16; c.Ranks = 11 }, "ghost width"},
		{"zero ranks", func(c *Config) { c.Ranks = 0 }, "ranks 0"},
		{"index low", func(c *Config) { c.Index = 0.5 }, "index 0.5"},
		{"index high", func(c *Config) { c.Index = 6.5 }, "index 6.5"},
		{"index NaN", func(c *Config) { c.Index = math.NaN() }, "index NaN"},
		{"mach zero", func(c *Config) { c.Mach = 0 }, "mach 0"},
		{"mach negative", func(c *Config) { c.Mach = -1 }, "mach -1"},
		{"tend zero", func(c *Config) { c.TEndMyr = 0 }, "tend_myr 0"},
		{"tend negative", func(c *Config) { c.TEndMyr = -1 }, "tend_myr -1"},
		{"unknown problem", func(c *Config) { c.Problem = "vortex" }, `problem "vortex"`},
		{"unknown field", func(c *Config) { c.Fields = []string{"density", "pressure"} }, `unknown field "pressure"`},
		{"cfl", func(c *Config) { c.CFL = 0.5 }, "cfl 0.5"},
		{"order", func(c *Config) { c.Order = 3 }, "order 3"},
		{"box", func(c *Config) { c.BoxPc = -10 }, "box_pc -10"},
		{"kmin above kmax", func(c *Config) { c.KMin = 9; c.KMax = 4 }, "KMin = 9"},
		{"axis", func(c *Config) { c.Problem = "shocktube"; c.Axis = "w" }, `axis "w"`},
		{"no directory", func(c *Config) { c.Out = filepath.Join(dir, "missing", "a.tsnap") }, "missing"},
		{"exists", func(c *Config) { c.Out = existing }, "exists.tsnap"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Defaults()
			cfg.Out = filepath.Join(t.TempDir(), "out.tsnap")
			tc.edit(&cfg)
			_, err := Run(context.Background(), cfg, Options{})
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line containing %q", msg, tc.want)
			}
			if _, err := os.Stat(cfg.Out); err == nil && cfg.Out != existing {
				t.Errorf("output %s written despite the error", cfg.Out)
			}
		})
	}
	// Existing output is overwritten with Force.
	cfg := Defaults()
	cfg.Grid = 16
	cfg.Out, cfg.Force = existing, true
	if _, err := Run(context.Background(), cfg, Options{}); err != nil {
		t.Fatalf("--force: %v", err)
	}
}

// TestFailureAbortsAllRanks checks that a rank that fails, or an
// interruption, stops every rank with the reason and leaves no file at all.
func TestFailureAbortsAllRanks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fault  Fault
		cancel bool
		want   string
	}{
		{"interrupted", Fault{Rank: -1}, true, "interrupted at step 0"},
		{"start", Fault{Rank: 2, At: "start"}, false, "rank 2: injected fault at start-up"},
		{"mid-run", Fault{Rank: 1, At: "step:2"}, false, "rank 1: injected fault at step 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Defaults()
			cfg.Grid = 16
			cfg.Ranks = 4
			dir := t.TempDir()
			cfg.Out = filepath.Join(dir, "never.tsnap")
			ctx, cancel := context.WithCancel(context.Background())
			if tc.cancel {
				cancel()
			}
			defer cancel()
			_, err := Run(ctx, cfg, Options{Fault: tc.fault})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("files left behind: %v", left)
			}
		})
	}
}

// TestParamsJSON pins the snapshot header's params of the default
// configuration, byte for byte as before the parameters moved to package
// physics: the key order is the struct order, and snapshots of the same
// run must stay identical.
func TestParamsJSON(t *testing.T) {
	const want = `{"problem":"turbulence","grid":64,"tend_myr":0.5,"box_pc":10,"temp_k":10,"mu":2.37,"rho0_cgs":6.77e-22,"cfl":0.3,"order":2,"fields":null,"index":3.6666666666666665,"seed":1,"mach":1.41,"kmin":1,"kmax":0,"amp":0.000001,"wave":"x","direction":"right","axis":"x","rho_left":1,"rho_right":0.125,"vel_left":0,"vel_right":0}`
	if got := string(params(Defaults())); got != want {
		t.Errorf("params:\n got %s\nwant %s", got, want)
	}
}

// TestMaxCFL checks that the limit the parameters are validated against is
// the solver's on a cube.
func TestMaxCFL(t *testing.T) {
	if got := hydro.MaxCFL([3]int{physics.MinGrid, physics.MinGrid, physics.MinGrid}); got != physics.MaxCFL {
		t.Errorf("hydro.MaxCFL = %v, physics.MaxCFL = %v", got, physics.MaxCFL)
	}
}

// TestParamsDocumented checks that docs/FORMAT.md's table of the params
// sim writes lists exactly the keys of Config's JSON form, in its order.
func TestParamsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "FORMAT.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(doc), "### `params` of `sim`")
	if !ok {
		t.Fatal("docs/FORMAT.md has no section \"### `params` of `sim`\"")
	}
	table, _, _ = strings.Cut(table, "\n#")
	var documented []string
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.Split(line, "|")[1]
		for _, f := range strings.Split(first, ",") {
			documented = append(documented, strings.Trim(strings.TrimSpace(f), "`"))
		}
	}
	// The keys of the JSON object, in order.
	dec := json.NewDecoder(bytes.NewReader(params(Defaults())))
	var keys []string
	dec.Token() // {
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(documented, " ") != strings.Join(keys, " ") {
		t.Errorf("docs/FORMAT.md documents params\n%v\nsim writes\n%v", documented, keys)
	}
}
