package driver

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sync"

	"github.com/turbindex/turbindex/sim/comm"
	"github.com/turbindex/turbindex/sim/hydro"
	"github.com/turbindex/turbindex/sim/mesh"
	"github.com/turbindex/turbindex/sim/snapshot"
	"github.com/turbindex/turbindex/sim/units"
)

// writeSnapshot writes the run's snapshot from all ranks at once. The Σ
// maps are summed along each axis through the ranks and gathered on rank 0;
// every rank compresses its blocks of the cube fields and writes them at
// its offset (an exclusive scan of the compressed sizes) into one temporary
// file; rank 0 writes the header last and renames the file into place.
func writeSnapshot(c comm.Comm, cfg Config, dec mesh.Decomposition, s *hydro.Solver, sys units.System, h *snapshot.Header) (err error) {
	maps, err := columnDensityMaps(c, dec, s, sys)
	if err != nil {
		return err
	}
	layout := fieldLayout(cfg, dec)
	pieces := localPieces(c.Rank(), cfg, s, sys, maps)
	if err := encodePieces(pieces); err != nil {
		return err
	}
	var local int64
	for _, p := range pieces {
		local += int64(len(p.stored))
	}
	base, err := c.ExscanInt(local)
	if err != nil {
		return err
	}

	// Rank 0 chooses the header room; the others learn it through a sum
	// to which they add zero (exact for integers below 2⁵³).
	var reserve float64
	if c.Rank() == 0 {
		r, err := snapshot.Reserve(*h, layout)
		if err != nil {
			return err
		}
		reserve = float64(r)
	}
	if reserve, err = c.AllreduceSum(reserve); err != nil {
		return err
	}
	dataStart := snapshot.DataStart(int(reserve))
	f, tmp, err := sharedFile(c, cfg.Out)
	if err != nil {
		return err
	}
	defer removeOnError(tmp, &err)
	entries := make([]chunkEntry, len(pieces))
	off := base
	for i, p := range pieces {
		if _, err := f.WriteAt(p.stored, dataStart+off); err != nil {
			f.Close()
			return fmt.Errorf("snapshot %s: %w", cfg.Out, err)
		}
		entries[i] = chunkEntry{p.field, p.chunk, snapshot.NewChunkInfo(p.start, p.shape, uint64(off), p.stored, p.sum)}
		off += int64(len(p.stored))
	}
	// Each writer syncs its own descriptor: on parallel file systems a
	// sync through another descriptor need not cover these writes.
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("snapshot %s: %w", cfg.Out, err)
	}
	msg, err := json.Marshal(entries)
	if err != nil {
		return err
	}
	all, err := c.GatherBytes(msg, 0)
	if err != nil {
		return err
	}
	var failure error
	if c.Rank() == 0 {
		failure = finish(h, layout, all, tmp, int(reserve), cfg)
	}
	return agree(c, failure)
}

// removeOnError removes the temporary file tmp that all ranks write when
// *err is set: every rank that fails removes it, so that a full disk or a
// failed rank leaves nothing behind whichever rank saw the failure (a
// second removal finds nothing, and after the rename on success there is
// no tmp to remove).
func removeOnError(tmp string, err *error) {
	if *err != nil {
		os.Remove(tmp)
	}
}

// sharedFile creates, on rank 0, a temporary file next to out that all
// ranks then open for writing. The name carries a random token chosen by
// rank 0 and shared by a sum to which the other ranks add zero.
func sharedFile(c comm.Comm, out string) (*os.File, string, error) {
	var token float64
	if c.Rank() == 0 {
		token = float64(rand.Uint32())
	}
	token, err := c.AllreduceSum(token)
	if err != nil {
		return nil, "", err
	}
	tmp := snapshot.TempName(out, uint64(token))
	var f *os.File
	if c.Rank() == 0 {
		if f, err = snapshot.CreateShared(tmp); err != nil {
			return nil, "", fmt.Errorf("write %s: %w", out, err)
		}
	}
	if err := c.Barrier(); err != nil {
		if f != nil {
			f.Close()
			os.Remove(tmp)
		}
		return nil, "", err
	}
	if c.Rank() != 0 {
		if f, err = snapshot.OpenShared(tmp); err != nil {
			os.Remove(tmp)
			return nil, "", fmt.Errorf("write %s: %w", out, err)
		}
	}
	return f, tmp, nil
}

// agree returns rank 0's verdict on every rank: nil, or failure on rank 0
// and a generic error elsewhere, so that MPI jobs fail as a whole.
func agree(c comm.Comm, failure error) error {
	all, err := comm.Agree(c, failure)
	switch {
	case err != nil:
		return err
	case failure != nil:
		return failure
	case !all:
		return errors.New("rank 0 failed to finish the file")
	}
	return nil
}

// chunkEntry is a written chunk, as reported to rank 0.
type chunkEntry struct {
	Field, Chunk int
	Info         snapshot.ChunkInfo
}

// finish fills the header's chunk table from every rank's entries, writes
// it at the start of the temporary file and renames the file into place.
func finish(h *snapshot.Header, layout []snapshot.Array, reports [][]byte, tmp string, reserve int, cfg Config) error {
	h.Fields = make([]snapshot.FieldInfo, len(layout))
	for i, a := range layout {
		h.Fields[i] = snapshot.FieldInfo{Name: a.Name, Unit: a.Unit, DType: snapshot.DTypeFloat32,
			Shape: a.Shape, Axes: a.Axes, Chunks: make([]snapshot.ChunkInfo, len(a.Chunks))}
	}
	var dataBytes uint64
	for r, msg := range reports {
		var entries []chunkEntry
		if err := json.Unmarshal(msg, &entries); err != nil {
			return fmt.Errorf("chunk table from rank %d: %w", r, err)
		}
		for _, e := range entries {
			h.Fields[e.Field].Chunks[e.Chunk] = e.Info
			dataBytes = max(dataBytes, e.Info.Offset+e.Info.StoredBytes)
		}
	}
	f, err := snapshot.OpenShared(tmp)
	if err != nil {
		return fmt.Errorf("write %s: %w", cfg.Out, err)
	}
	if err := snapshot.WriteHeader(f, *h, reserve, dataBytes); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", cfg.Out, err)
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("write %s: %w", cfg.Out, err)
	}
	return snapshot.Commit(tmp, cfg.Out, cfg.Force)
}

// fieldLayout returns the geometry of the snapshot's fields (no data): the
// three Σ maps as one chunk each, then the cube fields as one chunk per
// rank, in rank order.
func fieldLayout(cfg Config, dec mesh.Decomposition) []snapshot.Array {
	n := dec.Cells
	one := func(name string, shape []int, axes []string) snapshot.Array {
		return snapshot.Array{Name: name, Unit: "g cm^-2", Shape: shape, Axes: axes,
			Chunks: []snapshot.Block{{Start: []int{0, 0}, Shape: shape}}}
	}
	out := []snapshot.Array{
		one("sigma_x", []int{n[2], n[1]}, []string{"z", "y"}),
		one("sigma_y", []int{n[2], n[0]}, []string{"z", "x"}),
		one("sigma_z", []int{n[1], n[0]}, []string{"y", "x"}),
	}
	for _, name := range cubeNames(cfg) {
		unit := "cm s^-1"
		if name == "density" {
			unit = "g cm^-3"
		}
		a := snapshot.Array{Name: name, Unit: unit, Shape: []int{n[2], n[1], n[0]}, Axes: []string{"z", "y", "x"}}
		for r := range dec.Size() {
			b := dec.Block(r)
			a.Chunks = append(a.Chunks, snapshot.Block{
				Start: []int{b.Start[2], b.Start[1], b.Start[0]},
				Shape: []int{b.Size[2], b.Size[1], b.Size[0]},
			})
		}
		out = append(out, a)
	}
	return out
}

// cubeNames lists the cube fields the configuration asks for, in file order.
func cubeNames(cfg Config) []string {
	var names []string
	if slices.Contains(cfg.Fields, "density") {
		names = append(names, "density")
	}
	if slices.Contains(cfg.Fields, "velocity") {
		names = append(names, "velocity_x", "velocity_y", "velocity_z")
	}
	return names
}

// piece is one chunk this rank stores.
type piece struct {
	field, chunk int // indices into the layout
	start, shape []int
	data         []float32
	stored       []byte
	sum          uint64
}

// localPieces returns the chunks rank stores: on rank 0 the Σ maps, then on
// every rank its block of each cube field (chunk index = rank).
func localPieces(rank int, cfg Config, s *hydro.Solver, sys units.System, maps [3][]float32) []piece {
	var out []piece
	if rank == 0 {
		n := s.Block.Global
		shapes := [3][]int{{n[2], n[1]}, {n[2], n[0]}, {n[1], n[0]}}
		for a := range 3 {
			out = append(out, piece{field: a, start: []int{0, 0}, shape: shapes[a], data: maps[a]})
		}
	}
	b := s.Block
	start := []int{b.Start[2], b.Start[1], b.Start[0]}
	shape := []int{b.Size[2], b.Size[1], b.Size[0]}
	for i, name := range cubeNames(cfg) {
		var data []float32
		switch name {
		case "density":
			data = interior(b, s.U.Rho, nil, sys.Density)
		default:
			d := int(name[len(name)-1] - 'x')
			data = interior(b, s.U.M[d], s.U.Rho, sys.Velocity)
		}
		out = append(out, piece{field: 3 + i, chunk: rank, start: start, shape: shape, data: data})
	}
	return out
}

// encodePieces compresses the pieces concurrently.
func encodePieces(pieces []piece) error {
	errs := make([]error, len(pieces))
	var wg sync.WaitGroup
	for i := range pieces {
		wg.Go(func() {
			p := &pieces[i]
			p.stored, p.sum, errs[i] = snapshot.EncodeChunk(p.data)
			p.data = nil
		})
	}
	wg.Wait()
	return errors.Join(errs...)
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

// columnDensityMaps returns, on rank 0, the three Σ maps (g cm⁻²): Σ_x in
// [z][y], Σ_y in [z][x], Σ_z in [y][x]. Other ranks get nil maps.
func columnDensityMaps(c comm.Comm, dec mesh.Decomposition, s *hydro.Solver, sys units.System) ([3][]float32, error) {
	var maps [3][]float32
	b := s.Block
	var msg []byte
	for a := range 3 {
		sums, last, err := columnSums(c, dec, s, a)
		if err != nil {
			return maps, fmt.Errorf("column density along %c: %w", "xyz"[a], err)
		}
		if !last {
			continue
		}
		// Σ = ρ0 L · Σ_i ρ_i dx: sums are in code density, dx in units of L.
		f := s.Dx[a] * sys.ColumnDensity()
		u, v := transverse(a)
		for _, x := range []int{a, b.Start[u], b.Start[v], b.Size[u], b.Size[v]} {
			msg = binary.LittleEndian.AppendUint32(msg, uint32(x))
		}
		for _, x := range sums {
			msg = binary.LittleEndian.AppendUint32(msg, math.Float32bits(float32(x*f)))
		}
	}
	all, err := c.GatherBytes(msg, 0)
	if err != nil || c.Rank() != 0 {
		return maps, err
	}
	n := dec.Cells
	maps[0] = make([]float32, n[2]*n[1])
	maps[1] = make([]float32, n[2]*n[0])
	maps[2] = make([]float32, n[1]*n[0])
	for _, m := range all {
		for len(m) > 0 {
			var hd [5]int
			for i := range hd {
				hd[i] = int(binary.LittleEndian.Uint32(m[4*i:]))
			}
			m = m[20:]
			a, u0, v0, nu, nv := hd[0], hd[1], hd[2], hd[3], hd[4]
			_, v := transverse(a)
			row := n[v]
			for p := range nu {
				for q := range nv {
					maps[a][(u0+p)*row+v0+q] = math.Float32frombits(binary.LittleEndian.Uint32(m[4*(p*nv+q):]))
				}
			}
			m = m[4*nu*nv:]
		}
	}
	return maps, nil
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
	var in []float64
	if below != comm.None {
		in = sums
	}
	if err := c.Sendrecv(nil, comm.None, in, below, tag+a); err != nil {
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
	var out []float64
	if above != comm.None {
		out = sums
	}
	if err := c.Sendrecv(out, above, nil, comm.None, tag+a); err != nil {
		return nil, false, err
	}
	return sums, above == comm.None, nil
}
