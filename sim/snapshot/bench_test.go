package snapshot

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// density128 returns a 128³ density cube, 1 + 0.02 × a sum of a few random
// plane waves: smooth like a turbulent snapshot at small Mach number, and
// with the same few-percent fluctuations. It is split into 8 blocks of 64³
// as a 2 × 2 × 2 rank decomposition would write it.
func density128() []Array {
	const n, h = 128, 64
	rng := rand.New(rand.NewPCG(1, 2))
	type wave struct{ kx, ky, kz, phase float64 }
	waves := make([]wave, 6)
	for i := range waves {
		k := func() float64 { return 2 * math.Pi * float64(1+rng.IntN(8)) / n }
		waves[i] = wave{k(), k(), k(), 2 * math.Pi * rng.Float64()}
	}
	full := make([]float32, n*n*n)
	for z := range n {
		for y := range n {
			for x := range n {
				s := 0.0
				for _, w := range waves {
					s += math.Sin(w.kx*float64(x) + w.ky*float64(y) + w.kz*float64(z) + w.phase)
				}
				full[(z*n+y)*n+x] = float32(1 + 0.02*s/float64(len(waves)))
			}
		}
	}
	shape := []int{n, n, n}
	a := Array{Name: "density", Unit: "g cm^-3", Shape: shape, Axes: []string{"z", "y", "x"}}
	for _, z := range []int{0, h} {
		for _, y := range []int{0, h} {
			for _, x := range []int{0, h} {
				start, bshape := []int{z, y, x}, []int{h, h, h}
				a.Chunks = append(a.Chunks, Block{Start: start, Shape: bshape, Data: gather(full, shape, start, bshape)})
			}
		}
	}
	return []Array{a}
}

// BenchmarkWriteDensity128 writes a 128³ float32 density cube (8 MiB raw)
// with Write, fsync included, and reports the raw throughput and the
// compression ratio.
func BenchmarkWriteDensity128(b *testing.B) {
	fields := density128()
	path := filepath.Join(b.TempDir(), "d.tsnap")
	const raw = 4 * 128 * 128 * 128
	b.ResetTimer()
	for range b.N {
		if err := Write(path, testHeader(), fields, true); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(raw*float64(b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
	b.ReportMetric(raw/float64(storedSize(b, path)), "ratio")
}

// BenchmarkReadDensity128 reads the cube back with checksums verified.
func BenchmarkReadDensity128(b *testing.B) {
	path := filepath.Join(b.TempDir(), "d.tsnap")
	if err := Write(path, testHeader(), density128(), true); err != nil {
		b.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	const raw = 4 * 128 * 128 * 128
	b.ResetTimer()
	for range b.N {
		if _, err := f.Read("density"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(raw*float64(b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
}

// storedSize returns the total stored bytes of the chunks in path.
func storedSize(tb testing.TB, path string) uint64 {
	f, err := Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var n uint64
	for _, fi := range f.Header.Fields {
		_, s := fieldBytes(&fi)
		n += s
	}
	return n
}
