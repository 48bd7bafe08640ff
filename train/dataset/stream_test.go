package dataset

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/turbindex/turbindex/campaign"
)

// TestStream checks that a Stream holds the images of Load, image by image
// and simulation by simulation, and that its statistics, from the cache
// tables alone, are those of ComputeStats.
func TestStream(t *testing.T) {
	m, dir := campaignFixture(t)
	cache := t.TempDir()
	ref, err := Load(m, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := OpenStream(m, dir, Options{Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	if st.Len() != len(ref.Images) || st.Size != ref.Size || st.Sims() != len(m.Rows) {
		t.Fatalf("stream: %d images of %d² from %d simulations, want %d of %d² from %d", st.Len(), st.Size, st.Sims(), len(ref.Images), ref.Size, len(m.Rows))
	}
	pix := make([]float32, st.Size*st.Size)
	for i, im := range ref.Images {
		if got := st.Label(i); got != im.Label {
			t.Fatalf("image %d: label %+v, want %+v", i, got, im.Label)
		}
		if err := st.Read(i, pix); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(pix, im.Pix) {
			t.Fatalf("image %d: pixels differ from Load's", i)
		}
	}
	for k := range st.Sims() {
		ims, err := st.SimImages(k)
		if err != nil {
			t.Fatal(err)
		}
		for j, im := range ims {
			want := ref.Images[k*PerSnapshot+j]
			if im.Label != want.Label || !slices.Equal(im.Pix, want.Pix) {
				t.Fatalf("simulation %d image %d differs from Load's", k, j)
			}
		}
	}

	// The training split's statistics, two ways.
	train, err := OpenStream(m, dir, Options{Cache: cache, Splits: []string{campaign.Train}})
	if err != nil {
		t.Fatal(err)
	}
	if len(train.Warnings) != 0 {
		t.Errorf("warnings on a warm cache: %q", train.Warnings)
	}
	got, err := train.Stats()
	if err != nil {
		t.Fatal(err)
	}
	want, err := ComputeStats(ref)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got.Mean-want.Mean) > 1e-12*math.Abs(want.Mean) || math.Abs(got.Std-want.Std) > 1e-9*want.Std {
		t.Errorf("stream statistics %+v, ComputeStats %+v", got, want)
	}
}

// TestBatchesDeterministic checks that the batches of a shuffled epoch are
// bit for bit the in-memory gather of the same order, for windows of 64 and
// 1024 images and 1 or 4 loader goroutines.
func TestBatchesDeterministic(t *testing.T) {
	m, dir := campaignFixture(t)
	ref, err := Load(m, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := OpenStream(m, dir, Options{Cache: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	stats := Stats{Mean: -3, Std: 0.01}
	order := rand.New(rand.NewPCG(7, 1)).Perm(st.Len())
	const batch = 32
	var want [][]float32
	for b := 0; b < len(order); b += batch {
		var x []float32
		for _, i := range order[b:min(b+batch, len(order))] {
			x = append(x, ref.Images[i].Pix...)
		}
		stats.Apply(x)
		want = append(want, x)
	}
	for _, window := range []int{64, 1024} {
		for _, workers := range []int{1, 4} {
			t.Run(fmt.Sprintf("window%d-workers%d", window, workers), func(t *testing.T) {
				n := 0
				err := st.Batches(order, batch, Loader{Window: window, Workers: workers, Prepare: func(_ int, p []float32) { stats.Apply(p) }}, func(idx []int, pix []float32) error {
					if !slices.Equal(idx, order[n*batch:min((n+1)*batch, len(order))]) {
						t.Fatalf("batch %d: indices %v", n, idx)
					}
					if !slices.Equal(pix, want[n]) {
						t.Fatalf("batch %d: pixels differ from the in-memory batch", n)
					}
					n++
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if n != len(want) {
					t.Fatalf("%d batches, want %d", n, len(want))
				}
			})
		}
	}

	// fn's error stops the stream and comes back.
	stop := errors.New("enough")
	calls := 0
	err = st.Batches(order, batch, Loader{Window: 32}, func([]int, []float32) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("fn error: %v after %d calls", err, calls)
	}
	if err := st.Batches([]int{st.Len()}, batch, Loader{}, nil); err == nil {
		t.Error("an index past the end: no error")
	}
}

// TestStreamDamage checks that a cache file damaged after OpenStream is
// reported by name when read, and that OpenStream rebuilds a damaged or
// stale one with a warning.
func TestStreamDamage(t *testing.T) {
	m, fix := campaignFixture(t)
	dir := copyDir(t, fix)
	cache := t.TempDir()
	st, err := OpenStream(m, dir, Options{Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	path := CachePath(cache, m.Rows[1].ID, st.Size)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-3] ^= 0x5a
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	order := make([]int, st.Len())
	for i := range order {
		order[i] = i
	}
	err = st.Batches(order, 16, Loader{}, func([]int, []float32) error { return nil })
	mustContain(t, "damaged cache", err, path, m.Rows[1].ID)
	again, err := OpenStream(m, dir, Options{Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Warnings) != 1 || !strings.Contains(again.Warnings[0], path) {
		t.Errorf("reopened: warnings %q, want one naming %s", again.Warnings, path)
	}
	if err := again.Batches(order, 16, Loader{}, func([]int, []float32) error { return nil }); err != nil {
		t.Errorf("after the rebuild: %v", err)
	}

	// An unwritable cache is an error for a stream (it cannot work without).
	if os.Geteuid() != 0 {
		ro := filepath.Join(t.TempDir(), "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		_, err = OpenStream(m, dir, Options{Cache: ro})
		mustContain(t, "read-only cache", err, ro)
	}
	if _, err := OpenStream(m, dir, Options{}); err == nil {
		t.Error("no cache directory: no error")
	}
}

// FuzzCache feeds arbitrary bytes to the cache reader: it must return
// images or an error, never panic or allocate without bound.
func FuzzCache(f *testing.F) {
	const size = 4
	pix := make([]float32, PerSnapshot*size*size)
	for i := range pix {
		pix[i] = float32(math.Sin(float64(i)))
	}
	good, err := encodeCache(42, size, pix)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:tableLen(PerSnapshot)])
	f.Add([]byte(cacheMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := decodeCache(data, 42, size)
		if err == nil && len(got) != len(pix) {
			t.Fatalf("%d pixels, want %d", len(got), len(pix))
		}
	})
}

// BenchmarkBatches is the loader's own cost per image: a shuffled pass over
// the fixture's 288 images, decoded from the cache and standardised
// (stream), or gathered by copying from a standardised in-memory set
// (memory). Its cpu-ms/img, against a training step's (BenchmarkTrainStep
// in train/cnn: 9.1 at 250², 2.6 at 128² on this machine), bounds what
// streaming can cost an epoch when the loaders share the cores:
//
//	go test -run '^$' -bench Batches -benchtime 3x ./train/dataset/
func BenchmarkBatches(b *testing.B) {
	m, dir := campaignFixture(b)
	for _, size := range []int{128, 250} {
		cache := b.TempDir()
		set, err := Load(m, dir, Options{Size: size})
		if err != nil {
			b.Fatal(err)
		}
		st, err := OpenStream(m, dir, Options{Size: size, Cache: cache})
		if err != nil {
			b.Fatal(err)
		}
		stats := Stats{Mean: -3, Std: 0.01}
		for _, im := range set.Images {
			stats.Apply(im.Pix)
		}
		order := rand.New(rand.NewPCG(1, 2)).Perm(st.Len())
		b.Run(fmt.Sprintf("memory/%d", size), func(b *testing.B) {
			var x []float32
			cpu0 := cpuSeconds()
			for b.Loop() {
				for i := 0; i < len(order); i += 32 {
					x = x[:0]
					for _, j := range order[i:min(i+32, len(order))] {
						x = append(x, set.Images[j].Pix...)
					}
				}
			}
			b.ReportMetric((cpuSeconds()-cpu0)*1e3/float64(len(order)*b.N), "cpu-ms/img")
		})
		b.Run(fmt.Sprintf("stream/%d", size), func(b *testing.B) {
			cpu0 := cpuSeconds()
			for b.Loop() {
				err := st.Batches(order, 32, Loader{Prepare: func(_ int, p []float32) { stats.Apply(p) }}, func([]int, []float32) error { return nil })
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cpuSeconds()-cpu0)*1e3/float64(len(order)*b.N), "cpu-ms/img")
		})
	}
}

// cpuSeconds is the process's user + system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
