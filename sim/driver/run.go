package driver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/turbindex/turbindex/sim/comm"
	"github.com/turbindex/turbindex/sim/hydro"
	"github.com/turbindex/turbindex/sim/mesh"
	"github.com/turbindex/turbindex/sim/progress"
	"github.com/turbindex/turbindex/sim/snapshot"
	"github.com/turbindex/turbindex/sim/units"
)

// Options are the run's connections to the outside world.
type Options struct {
	Progress    io.Writer     // where a terminal progress bar is drawn (usually os.Stderr)
	Log         *slog.Logger  // batch-log progress lines; nil for none
	LogInterval time.Duration // time between progress log lines
}

// Result describes a finished run.
type Result struct {
	Path   string
	Header snapshot.Header
	// Totals over the box in code units (mass ρ0 L³, momentum ρ0 L³ c_s) at
	// the start and at the end, and the scale Σ|ρv| at the start against
	// which momentum errors are measured.
	MassStart, MassEnd         float64
	MomentumStart, MomentumEnd [3]float64
	MomentumScale              float64
	// CellUpdatesPerSecond is cells × steps / wall time of the time loop.
	CellUpdatesPerSecond float64
}

// Run performs the simulation described by cfg and writes its snapshot.
func Run(ctx context.Context, cfg Config, opt Options) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sys, _ := units.NewSystem(cfg.BoxPc, cfg.Rho0, cfg.TempK, cfg.Mu)
	dec, _ := mesh.Decompose(cfg.cells(), cfg.Ranks)
	gen := cfg.generator()
	tEnd := cfg.TEndMyr * units.Myr / sys.Time()
	dx := 1 / float64(cfg.Grid) // code units: the box edge is 1
	out := newCollector(cfg, dec)
	res := &Result{Path: cfg.Out}
	prog := progress.New(opt.Progress, opt.Log, "sim "+cfg.Problem, tEnd, opt.LogInterval)

	start := time.Now()
	var loopSeconds float64
	world := comm.NewLocal(cfg.Ranks)
	err := world.Run(func(c comm.Comm) error {
		s, err := hydro.NewSolver(c, dec, gen.Boundaries(), [3]float64{dx, dx, dx}, cfg.CFL, cfg.Order)
		if err != nil {
			return err
		}
		if err := gen.Init(c, dec, s.U); err != nil {
			return err
		}
		if err := s.Start(); err != nil {
			return err
		}
		m0, p0, scale, err := totals(c, s)
		if err != nil {
			return err
		}
		t0 := time.Now()
		for done := false; !done; {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("interrupted at step %d, t = %.4g Myr: %w", s.Steps, s.Time*sys.Time()/units.Myr, err)
			}
			dt, err := s.Timestep()
			if err != nil {
				return err
			}
			if s.Time+dt >= tEnd {
				dt, done = tEnd-s.Time, true
			}
			if err := s.Step(dt); err != nil {
				return err
			}
			if c.Rank() == 0 {
				wall := time.Since(t0).Seconds()
				prog.Update(s.Time,
					slog.Int("step", s.Steps),
					slog.Float64("t_myr", s.Time*sys.Time()/units.Myr),
					slog.Float64("dt_myr", dt*sys.Time()/units.Myr),
					slog.Float64("mcells_per_s", float64(dec.Cells[0]*dec.Cells[1]*dec.Cells[2])*float64(s.Steps)/wall/1e6))
			}
		}
		loop := time.Since(t0).Seconds()
		m1, p1, _, err := totals(c, s)
		if err != nil {
			return err
		}
		if c.Rank() == 0 {
			loopSeconds = loop
			res.Header.Steps = int64(s.Steps)
			res.Header.TimeS = s.Time * sys.Time()
			res.MassStart, res.MomentumStart, res.MomentumScale = m0, p0, scale
			res.MassEnd, res.MomentumEnd = m1, p1
		}
		return out.gather(c, s, sys)
	})
	if err != nil {
		return nil, err
	}
	cells := float64(dec.Cells[0] * dec.Cells[1] * dec.Cells[2])
	res.CellUpdatesPerSecond = cells * float64(res.Header.Steps) / loopSeconds
	prog.Finish(slog.Int64("steps", res.Header.Steps), slog.Float64("mcells_per_s", res.CellUpdatesPerSecond/1e6))

	h := &res.Header
	h.CodeVersion = CodeVersion()
	h.Problem = cfg.Problem
	h.Params, _ = json.Marshal(cfg)
	h.Units = map[string]string{
		"length": "cm", "time": "s", "density": "g cm^-3", "velocity": "cm s^-1", "column_density": "g cm^-2",
	}
	h.Grid = dec.Cells
	for a := range 3 {
		h.BoxCm[a] = float64(dec.Cells[a]) * dx * sys.Length
	}
	h.TimeMyr = h.TimeS / units.Myr
	h.Ranks = cfg.Ranks
	h.Decomposition = dec.Ranks
	h.WallSeconds = time.Since(start).Seconds()
	if err := snapshot.Write(cfg.Out, *h, out.arrays(), cfg.Force); err != nil {
		return nil, err
	}
	return res, nil
}

// totals sums mass and momentum over the box (code units) and Σ|ρv|.
func totals(c comm.Comm, s *hydro.Solver) (mass float64, mom [3]float64, scale float64, err error) {
	b := s.Block
	var m, absP float64
	var p [3]float64
	for k := range b.Size[2] {
		for j := range b.Size[1] {
			c0 := b.Index(0, j, k)
			for i := c0; i < c0+b.Size[0]; i++ {
				m += s.U.Rho[i]
				for d := range 3 {
					p[d] += s.U.M[d][i]
					absP += abs(s.U.M[d][i])
				}
			}
		}
	}
	vol := s.Dx[0] * s.Dx[1] * s.Dx[2]
	if mass, err = c.AllreduceSum(m * vol); err != nil {
		return
	}
	for d := range 3 {
		if mom[d], err = c.AllreduceSum(p[d] * vol); err != nil {
			return
		}
	}
	scale, err = c.AllreduceSum(absP * vol)
	return
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// CodeVersion identifies the build: module version, VCS revision and
// whether the tree was modified.
func CodeVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev != "" {
		v += " " + rev[:min(12, len(rev))] + dirty
	}
	return v
}

// collector assembles the ranks' outputs: the Σ maps and one block per rank
// of every cube field. The ranks of the in-process backend share it.
type collector struct {
	cfg   Config
	dec   mesh.Decomposition
	mu    sync.Mutex
	sigma [3][]float32
	cubes map[string][]snapshot.Block
}

func newCollector(cfg Config, dec mesh.Decomposition) *collector {
	o := &collector{cfg: cfg, dec: dec, cubes: map[string][]snapshot.Block{}}
	n := dec.Cells
	o.sigma[0] = make([]float32, n[2]*n[1])
	o.sigma[1] = make([]float32, n[2]*n[0])
	o.sigma[2] = make([]float32, n[1]*n[0])
	return o
}

// gather adds rank c's share: its finished Σ patches and its cube blocks.
func (o *collector) gather(c comm.Comm, s *hydro.Solver, sys units.System) error {
	b := s.Block
	for a := range 3 {
		sums, last, err := columnSums(c, o.dec, s, a)
		if err != nil {
			return fmt.Errorf("column density along %c: %w", "xyz"[a], err)
		}
		if !last {
			continue
		}
		// Σ = ρ0 L · Σ_i ρ_i dx: sums are in code density, dx in units of L.
		f := s.Dx[a] * sys.ColumnDensity()
		u, v := transverse(a) // the two other axes, slower first
		o.mu.Lock()
		row := o.dec.Cells[v]
		for p := range b.Size[u] {
			for q := range b.Size[v] {
				o.sigma[a][(b.Start[u]+p)*row+b.Start[v]+q] = float32(sums[p*b.Size[v]+q] * f)
			}
		}
		o.mu.Unlock()
	}
	cubes := map[string][]float32{}
	if slices.Contains(o.cfg.Fields, "density") {
		cubes["density"] = interior(b, s.U.Rho, nil, sys.Density)
	}
	if slices.Contains(o.cfg.Fields, "velocity") {
		for d := range 3 {
			cubes["velocity_"+string("xyz"[d])] = interior(b, s.U.M[d], s.U.Rho, sys.Velocity)
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for name, data := range cubes {
		o.cubes[name] = append(o.cubes[name], snapshot.Block{
			Start: []int{b.Start[2], b.Start[1], b.Start[0]},
			Shape: []int{b.Size[2], b.Size[1], b.Size[0]},
			Data:  data,
		})
	}
	return nil
}

// transverse returns the two axes other than a, the slower-varying first:
// the axes of the Σ map along a in C order.
func transverse(a int) (slow, fast int) {
	switch a {
	case 0:
		return 2, 1
	case 1:
		return 2, 0
	}
	return 1, 0
}

// interior copies the interior of a padded array, divided by den if not nil
// and multiplied by scale, to float32 in C order.
func interior(b mesh.Block, f, den []float64, scale float64) []float32 {
	out := make([]float32, 0, b.Cells())
	for k := range b.Size[2] {
		for j := range b.Size[1] {
			c0 := b.Index(0, j, k)
			for i := c0; i < c0+b.Size[0]; i++ {
				v := f[i]
				if den != nil {
					v /= den[i]
				}
				out = append(out, float32(v*scale))
			}
		}
	}
	return out
}

// columnSums sums the density of rank c's block along axis a onto its
// transverse patch, continuing the running sums of the rank below along a
// and passing them on to the rank above. Each column is thus summed cell by
// cell from index 0 to N−1 whatever the decomposition, so the Σ maps are
// bitwise identical for every rank count. last reports whether this rank
// holds the finished sums (it is the top rank along a).
func columnSums(c comm.Comm, dec mesh.Decomposition, s *hydro.Solver, a int) (sums []float64, last bool, err error) {
	b := s.Block
	u, v := transverse(a)
	sums = make([]float64, b.Size[u]*b.Size[v])
	below, above := comm.None, comm.None
	if xyz := b.Coords; xyz[a] > 0 {
		xyz[a]--
		below = dec.RankAt(xyz)
	}
	if xyz := b.Coords; xyz[a] < dec.Ranks[a]-1 {
		xyz[a]++
		above = dec.RankAt(xyz)
	}
	const tag = 100
	if err := c.Sendrecv(nil, comm.None, sums[:len(sums)*boolInt(below != comm.None)], below, tag+a); err != nil {
		return nil, false, err
	}
	rho := s.U.Rho
	for k := range b.Size[2] {
		for j := range b.Size[1] {
			c0 := b.Index(0, j, k)
			switch a {
			case 0:
				acc := sums[k*b.Size[1]+j]
				for i := range b.Size[0] {
					acc += rho[c0+i]
				}
				sums[k*b.Size[1]+j] = acc
			case 1:
				row := sums[k*b.Size[0] : (k+1)*b.Size[0]]
				for i := range row {
					row[i] += rho[c0+i]
				}
			case 2:
				row := sums[j*b.Size[0] : (j+1)*b.Size[0]]
				for i := range row {
					row[i] += rho[c0+i]
				}
			}
		}
	}
	if err := c.Sendrecv(sums[:len(sums)*boolInt(above != comm.None)], above, nil, comm.None, tag+a); err != nil {
		return nil, false, err
	}
	return sums, above == comm.None, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// arrays returns the fields to write: the three Σ maps, then the cubes.
func (o *collector) arrays() []snapshot.Array {
	n := o.dec.Cells
	out := []snapshot.Array{
		{Name: "sigma_x", Unit: "g cm^-2", Shape: []int{n[2], n[1]}, Axes: []string{"z", "y"},
			Chunks: []snapshot.Block{{Start: []int{0, 0}, Shape: []int{n[2], n[1]}, Data: o.sigma[0]}}},
		{Name: "sigma_y", Unit: "g cm^-2", Shape: []int{n[2], n[0]}, Axes: []string{"z", "x"},
			Chunks: []snapshot.Block{{Start: []int{0, 0}, Shape: []int{n[2], n[0]}, Data: o.sigma[1]}}},
		{Name: "sigma_z", Unit: "g cm^-2", Shape: []int{n[1], n[0]}, Axes: []string{"y", "x"},
			Chunks: []snapshot.Block{{Start: []int{0, 0}, Shape: []int{n[1], n[0]}, Data: o.sigma[2]}}},
	}
	cube := []int{n[2], n[1], n[0]}
	axes := []string{"z", "y", "x"}
	for _, name := range []string{"density", "velocity_x", "velocity_y", "velocity_z"} {
		blocks, ok := o.cubes[name]
		if !ok {
			continue
		}
		unit := "cm s^-1"
		if name == "density" {
			unit = "g cm^-3"
		}
		// Ranks finish in any order: store blocks in rank order.
		slices.SortFunc(blocks, func(p, q snapshot.Block) int {
			return slices.Compare(p.Start, q.Start)
		})
		out = append(out, snapshot.Array{Name: name, Unit: unit, Shape: cube, Axes: axes, Chunks: blocks})
	}
	return out
}
