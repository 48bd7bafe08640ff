package cnn

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/dsp/fourier"
)

// grf returns an S×S Gaussian random field with power spectrum P(k) ∝
// k^−slope (periodic, zero mean), by spectral synthesis: complex Gaussian
// amplitudes scaled by k^(−slope/2), inverse FFT along rows then columns,
// real part.
func grf(r *rand.Rand, fft *fourier.CmplxFFT, S int, slope float64) []float32 {
	f := make([]complex128, S*S)
	for ky := 0; ky < S; ky++ {
		fy := float64(ky)
		if ky > S/2 {
			fy -= float64(S)
		}
		for kx := 0; kx < S; kx++ {
			fx := float64(kx)
			if kx > S/2 {
				fx -= float64(S)
			}
			k := math.Hypot(fx, fy)
			if k == 0 {
				continue
			}
			f[ky*S+kx] = complex(r.NormFloat64(), r.NormFloat64()) * complex(math.Pow(k, -slope/2), 0)
		}
	}
	row := make([]complex128, S)
	for y := 0; y < S; y++ {
		fft.Sequence(row, f[y*S:(y+1)*S])
		copy(f[y*S:], row)
	}
	col := make([]complex128, S)
	for x := 0; x < S; x++ {
		for y := 0; y < S; y++ {
			col[y] = f[y*S+x]
		}
		fft.Sequence(row, col)
		for y := 0; y < S; y++ {
			f[y*S+x] = row[y]
		}
	}
	out := make([]float32, S*S)
	for i, v := range f {
		out[i] = float32(real(v))
	}
	return out
}

// fieldSet is a synthetic data set: images of slope-2 (label 0) and
// slope-4 (label 1) fields, or, for regression, slopes uniform in [2, 4]
// (label: the slope − 3, centred as a trainer would centre n, since the
// output layer starts near zero).
type fieldSet struct {
	x, y []float32
	n    int
}

func makeFields(seed uint64, n, S int, task string) fieldSet {
	r := rand.New(rand.NewPCG(seed, 5))
	fft := fourier.NewCmplxFFT(S)
	ds := fieldSet{n: n}
	for i := 0; i < n; i++ {
		var slope, label float64
		if task == TaskClassify {
			label = float64(i % 2)
			slope = 2 + 2*label
		} else {
			slope = 2 + 2*r.Float64()
			label = slope - 3
		}
		ds.x = append(ds.x, grf(r, fft, S, slope)...)
		ds.y = append(ds.y, float32(label))
	}
	return ds
}

// standardise scales every set by the mean and standard deviation of the
// first one's pixels (the training set's, as the trainer does).
func standardise(sets ...*fieldSet) {
	var s, s2 float64
	for _, v := range sets[0].x {
		s += float64(v)
		s2 += float64(v) * float64(v)
	}
	n := float64(len(sets[0].x))
	mean := s / n
	std := math.Sqrt(s2/n - mean*mean)
	for _, ds := range sets {
		for i, v := range ds.x {
			ds.x[i] = float32((float64(v) - mean) / std)
		}
	}
}

func (ds fieldSet) batch(i, size, px int) (x, y []float32) {
	j := min(ds.n, i+size)
	return ds.x[i*px : j*px], ds.y[i:j]
}

// epoch trains on ds in order, in batches of the model's size, and
// returns the mean training loss.
func epoch(t testing.TB, m *Model, ds fieldSet) float64 {
	px := m.pixels()
	var sum float64
	for i := 0; i < ds.n; i += m.cfg.Batch {
		x, y := ds.batch(i, m.cfg.Batch, px)
		l, err := m.TrainStep(x, y)
		if err != nil {
			t.Fatal(err)
		}
		sum += l * float64(len(y))
	}
	return sum / float64(ds.n)
}

func accuracy(t testing.TB, m *Model, ds fieldSet) float64 {
	p, err := m.Predict(ds.x)
	if err != nil {
		t.Fatal(err)
	}
	ok := 0
	for i, v := range p {
		if (v >= 0.5) == (ds.y[i] >= 0.5) {
			ok++
		}
	}
	return float64(ok) / float64(ds.n)
}

// TestLearnsFields: on Gaussian random fields of spectral slopes 2 and 4
// (64×64, standardised with the training set's mean and deviation), a
// small network reaches ≥ 95 % validation accuracy within 4 epochs, and
// the default (talk's) network's training loss decreases.
func TestLearnsFields(t *testing.T) {
	train := makeFields(1, 512, 64, TaskClassify)
	val := makeFields(2, 256, 64, TaskClassify)
	standardise(&train, &val)

	cfg := Config{Task: TaskClassify, ImageSize: 64, Filters: []int{8, 16, 16}, Dense: []int{32}, Dropout: 0.25, LearnRate: 1e-3, Batch: 32, Seed: 3}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var acc float64
	for e := 1; e <= 4; e++ {
		l := epoch(t, m, train)
		vl, err := m.Loss(val.x, val.y)
		if err != nil {
			t.Fatal(err)
		}
		acc = accuracy(t, m, val)
		t.Logf("small network, epoch %d: train loss %.4f, validation loss %.4f, accuracy %.3f", e, l, vl, acc)
		if acc >= 0.95 {
			break
		}
	}
	if acc < 0.95 {
		t.Errorf("validation accuracy %.3f after 4 epochs, want ≥ 0.95", acc)
	}

	m, err = New(DefaultConfig(TaskClassify, 64))
	if err != nil {
		t.Fatal(err)
	}
	var losses []float64
	for e := 1; e <= 3; e++ {
		losses = append(losses, epoch(t, m, train))
		t.Logf("default network, epoch %d: train loss %.4f, validation accuracy %.3f", e, losses[e-1], accuracy(t, m, val))
	}
	if !(losses[2] < losses[0]) {
		t.Errorf("default network: training loss %v does not decrease", losses)
	}
}

// TestRegressSlope: the regression task learns the spectral slope of
// fields with slopes uniform in [2, 4]: validation MSE decreases and ends
// well under the variance of the slopes (1/3, the MSE of always answering
// the mean).
func TestRegressSlope(t *testing.T) {
	train := makeFields(3, 384, 32, TaskRegress)
	val := makeFields(4, 128, 32, TaskRegress)
	standardise(&train, &val)
	cfg := Config{Task: TaskRegress, ImageSize: 32, Filters: []int{8, 16}, Dense: []int{32}, Dropout: 0, LearnRate: 1e-3, Batch: 16, Seed: 4}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	first, err := m.Loss(val.x, val.y)
	if err != nil {
		t.Fatal(err)
	}
	last := first
	for e := 1; e <= 8; e++ {
		tl := epoch(t, m, train)
		if last, err = m.Loss(val.x, val.y); err != nil {
			t.Fatal(err)
		}
		t.Logf("epoch %d: train MSE %.4f, validation MSE %.4f", e, tl, last)
	}
	if !(last < first/3) || !(last < 0.05) {
		t.Errorf("validation MSE went from %.4f to %.4f: want a third of it and under 0.05", first, last)
	}
}

func paramBits(m *Model) []uint32 {
	var b []uint32
	for i, p := range m.params {
		for _, v := range p.data() {
			b = append(b, math.Float32bits(v))
		}
		for _, v := range m.opt.v[i] {
			b = append(b, math.Float32bits(v))
		}
	}
	return b
}

func equalBits(a, b []uint32) int {
	if len(a) != len(b) {
		return -2
	}
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// detRun trains a fresh default-architecture model (32×32, dropout on)
// with procs cores on a fixed sequence of batches, one of them partial, and
// returns the bits of its weights and optimizer state.
func detRun(t *testing.T, procs int) []uint32 {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	cfg := DefaultConfig(TaskClassify, 32)
	cfg.Seed = 11
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ds := makeFields(7, 84, 32, TaskClassify)
	for e := 0; e < 2; e++ {
		epoch(t, m, ds) // batches of 32, 32, 20
	}
	return paramBits(m)
}

// TestDeterminism: the same seed gives bitwise the same weights and
// optimizer state after training, with 1, 2 or 3 cores.
func TestDeterminism(t *testing.T) {
	a := detRun(t, 1)
	for _, procs := range []int{2, 3, 2} {
		if i := equalBits(a, detRun(t, procs)); i != -1 {
			t.Fatalf("GOMAXPROCS %d: parameter bits differ from GOMAXPROCS 1 (first at %d)", procs, i)
		}
	}
	cfg := DefaultConfig(TaskClassify, 32)
	cfg.Seed = 12
	other, _ := New(cfg)
	cfg.Seed = 11
	same, _ := New(cfg)
	if equalBits(paramBits(other), paramBits(same)) == -1 {
		t.Fatal("different seeds give the same initial weights")
	}
}

// TestSaveLoad: a checkpoint restores predictions bitwise, and training on
// from it equals uninterrupted training bitwise; damaged checkpoints fail.
func TestSaveLoad(t *testing.T) {
	cfg := DefaultConfig(TaskClassify, 32)
	cfg.Seed = 5
	ds := makeFields(9, 96, 32, TaskClassify)
	px := 32 * 32
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		x, y := ds.batch(i*32, 32, px)
		if _, err := m.TrainStep(x, y); err != nil {
			t.Fatal(err)
		}
	}
	m.SetMeta("pixel_mean", "1.25")
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		t.Fatal(err)
	}
	ckpt := buf.Bytes()
	m2, err := Load(bytes.NewReader(ckpt))
	if err != nil {
		t.Fatal(err)
	}
	if m2.Steps() != 3 {
		t.Fatalf("loaded model has %d steps, want 3", m2.Steps())
	}
	if v, ok := m2.Meta("pixel_mean"); !ok || v != "1.25" {
		t.Fatalf("loaded meta %q, %v", v, ok)
	}
	p1, _ := m.Predict(ds.x)
	p2, _ := m2.Predict(ds.x)
	for i := range p1 {
		if math.Float32bits(p1[i]) != math.Float32bits(p2[i]) {
			t.Fatalf("prediction %d: %v before saving, %v after loading", i, p1[i], p2[i])
		}
	}
	for i := 0; i < 3; i++ {
		x, y := ds.batch(((i+1)%3)*32, 32, px)
		l1, err1 := m.TrainStep(x, y)
		l2, err2 := m2.TrainStep(x, y)
		if err1 != nil || err2 != nil || l1 != l2 {
			t.Fatalf("step %d after loading: loss %v (%v), uninterrupted %v (%v)", i, l2, err2, l1, err1)
		}
	}
	if i := equalBits(paramBits(m), paramBits(m2)); i != -1 {
		t.Fatalf("training resumed from the checkpoint differs from uninterrupted training (first at %d)", i)
	}

	// Damage.
	bad := map[string][]byte{
		"empty":     nil,
		"garbage":   []byte(strings.Repeat("not a model ", 40)),
		"trailing":  append(append([]byte(nil), ckpt...), 0),
		"version":   append([]byte(nil), ckpt...),
		"flip-head": append([]byte(nil), ckpt...),
		"flip-data": append([]byte(nil), ckpt...),
	}
	bad["version"][8] = 9
	bad["flip-head"][20] ^= 0x10
	bad["flip-data"][len(ckpt)/2] ^= 1
	for _, cut := range []int{4, 12, 16, 30, len(ckpt) / 3, len(ckpt) - 5, len(ckpt) - 1} {
		bad["truncated-"+strconv.Itoa(cut)] = ckpt[:cut]
	}
	for name, b := range bad {
		_, err := Load(bytes.NewReader(b))
		if err == nil {
			t.Errorf("%s: Load succeeded", name)
			continue
		}
		if strings.HasPrefix(name, "truncated") && !errors.Is(err, errTruncated) {
			t.Errorf("%s: %v, want %v", name, err, errTruncated)
		}
		t.Logf("%s: %v", name, err)
	}
}

// procStatusKB reads a field of /proc/self/status (VmRSS, VmHWM) in kB,
// or −1.
func procStatusKB(field string) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field+":") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				n, _ := strconv.Atoi(f[1])
				return n
			}
		}
	}
	return -1
}

// TestMemoryStable: training the default network on the synthetic set
// (with validation each epoch), the resident set after epoch 5 is within
// 10 % of the one after epoch 2: buffers are reused, nothing accumulates.
func TestMemoryStable(t *testing.T) {
	if procStatusKB("VmRSS") < 0 {
		t.Skip("no /proc/self/status")
	}
	train := makeFields(11, 320, 64, TaskClassify)
	val := makeFields(12, 100, 64, TaskClassify)
	standardise(&train, &val)
	m, err := New(DefaultConfig(TaskClassify, 64))
	if err != nil {
		t.Fatal(err)
	}
	var rss [6]int
	for e := 1; e <= 5; e++ {
		epoch(t, m, train)
		if _, err := m.Loss(val.x, val.y); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Embed(val.x[:10*64*64]); err != nil {
			t.Fatal(err)
		}
		// Return freed memory to the OS first, so that the resident set
		// is what the process holds on to, not garbage awaiting reuse.
		debug.FreeOSMemory()
		rss[e] = procStatusKB("VmRSS")
		t.Logf("epoch %d: RSS %d kB", e, rss[e])
	}
	if d := math.Abs(float64(rss[5]-rss[2])) / float64(rss[2]); d > 0.10 {
		t.Errorf("RSS %d kB after epoch 2, %d kB after epoch 5 (%.1f %%)", rss[2], rss[5], 100*d)
	}
}

// TestAPI covers validation, shapes and the summary.
func TestAPI(t *testing.T) {
	for _, c := range []Config{
		{},
		func() Config { c := DefaultConfig("guess", 64); return c }(),
		DefaultConfig(TaskClassify, 15),
		func() Config { c := DefaultConfig(TaskClassify, 64); c.Dropout = 1; return c }(),
		func() Config { c := DefaultConfig(TaskClassify, 64); c.Batch = 0; return c }(),
		func() Config { c := DefaultConfig(TaskClassify, 64); c.Filters = []int{16, 0}; return c }(),
		func() Config { c := DefaultConfig(TaskClassify, 64); c.LearnRate = math.NaN(); return c }(),
		func() Config { c := DefaultConfig(TaskClassify, 1<<20); return c }(),
	} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) succeeded", c)
		} else {
			t.Log(err)
		}
	}
	m, err := New(DefaultConfig(TaskClassify, 64))
	if err != nil {
		t.Fatal(err)
	}
	want := []Layer{
		{"conv2d_1", "(None, 64, 64, 16)", 160},
		{"max_pooling2d_1", "(None, 32, 32, 16)", 0},
		{"conv2d_2", "(None, 32, 32, 32)", 4640},
		{"max_pooling2d_2", "(None, 16, 16, 32)", 0},
		{"conv2d_3", "(None, 16, 16, 64)", 18496},
		{"max_pooling2d_3", "(None, 8, 8, 64)", 0},
		{"conv2d_4", "(None, 8, 8, 64)", 36928},
		{"max_pooling2d_4", "(None, 4, 4, 64)", 0},
		{"flatten_1", "(None, 1024)", 0},
		{"dense_1", "(None, 128)", 131200},
		{"dropout_1", "(None, 128)", 0},
		{"dense_2", "(None, 64)", 8256},
		{"dropout_2", "(None, 64)", 0},
		{"dense_3", "(None, 1)", 65},
	}
	got := m.Summary()
	total := 0
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Fatalf("Summary()[%d] = %v, want %v", i, got, want[i])
		}
		total += got[i].Params
	}
	if total != m.Params() || total != 199745 {
		t.Errorf("total parameters %d, Params() %d, want 199745", total, m.Params())
	}
	if l := m.Summary(); len(l) != len(want) {
		t.Errorf("Summary has %d layers, want %d", len(l), len(want))
	}
	S := 64
	x := make([]float32, 3*S*S)
	if _, err := m.TrainStep(x, []float32{0, 1}); err == nil {
		t.Error("TrainStep with 3 images and 2 labels succeeded")
	}
	if _, err := m.TrainStep(x, []float32{0, 1, 2}); err == nil {
		t.Error("TrainStep with label 2 for classification succeeded")
	}
	if _, err := m.TrainStep(make([]float32, 33*S*S), make([]float32, 33)); err == nil {
		t.Error("TrainStep with 33 images (batch 32) succeeded")
	}
	if _, err := m.Predict(x[:S*S-1]); err == nil {
		t.Error("Predict on a partial image succeeded")
	}
	x[5] = float32(math.NaN())
	if _, err := m.Predict(x); err == nil {
		t.Error("Predict on a NaN pixel succeeded")
	}
	x[5] = 0
	// Any number of images, batched internally; each image's outputs do
	// not depend on its batch.
	r := rand.New(rand.NewPCG(1, 2))
	xs := randSlice(r, 70*S*S)
	p, err := m.Predict(xs)
	if err != nil || len(p) != 70 {
		t.Fatalf("Predict of 70 images: %d outputs, %v", len(p), err)
	}
	p1, _ := m.Predict(xs[65*S*S : 66*S*S])
	if p1[0] != p[65] {
		t.Errorf("image 65 alone: %v; in a batch: %v", p1[0], p[65])
	}
	emb, err := m.Embed(xs[:40*S*S])
	if err != nil || len(emb) != 40 || len(emb[0]) != 64 {
		t.Fatalf("Embed: %d × %d, %v", len(emb), len(emb[0]), err)
	}
	sal, err := m.Saliency(xs[:3*S*S])
	if err != nil || len(sal) != 3*S*S {
		t.Fatalf("Saliency: %d values, %v", len(sal), err)
	}
	for _, v := range sal {
		if v < 0 || math.IsNaN(float64(v)) {
			t.Fatalf("saliency value %v", v)
		}
	}
}
