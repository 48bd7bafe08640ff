// Package checkpoint saves and restores the complete state of a running
// simulation, so that a job stopped by its time limit resumes exactly where
// it stopped: the resumed run's snapshot is bitwise that of an
// uninterrupted run, whatever the rank counts before and after.
//
// A checkpoint is one file, written by all ranks at once:
//
//	bytes 0–7    magic "\x89TCKPT\r\n"
//	bytes 8–11   uint32 LE version (1)
//	bytes 12–15  uint32 LE, 0
//	bytes 16–23  uint64 LE offset of the header
//	bytes 24–31  uint64 LE length of the header
//	bytes 32–    one chunk per rank of the writing run: the block's interior
//	             cells of ρ, ρvx, ρvy, ρvz (code units), float64 LE, C order
//	             [z][y][x], one array after the other
//	then         the header, JSON (Header)
//
// Chunk offsets follow from the decomposition alone, so every rank writes
// its chunk without waiting for the others; rank 0 writes the header last.
package checkpoint

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/cespare/xxhash/v2"

	"github.com/turbindex/turbindex/sim/mesh"
)

const (
	magic     = "\x89TCKPT\r\n"
	version   = 1
	preamble  = 32
	maxHeader = 64 << 20
	// fields is the number of conserved arrays stored per cell.
	fields = 4
)

// Header describes a checkpoint. Quantities are in code units.
type Header struct {
	Format  string          `json:"format"` // "tckpt"
	Version int             `json:"version"`
	Config  json.RawMessage `json:"config"` // the run's parameters; a resume must match them
	Grid    [3]int          `json:"grid"`
	Time    float64         `json:"time"`  // simulated time, code units (L/c_s)
	Steps   int             `json:"steps"` // time steps taken
	// Run bookkeeping carried across restarts.
	WallSeconds   float64    `json:"wall_seconds"` // wall time of the segments so far, s
	Restarts      int        `json:"restarts"`
	MassStart     float64    `json:"mass_start"`
	MomentumStart [3]float64 `json:"momentum_start"`
	MomentumScale float64    `json:"momentum_scale"`
	Chunks        []Chunk    `json:"chunks"`
}

// Chunk is one stored block.
type Chunk struct {
	Start    [3]int `json:"start"` // first interior cell, global indices x, y, z
	Size     [3]int `json:"size"`  // cells along x, y, z
	Offset   int64  `json:"offset"`
	XXHash64 string `json:"xxhash64"` // of the chunk's bytes
}

// Offset returns the file offset of rank r's chunk in a checkpoint written
// with decomposition dec.
func Offset(dec mesh.Decomposition, r int) int64 {
	off := int64(preamble)
	for q := range r {
		off += chunkBytes(dec.Block(q))
	}
	return off
}

func chunkBytes(b mesh.Block) int64 { return int64(b.Cells()) * fields * 8 }

// Pack serialises the interior of the four padded arrays of block b.
func Pack(b mesh.Block, arrays [fields][]float64) []byte {
	out := make([]byte, 0, chunkBytes(b))
	for _, a := range arrays {
		for k := range b.Size[2] {
			for j := range b.Size[1] {
				c0 := b.Index(0, j, k)
				for _, v := range a[c0 : c0+b.Size[0]] {
					out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
				}
			}
		}
	}
	return out
}

// Sum returns the checksum of a chunk's bytes as stored in the header.
func Sum(chunk []byte) string { return fmt.Sprintf("%016x", xxhash.Sum64(chunk)) }

// WriteHeader writes h at the end of the data (at dataEnd) and the preamble
// that points to it.
func WriteHeader(w io.WriterAt, h Header, dataEnd int64) error {
	h.Format, h.Version = "tckpt", version
	js, err := json.Marshal(h)
	if err != nil {
		return err
	}
	if _, err := w.WriteAt(js, dataEnd); err != nil {
		return err
	}
	pre := make([]byte, 0, preamble)
	pre = append(pre, magic...)
	pre = binary.LittleEndian.AppendUint32(pre, version)
	pre = binary.LittleEndian.AppendUint32(pre, 0)
	pre = binary.LittleEndian.AppendUint64(pre, uint64(dataEnd))
	pre = binary.LittleEndian.AppendUint64(pre, uint64(len(js)))
	_, err = w.WriteAt(pre, 0)
	return err
}

// File is an open checkpoint.
type File struct {
	Path   string
	Header Header
	f      *os.File
}

// ErrCorrupt is matched by every error reporting a damaged checkpoint.
var ErrCorrupt = errors.New("corrupt checkpoint")

func corrupt(path, format string, args ...any) error {
	return fmt.Errorf("checkpoint %s: %s: %w", path, fmt.Sprintf(format, args...), ErrCorrupt)
}

// Open reads and checks the preamble and header of the checkpoint at path.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	cf, err := decode(f, st.Size(), path)
	if err != nil {
		f.Close()
		return nil, err
	}
	cf.f = f
	return cf, nil
}

func decode(r io.ReaderAt, size int64, path string) (*File, error) {
	pre := make([]byte, preamble)
	if _, err := r.ReadAt(pre, 0); err != nil {
		return nil, corrupt(path, "file of %d bytes is shorter than its preamble", size)
	}
	if string(pre[:8]) != magic {
		return nil, corrupt(path, "not a turbindex checkpoint (bad magic)")
	}
	if v := binary.LittleEndian.Uint32(pre[8:]); v != version {
		return nil, corrupt(path, "version %d, this program reads %d", v, version)
	}
	at, n := binary.LittleEndian.Uint64(pre[16:]), binary.LittleEndian.Uint64(pre[24:])
	if n > maxHeader || at < preamble || at > uint64(size) || n > uint64(size)-at {
		return nil, corrupt(path, "header of %d bytes at %d does not fit a file of %d bytes", n, at, size)
	}
	js := make([]byte, n)
	if _, err := r.ReadAt(js, int64(at)); err != nil {
		return nil, corrupt(path, "read header: %v", err)
	}
	cf := &File{Path: path}
	if err := json.Unmarshal(js, &cf.Header); err != nil {
		return nil, corrupt(path, "header: %v", err)
	}
	h := &cf.Header
	if h.Format != "tckpt" {
		return nil, corrupt(path, "format %q", h.Format)
	}
	covered := 0
	for i, c := range h.Chunks {
		b := mesh.Block{Global: h.Grid, Start: c.Start, Size: c.Size}
		for a := range 3 {
			if c.Start[a] < 0 || c.Size[a] < 1 || c.Start[a]+c.Size[a] > h.Grid[a] {
				return nil, corrupt(path, "chunk %d lies outside the %v grid", i, h.Grid)
			}
		}
		if c.Offset < preamble || c.Offset+chunkBytes(b) > int64(at) {
			return nil, corrupt(path, "chunk %d at %d overlaps the header or the preamble", i, c.Offset)
		}
		covered += b.Cells()
	}
	if covered != h.Grid[0]*h.Grid[1]*h.Grid[2] {
		return nil, corrupt(path, "chunks cover %d cells of %v", covered, h.Grid)
	}
	return cf, nil
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// Restore fills the interior cells of block b in the four padded arrays
// from every stored chunk that overlaps it, checking each chunk it reads.
// The stored decomposition need not be b's.
func (f *File) Restore(b mesh.Block, arrays [fields][]float64) error {
	for i, c := range f.Header.Chunks {
		var lo, hi [3]int
		empty := false
		for a := range 3 {
			lo[a] = max(c.Start[a], b.Start[a])
			hi[a] = min(c.Start[a]+c.Size[a], b.Start[a]+b.Size[a])
			empty = empty || lo[a] >= hi[a]
		}
		if empty {
			continue
		}
		cb := mesh.Block{Global: f.Header.Grid, Start: c.Start, Size: c.Size}
		buf := make([]byte, chunkBytes(cb))
		if _, err := f.f.ReadAt(buf, c.Offset); err != nil {
			return corrupt(f.Path, "chunk %d: %v", i, err)
		}
		if s := Sum(buf); s != c.XXHash64 {
			return corrupt(f.Path, "chunk %d: checksum mismatch (stored %s, computed %s)", i, c.XXHash64, s)
		}
		n := c.Size[0] * c.Size[1] * c.Size[2]
		for q, a := range arrays {
			for z := lo[2]; z < hi[2]; z++ {
				for y := lo[1]; y < hi[1]; y++ {
					src := q*n + ((z-c.Start[2])*c.Size[1]+(y-c.Start[1]))*c.Size[0] + (lo[0] - c.Start[0])
					dst := b.Index(lo[0]-b.Start[0], y-b.Start[1], z-b.Start[2])
					for x := range hi[0] - lo[0] {
						a[dst+x] = math.Float64frombits(binary.LittleEndian.Uint64(buf[8*(src+x):]))
					}
				}
			}
		}
	}
	return nil
}
