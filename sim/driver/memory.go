package driver

import (
	"cmp"
	"math"
	"runtime"
	"slices"

	"github.com/turbindex/turbindex/sim/mesh"
	"github.com/turbindex/turbindex/sim/snapshot"
	"github.com/turbindex/turbindex/sim/turbulence"
)

// Memory is the estimated peak resident memory of one simulation, bytes.
type Memory struct {
	// PerRank is what the process of the largest rank needs when every rank
	// is its own (MPI) process: the Go runtime's base and that rank's peak.
	PerRank int64
	// Total is what one process needs to run all the ranks in-process
	// (goroutines): one base and every rank's peak.
	Total int64
	// Base is the part of Total that a process needs whatever it runs.
	Base int64
	// Running is the part of Total past the set-up: the peak of the time
	// loop, checkpoints and the snapshot, all ranks, without Base.
	Running int64

	// The zstd encoders that write snapshots live as long as the process
	// and serve every simulation in it: one per chunk compressed at once,
	// at most procs. Total counts those of one simulation's chunks
	// (pieces); Concurrent adds those that more simulations can bring.
	encoder       int64 // one encoder, for the largest chunk
	pieces, procs int
}

// Concurrent returns what one process needs to run n such simulations at
// once when their set-ups (the initial conditions, often the peak) take
// turns, as sim task runs them: one base, one simulation's peak and n−1
// running simulations.
func (m Memory) Concurrent(n int) int64 {
	n = max(n, 1)
	more := 0 // encoders beyond those counted in Total
	if n > 1 {
		more = min(m.procs, n*m.pieces) - min(m.procs, m.pieces)
	}
	v := float64(m.Total) + float64(n-1)*float64(m.Running) + float64(more)*float64(m.encoder)
	if v >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}

// The model's constants, bytes. The base is the resident size of a sim
// process that has done no work; each in-process rank adds its goroutines
// and communication buffers.
const (
	processBase = 7 << 20
	rankBase    = 512 << 10
)

// EstimateMemory returns the peak resident memory of the simulation c on
// c.Ranks ranks, from its grid, its decomposition, the cube fields it
// stores and whether it checkpoints. It is the largest of the run's
// phases, each counted with everything it allocates (the garbage collector
// rarely runs within a phase):
//
//   - set-up (turbulence): the conserved fields (4 float64 per padded
//     cell), the three complex spectra of a slab, the transpose's row
//     buffer and the velocity slab (88 B per slab cell), and the parts that
//     travel to other ranks, sent and received (in the transposes 32 B per
//     slab cell, in the slab-to-block move 48 B per block cell, times the
//     share (r−1)/r that is not a rank's own);
//   - time loop: conserved, predicted and primitive fields, 88 B per padded
//     cell (96 B at order 1, which keeps its own primitive density), and
//     the ghost-exchange buffers;
//   - checkpoint: the loop's fields and the packed block, 32 B per cell;
//   - snapshot: the loop's fields, each cube field as float32, its
//     shuffled bytes and its compressed copy with the buffer it was
//     compressed into (12 B per cell and field), and on rank 0 the Σ maps;
//     and, once per process, the zstd encoders (snapshot.EncoderBytes), one
//     per chunk compressed at once, largest chunks first, as many as the
//     process has CPUs (GOMAXPROCS).
//
// Measured peak RSS is within 25 % of it from 32³ to 96³ on 1 to 4 ranks
// and 1 to 8 CPUs (see TestEstimateMemoryMatchesRSS in package main). An
// error (a *physics.Error naming the field) means no rank count or the
// grid's sizes overflow 64-bit integers: no machine could index it.
func (c Config) EstimateMemory(checkpoint bool) (Memory, error) {
	return c.EstimateMemoryOn(checkpoint, runtime.GOMAXPROCS(0))
}

// EstimateMemoryOn is EstimateMemory for a process that compresses with
// procs CPUs (each MPI rank's process, or the one process of in-process
// ranks).
func (c Config) EstimateMemoryOn(checkpoint bool, procs int) (Memory, error) {
	if c.Grid < 1 {
		return Memory{}, fieldError("grid", c.Grid, "need at least one cell")
	}
	if c.Ranks < 1 {
		return Memory{}, fieldError("ranks", c.Ranks, "need at least one rank")
	}
	procs = max(procs, 1)
	n := float64(c.Grid)
	// Every byte count of the run (the padded solver arrays, the
	// checkpoint's offsets) is below the solver's 96 B per padded cell.
	if 96*math.Pow(n+2*mesh.Ghost, 3) >= math.MaxInt64 {
		return Memory{}, fieldError("grid", c.Grid, "%.3g cells overflow the 64-bit sizes and offsets of the arrays; no machine could index them", n*n*n)
	}
	dec, err := mesh.Decompose(c.cells(), c.Ranks)
	if err != nil {
		return Memory{}, fieldError("ranks", c.Ranks, "%v", err)
	}
	cubes := float64(len(cubeNames(c)))
	loop := 88.0 // bytes per padded cell in the time loop
	if c.Order == 1 {
		loop = 96
	}
	away := float64(c.Ranks-1) / float64(c.Ranks) // the share of a slab that travels
	var worst, sum, running float64
	var chunks []int64 // raw bytes of every compressed piece, all ranks
	perRankEncoders := 0.0
	for r := range c.Ranks {
		b := dec.Block(r)
		padded, cells := float64(b.Len()), float64(b.Cells())
		y0, y1 := turbulence.SlabRange(c.Grid, c.Ranks, r)
		slab := float64(y1-y0) * n * n
		p := b.Padded()
		var ghosts float64
		for d := range 3 {
			ghosts += 2 * 8 * 4 * mesh.Ghost * padded / float64(p[d]) // send and receive
		}
		phases := []float64{
			32 * padded,                  // set-up of any problem
			loop*padded + ghosts,         // time loop
			loop*padded + 12*cubes*cells, // snapshot
		}
		if checkpoint {
			phases = append(phases, loop*padded+32*cells)
		}
		var own []int64
		for range int(cubes) {
			own = append(own, 4*int64(b.Cells()))
		}
		if r == 0 {
			phases[2] += 3 * n * n * (4 + 8 + 4) // maps, column sums, their message
			own = append(own, 4*int64(c.Grid)*int64(c.Grid), 4*int64(c.Grid)*int64(c.Grid), 4*int64(c.Grid)*int64(c.Grid))
		}
		chunks = append(chunks, own...)
		perRankEncoders = max(perRankEncoders, encoderMemory(own, procs))
		running += slices.Max(phases[1:]) + rankBase
		if c.Problem == "turbulence" {
			phases = append(phases, 32*padded+(88+32*away)*slab+48*away*cells)
		}
		peak := slices.Max(phases) + rankBase
		worst = max(worst, peak)
		sum += peak
	}
	encoders := encoderMemory(chunks, procs)
	return Memory{
		PerRank: int64(processBase + perRankEncoders + worst),
		Total:   int64(processBase + encoders + sum),
		Base:    processBase, Running: int64(running),
		encoder: snapshot.EncoderBytes(slices.Max(chunks)), pieces: len(chunks), procs: procs,
	}, nil
}

// encoderMemory is the resident memory of the zstd encoders that a process
// compressing chunks of the given raw sizes, procs at a time, ends up
// holding: one for each of the min(procs, len(chunks)) largest chunks.
func encoderMemory(chunks []int64, procs int) float64 {
	sorted := slices.SortedFunc(slices.Values(chunks), func(a, b int64) int { return cmp.Compare(b, a) })
	var sum float64
	for _, raw := range sorted[:min(procs, len(sorted))] {
		sum += float64(snapshot.EncoderBytes(raw))
	}
	return sum
}
