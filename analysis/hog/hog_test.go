package hog

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// ---- test images ----

type testImage struct {
	name       string
	rows, cols int
	pix        []float32
}

func randomImage(rows, cols int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	p := make([]float32, rows*cols)
	for i := range p {
		p[i] = rng.Float32()
	}
	return p
}

func smoothImage(rows, cols int) []float32 {
	p := make([]float32, rows*cols)
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			x, y := float64(c)/float64(cols), float64(r)/float64(rows)
			p[r*cols+c] = float32(math.Sin(2*math.Pi*(1.3*x+0.4*y)) + 0.5*math.Cos(2*math.Pi*(0.7*x-2.1*y)+0.3))
		}
	}
	return p
}

// fieldImage is a lognormal "column density"-like field: white noise smoothed
// by repeated periodic box blurs at several scales, exponentiated.
func fieldImage(rows, cols int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	acc := make([]float64, rows*cols)
	for _, rad := range []int{1, 3, 8} {
		f := make([]float64, rows*cols)
		for i := range f {
			f[i] = rng.NormFloat64()
		}
		for pass := 0; pass < 2; pass++ {
			g := make([]float64, rows*cols)
			for r := 0; r < rows; r++ {
				for c := 0; c < cols; c++ {
					s := 0.0
					for d := -rad; d <= rad; d++ {
						s += f[r*cols+((c+d)%cols+cols)%cols]
					}
					g[r*cols+c] = s
				}
			}
			for r := 0; r < rows; r++ {
				for c := 0; c < cols; c++ {
					s := 0.0
					for d := -rad; d <= rad; d++ {
						s += g[((r+d)%rows+rows)%rows*cols+c]
					}
					f[r*cols+c] = s / float64((2*rad+1)*(2*rad+1))
				}
			}
		}
		for i := range acc {
			acc[i] += f[i] * float64(rad)
		}
	}
	p := make([]float32, rows*cols)
	for i := range p {
		p[i] = float32(math.Exp(acc[i]))
	}
	return p
}

// quantisedImage has small integer values: many zero gradients and exact ties
// (0°, 45°, 90°, 135°, 180°) that exercise the bin-boundary rules.
func quantisedImage(rows, cols int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 3))
	p := make([]float32, rows*cols)
	for i := range p {
		p[i] = float32(rng.IntN(4))
	}
	return p
}

func constImage(rows, cols int, v float32) []float32 {
	p := make([]float32, rows*cols)
	for i := range p {
		p[i] = v
	}
	return p
}

// sigmaImages returns n size×size images cut from the column-density maps
// of a simulation kept in testdata/sigma128.f32: log10 Σ_x, Σ_y, Σ_z (g cm⁻²)
// of a 128³ Kolmogorov box (sim run --grid 128 --seed 3 --tend 0.5), as three
// little-endian float32 128×128 maps. The box is periodic, so each image tiles
// one map periodically from its own offset: Σ's real texture at any size.
func sigmaImages(tb testing.TB, n, size int) [][]float32 {
	const side = 128
	raw, err := os.ReadFile(filepath.Join("testdata", "sigma128.f32"))
	if err != nil || len(raw) != 3*side*side*4 {
		tb.Fatalf("testdata/sigma128.f32: %v, %d bytes, want %d", err, len(raw), 3*side*side*4)
	}
	out := make([][]float32, n)
	for i := range out {
		m, r0, c0 := i%3, 37*i%side, 59*i%side
		p := make([]float32, size*size)
		for r := range size {
			for c := range size {
				k := m*side*side + (r0+r)%side*side + (c0+c)%side
				p[r*size+c] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*k:]))
			}
		}
		out[i] = p
	}
	return out
}

func testImages() []testImage {
	return []testImage{
		{"random64", 64, 64, randomImage(64, 64, 1)},
		{"smooth64", 64, 64, smoothImage(64, 64)},
		{"field96", 96, 96, fieldImage(96, 96, 2)},
		{"constant48", 48, 48, constImage(48, 48, 3.25)},
		{"nonsquare45x70", 45, 70, randomImage(45, 70, 4)},
		{"quantised50x41", 50, 41, quantisedImage(50, 41, 5)},
	}
}

type setting struct{ o Options }

func (s setting) String() string {
	return fmt.Sprintf("o%d_ppc%dx%d_cpb%dx%d_%s", s.o.Orientations, s.o.PixelsPerCell[0], s.o.PixelsPerCell[1],
		s.o.CellsPerBlock[0], s.o.CellsPerBlock[1], s.o.BlockNorm)
}

func testSettings() []Options {
	var out []Options
	for _, n := range []int{8, 9} {
		for _, ppc := range []int{4, 8} {
			for _, cpb := range []int{1, 2, 3} {
				for _, norm := range []string{NormL1, NormL1Sqrt, NormL2, NormL2Hys} {
					out = append(out, Options{n, [2]int{ppc, ppc}, [2]int{cpb, cpb}, norm})
				}
			}
		}
	}
	// Non-square cells and blocks, and an orientation count whose bin
	// boundaries are not exact in binary.
	out = append(out,
		Options{7, [2]int{5, 3}, [2]int{2, 3}, NormL2Hys},
		Options{12, [2]int{6, 7}, [2]int{3, 2}, NormL1},
		Options{9, [2]int{8, 8}, [2]int{3, 3}, NormL2Hys}, // skimage's own defaults
	)
	return out
}

// ---- scikit-image comparison ----

const pyScript = `
import sys, json, time
import numpy as np
try:
    import skimage
    from skimage.feature import hog
except Exception as e:
    print("NOSKIMAGE", e)
    sys.exit(3)
d = sys.argv[1]
jobs = json.load(open(d + "/jobs.json"))
for j in jobs:
    img = np.fromfile(d + "/" + j["image"], dtype="<f8").reshape(j["rows"], j["cols"])
    try:
        f = hog(img, orientations=j["n"], pixels_per_cell=tuple(j["ppc"]),
                cells_per_block=tuple(j["cpb"]), block_norm=j["norm"],
                feature_vector=True, transform_sqrt=False)
        np.asarray(f, dtype="<f8").tofile(d + "/" + j["out"])
    except ValueError as e:
        open(d + "/" + j["out"] + ".err", "w").write(str(e))
# speed at 250x250 with the project's defaults (8 orientations, 20 px cells, 1x1, L2-Hys)
img = np.fromfile(d + "/speed.f64", dtype="<f8").reshape(250, 250)
hog(img, orientations=8, pixels_per_cell=(20, 20), cells_per_block=(1, 1), block_norm="L2-Hys")
n = 0
t0 = time.perf_counter()
while time.perf_counter() - t0 < 1.0:
    f = hog(img, orientations=8, pixels_per_cell=(20, 20), cells_per_block=(1, 1), block_norm="L2-Hys")
    n += 1
dt = time.perf_counter() - t0
np.asarray(f, dtype="<f8").tofile(d + "/speed.out")
print("SPEED %s %.1f" % (skimage.__version__, n / dt))
`

func writeF64(t *testing.T, path string, v []float32) {
	t.Helper()
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(float64(x)))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readF64(t *testing.T, path string) []float64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float64, len(b)/8)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v
}

// skimagePython returns a python3 that can import skimage.feature (the one
// on PATH, else Debian's /usr/bin/python3, where python3-skimage installs),
// or "" and what was tried.
func skimagePython() (string, string) {
	var tried []string
	for _, cand := range []string{"python3", "/usr/bin/python3"} {
		py, err := exec.LookPath(cand)
		if err != nil {
			tried = append(tried, cand+": not found")
			continue
		}
		out, err := exec.Command(py, "-c", "import skimage.feature").CombinedOutput()
		if err == nil {
			return py, ""
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		tried = append(tried, py+": "+lines[len(lines)-1])
	}
	return "", strings.Join(tried, "; ")
}

func findSkimagePython(t *testing.T) string {
	py, tried := skimagePython()
	if py == "" {
		t.Skipf("scikit-image not available (install the Debian package python3-skimage): %s", tried)
	}
	return py
}

func TestAgainstSkimage(t *testing.T) {
	py := findSkimagePython(t)
	dir := t.TempDir()
	imgs := testImages()
	settings := testSettings()
	type job struct {
		Image string `json:"image"`
		Rows  int    `json:"rows"`
		Cols  int    `json:"cols"`
		N     int    `json:"n"`
		PPC   [2]int `json:"ppc"`
		CPB   [2]int `json:"cpb"`
		Norm  string `json:"norm"`
		Out   string `json:"out"`
		img   int
		o     Options
	}
	var jobs []job
	for ii, im := range imgs {
		writeF64(t, filepath.Join(dir, im.name+".f64"), im.pix)
		for si, o := range settings {
			jobs = append(jobs, job{im.name + ".f64", im.rows, im.cols, o.Orientations, o.PixelsPerCell, o.CellsPerBlock,
				o.BlockNorm, fmt.Sprintf("out_%d_%d.f64", ii, si), ii, o})
		}
	}
	// An image with no complete block: skimage returns nothing, we refuse it.
	small := testImage{"tiny10", 10, 10, randomImage(10, 10, 9)}
	writeF64(t, filepath.Join(dir, "tiny10.f64"), small.pix)
	jobs = append(jobs, job{"tiny10.f64", 10, 10, 9, [2]int{4, 4}, [2]int{3, 3}, NormL2Hys, "out_tiny.f64", -1,
		Options{9, [2]int{4, 4}, [2]int{3, 3}, NormL2Hys}})
	speedImg := fieldImage(250, 250, 11)
	writeF64(t, filepath.Join(dir, "speed.f64"), speedImg)

	js := "["
	for i, j := range jobs {
		if i > 0 {
			js += ","
		}
		js += fmt.Sprintf(`{"image":%q,"rows":%d,"cols":%d,"n":%d,"ppc":[%d,%d],"cpb":[%d,%d],"norm":%q,"out":%q}`,
			j.Image, j.Rows, j.Cols, j.N, j.PPC[0], j.PPC[1], j.CPB[0], j.CPB[1], j.Norm, j.Out)
	}
	js += "]"
	if err := os.WriteFile(filepath.Join(dir, "jobs.json"), []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	scr := filepath.Join(dir, "run.py")
	if err := os.WriteFile(scr, []byte(pyScript), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, scr, dir).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "NOSKIMAGE") {
			t.Skipf("scikit-image not importable (install the Debian package python3-skimage): %s", out)
		}
		t.Fatalf("python: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "SPEED ") {
			var ver string
			var ips float64
			fmt.Sscanf(line, "SPEED %s %f", &ver, &ips)
			t.Logf("scikit-image %s: %.1f img/s at 250x250 (default options, one core)", ver, ips)
		}
	}

	// Per-setting worst differences over all images.
	type worst struct{ abs, rel float64 }
	perSetting := map[string]*worst{}
	var order []string
	overall := 0.0
	for _, j := range jobs {
		if j.img < 0 {
			// skimage 0.19 returns an empty vector when there are no complete
			// blocks (and a numpy error when "negative"); we return an error.
			if _, err := os.Stat(filepath.Join(dir, j.Out+".err")); err != nil {
				if n := len(readF64(t, filepath.Join(dir, j.Out))); n != 0 {
					t.Errorf("skimage returned %d features for an image with no complete block", n)
				}
			}
			if _, err := Features(small.pix, small.rows, small.cols, j.o); err == nil {
				t.Errorf("Features accepted an image with no complete block")
			}
			continue
		}
		im := imgs[j.img]
		want := readF64(t, filepath.Join(dir, j.Out))
		got, err := Features(im.pix, im.rows, im.cols, j.o)
		if err != nil {
			t.Errorf("%s %v: %v", im.name, setting{j.o}, err)
			continue
		}
		if len(got) != len(want) || len(got) != Len(im.rows, im.cols, j.o) {
			t.Errorf("%s %v: length %d, skimage %d, Len %d", im.name, setting{j.o}, len(got), len(want), Len(im.rows, im.cols, j.o))
			continue
		}
		key := setting{j.o}.String()
		w := perSetting[key]
		if w == nil {
			w = &worst{}
			perSetting[key] = w
			order = append(order, key)
		}
		bad := 0
		for i := range got {
			d := math.Abs(got[i] - want[i])
			rel := d / math.Max(math.Abs(want[i]), 1e-300)
			if d > w.abs {
				w.abs = d
			}
			if d > 0 && rel > w.rel {
				w.rel = rel
			}
			overall = math.Max(overall, d)
			if d > 1e-5*math.Max(1, math.Abs(want[i])) {
				if bad < 3 {
					t.Errorf("%s %s: feature %d = %.17g, skimage %.17g", im.name, key, i, got[i], want[i])
				}
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("%s %s: %d of %d features differ by more than 1e-5", im.name, key, bad, len(got))
		}
	}
	for _, k := range order {
		t.Logf("%-32s max |diff| %.3g  max rel %.3g", k, perSetting[k].abs, perSetting[k].rel)
	}
	t.Logf("overall max |diff| %.3g over %d images x %d settings", overall, len(imgs), len(settings))

	// The 250x250 default case used for the speed figure.
	want := readF64(t, filepath.Join(dir, "speed.out"))
	got, err := Features(speedImg, 250, 250, DefaultOptions(250))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("250x250: length %d, skimage %d", len(got), len(want))
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-5*math.Max(1, math.Abs(want[i])) {
			t.Fatalf("250x250 default: feature %d = %g, skimage %g", i, got[i], want[i])
		}
	}
}

// ---- pure-Go tests ----

func TestConstantImageIsZero(t *testing.T) {
	for _, norm := range []string{NormL1, NormL1Sqrt, NormL2, NormL2Hys} {
		o := Options{9, [2]int{8, 8}, [2]int{2, 2}, norm}
		f, err := Features(constImage(40, 40, 7), 40, 40, o)
		if err != nil {
			t.Fatal(err)
		}
		if len(f) != Len(40, 40, o) || len(f) != 4*4*2*2*9 {
			t.Fatalf("length %d", len(f))
		}
		for i, v := range f {
			if v != 0 {
				t.Fatalf("%s: feature %d = %g, want 0", norm, i, v)
			}
		}
	}
}

func TestVerticalEdge(t *testing.T) {
	// Left half 0, right half 1: the column gradient is positive, the row
	// gradient zero, so the orientation is 0° and all energy lands in bin 0
	// of the cells containing the edge.
	rows, cols := 16, 16
	img := make([]float32, rows*cols)
	for r := 0; r < rows; r++ {
		for c := cols / 2; c < cols; c++ {
			img[r*cols+c] = 1
		}
	}
	o := Options{8, [2]int{4, 4}, [2]int{1, 1}, NormL1}
	e, err := NewExtractor(rows, cols, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Compute(nil, img); err != nil {
		t.Fatal(err)
	}
	for cr := 0; cr < 4; cr++ {
		for cc := 0; cc < 4; cc++ {
			for b := 0; b < 8; b++ {
				v := e.hist[(cr*4+cc)*8+b]
				// Edge pixels: columns 7 and 8, i.e. cells 1 (col 7) and 2 (col 8);
				// each cell has 4 edge pixels of magnitude 1 over 16 pixels.
				want := 0.0
				if b == 0 && (cc == 1 || cc == 2) {
					want = 4.0 / 16
				}
				if v != want {
					t.Errorf("cell (%d,%d) bin %d = %g, want %g", cr, cc, b, v, want)
				}
			}
		}
	}
	// A horizontal edge goes to 90°: bin 4 of 8.
	img2 := make([]float32, rows*cols)
	for r := rows / 2; r < rows; r++ {
		for c := 0; c < cols; c++ {
			img2[r*cols+c] = 1
		}
	}
	if _, err := e.Compute(nil, img2); err != nil {
		t.Fatal(err)
	}
	for i, v := range e.hist {
		if (v != 0) != (i%8 == 4 && (i/8/4 == 1 || i/8/4 == 2)) {
			t.Errorf("horizontal edge: hist[%d] = %g", i, v)
		}
	}
	// A decreasing edge (1 then 0) has orientation 180° -> 0 after the modulo.
	for i := range img {
		img[i] = 1 - img[i]
	}
	if _, err := e.Compute(nil, img); err != nil {
		t.Fatal(err)
	}
	if e.hist[(0*4+1)*8+0] != 0.25 {
		t.Errorf("decreasing edge: bin 0 = %g, want 0.25", e.hist[(0*4+1)*8+0])
	}
}

func TestOrientationQuirks(t *testing.T) {
	cases := []struct{ gr, gc, want float64 }{
		{0, 1, 0}, {0, -1, 0}, {1, 0, 90}, {-1, 0, 90}, {1, 1, 45}, {-1, -1, 45},
		{1, -1, 135}, {-1, 1, 135},
	}
	for _, c := range cases {
		if got := orientation(c.gr, c.gc); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("orientation(%g,%g) = %.17g, want %g", c.gr, c.gc, got, c.want)
		}
	}
	// A tiny negative angle becomes exactly 180 after numpy's remainder and
	// falls in no bin.
	a := orientation(-1e-300, 1)
	if a != 180 {
		t.Errorf("orientation(-tiny, 1) = %.17g, want 180", a)
	}
	e, _ := NewExtractor(8, 8, Options{8, [2]int{4, 4}, [2]int{1, 1}, NormL2})
	if b := e.bin(a); b != -1 {
		t.Errorf("bin(180) = %d, want -1", b)
	}
	for i := 0; i < 8; i++ {
		if b := e.bin(22.5 * float64(i)); b != i {
			t.Errorf("bin(%g) = %d, want %d", 22.5*float64(i), b, i)
		}
		if b := e.bin(math.Nextafter(22.5*float64(i+1), 0)); b != i {
			t.Errorf("bin(just below %g) = %d, want %d", 22.5*float64(i+1), b, i)
		}
	}
}

// TestBinOfMatchesExact checks the atan2-free bin search against the exact
// atan2 path on random, tie-heavy and nearly-tied gradients.
func TestBinOfMatchesExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 42))
	for _, n := range []int{1, 2, 3, 4, 6, 7, 8, 9, 12, 13, 18, 36} {
		e, err := NewExtractor(8, 8, Options{n, [2]int{1, 1}, [2]int{1, 1}, NormL2})
		if err != nil {
			t.Fatal(err)
		}
		check := func(gr, gc float64) {
			if gr == 0 && gc == 0 {
				return
			}
			if got, want := e.binOf(gr, gc), e.bin(orientation(gr, gc)); got != want {
				t.Fatalf("n=%d: binOf(%g, %g) = %d, exact %d", n, gr, gc, got, want)
			}
		}
		for i := 0; i < 200000; i++ {
			check(rng.NormFloat64(), rng.NormFloat64())
			check(float64(rng.IntN(7)-3), float64(rng.IntN(7)-3))
			// Directions within a hair of each boundary.
			b := e.bnd[rng.IntN(n+1)] * math.Pi / 180
			d := b + (rng.Float64()-0.5)*math.Pow(10, -float64(rng.IntN(16)))
			r := math.Exp(rng.NormFloat64() * 5)
			s, c := math.Sincos(d)
			check(r*s, r*c)
			check(-r*s, -r*c)
			check(float64(float32(r*s)-float32(r*s/3)), float64(float32(r*c)))
			check(-1e-300*rng.Float64(), rng.NormFloat64())
		}
	}
}

func TestInvariants(t *testing.T) {
	img := fieldImage(64, 64, 3)
	for _, o := range testSettings() {
		f, err := Features(img, 64, 64, o)
		if err != nil {
			t.Fatal(err)
		}
		bl := o.CellsPerBlock[0] * o.CellsPerBlock[1] * o.Orientations
		if len(f)%bl != 0 {
			t.Fatalf("%v: length %d not a multiple of block length %d", setting{o}, len(f), bl)
		}
		for b := 0; b < len(f); b += bl {
			var s1, s2 float64
			for _, v := range f[b : b+bl] {
				if v < 0 || math.IsNaN(v) {
					t.Fatalf("%v: bad feature %g", setting{o}, v)
				}
				s1 += v
				s2 += v * v
			}
			switch o.BlockNorm {
			case NormL1:
				if s1 > 1+1e-12 {
					t.Fatalf("%v: L1 block sum %g > 1", setting{o}, s1)
				}
			case NormL1Sqrt:
				if s2 > 1+1e-12 {
					t.Fatalf("%v: L1-sqrt block sum of squares %g > 1", setting{o}, s2)
				}
			case NormL2, NormL2Hys:
				if s2 > 1+1e-12 {
					t.Fatalf("%v: L2 block norm^2 %g > 1", setting{o}, s2)
				}
			}
		}
	}
	// Scaling the image by a power of two scales gradients exactly, so the
	// (nearly scale-free) L2 features barely move.
	o := Options{9, [2]int{8, 8}, [2]int{2, 2}, NormL2}
	f0, _ := Features(img, 64, 64, o)
	scaled := make([]float32, len(img))
	for i, v := range img {
		scaled[i] = 4 * v
	}
	f1, _ := Features(scaled, 64, 64, o)
	for i := range f0 {
		if math.Abs(f0[i]-f1[i]) > 1e-6 {
			t.Fatalf("scale x4 changed feature %d: %g vs %g", i, f0[i], f1[i])
		}
	}
	// Transposing the image maps orientation θ to 90°-θ (mod 180): with an
	// orientation count where that permutes bins and in a setting without
	// boundary ties, the histogram mass per cell is preserved.
	tr := make([]float32, len(img))
	for r := 0; r < 64; r++ {
		for c := 0; c < 64; c++ {
			tr[c*64+r] = img[r*64+c]
		}
	}
	e1, _ := NewExtractor(64, 64, Options{8, [2]int{8, 8}, [2]int{1, 1}, NormL1})
	e2, _ := NewExtractor(64, 64, Options{8, [2]int{8, 8}, [2]int{1, 1}, NormL1})
	e1.Compute(nil, img)
	e2.Compute(nil, tr)
	for cr := 0; cr < 8; cr++ {
		for cc := 0; cc < 8; cc++ {
			var s1, s2 float64
			for b := 0; b < 8; b++ {
				s1 += e1.hist[(cr*8+cc)*8+b]
				s2 += e2.hist[(cc*8+cr)*8+b]
			}
			if math.Abs(s1-s2) > 1e-5*math.Max(1, s1) {
				t.Fatalf("transpose changed cell (%d,%d) mass: %g vs %g", cr, cc, s1, s2)
			}
		}
	}
}

func TestDefaultOptionsAndLen(t *testing.T) {
	o := DefaultOptions(250)
	if o.Orientations != 8 || o.PixelsPerCell != [2]int{20, 20} || o.CellsPerBlock != [2]int{1, 1} || o.BlockNorm != NormL2Hys {
		t.Fatalf("DefaultOptions(250) = %+v", o)
	}
	if n := Len(250, 250, o); n != 12*12*8 {
		t.Fatalf("Len = %d, want %d", n, 12*12*8)
	}
	if n := Len(64, 64, Options{9, [2]int{8, 8}, [2]int{3, 3}, NormL2Hys}); n != 6*6*3*3*9 {
		t.Fatalf("Len = %d", n)
	}
	if DefaultOptions(5).PixelsPerCell != [2]int{1, 1} {
		t.Fatalf("DefaultOptions(5) = %+v", DefaultOptions(5))
	}
}

func TestErrors(t *testing.T) {
	good := Options{8, [2]int{4, 4}, [2]int{1, 1}, NormL2}
	img := randomImage(16, 16, 1)
	cases := []struct {
		name       string
		img        []float32
		rows, cols int
		o          Options
		want       string
	}{
		{"orientations", img, 16, 16, Options{0, [2]int{4, 4}, [2]int{1, 1}, NormL2}, "orientations"},
		{"ppc", img, 16, 16, Options{8, [2]int{0, 4}, [2]int{1, 1}, NormL2}, "pixels per cell"},
		{"cpb", img, 16, 16, Options{8, [2]int{4, 4}, [2]int{1, -1}, NormL2}, "cells per block"},
		{"norm", img, 16, 16, Options{8, [2]int{4, 4}, [2]int{1, 1}, "l2"}, "block norm"},
		{"size", img, 0, 16, good, "image size"},
		{"pixels", img, 15, 16, good, "pixels"},
		{"small", img, 16, 16, Options{8, [2]int{8, 8}, [2]int{3, 3}, NormL2}, "too small"},
	}
	for _, c := range cases {
		_, err := Features(c.img, c.rows, c.cols, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
		if c.name != "pixels" && Len(c.rows, c.cols, c.o) != 0 {
			t.Errorf("%s: Len should be 0", c.name)
		}
	}
	bad := append([]float32(nil), img...)
	bad[3*16+5] = float32(math.NaN())
	if _, err := Features(bad, 16, 16, good); err == nil || !strings.Contains(err.Error(), "row 3, col 5") {
		t.Errorf("NaN pixel: %v", err)
	}
	if _, err := FeaturesBatch([][]float32{img, bad, img}, 16, 16, good, 2); err == nil || !strings.Contains(err.Error(), "image 1") {
		t.Errorf("batch with NaN pixel: %v", err)
	}
}

func TestBatchMatchesSingle(t *testing.T) {
	o := DefaultOptions(96)
	var imgs [][]float32
	for i := 0; i < 9; i++ {
		imgs = append(imgs, fieldImage(96, 96, uint64(20+i)))
	}
	got, err := FeaturesBatch(imgs, 96, 96, o, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, im := range imgs {
		want, _ := Features(im, 96, 96, o)
		for k := range want {
			if got[i][k] != want[k] {
				t.Fatalf("image %d feature %d: batch %g single %g", i, k, got[i][k], want[k])
			}
		}
	}
	if r, err := FeaturesBatch(nil, 96, 96, o, 0); err != nil || r != nil {
		t.Fatalf("empty batch: %v %v", r, err)
	}
}

func TestComputeAllocationFree(t *testing.T) {
	o := DefaultOptions(250)
	e, err := NewExtractor(250, 250, o)
	if err != nil {
		t.Fatal(err)
	}
	img := fieldImage(250, 250, 1)
	dst := make([]float64, e.Len())
	allocs := testing.AllocsPerRun(5, func() {
		if _, err := e.Compute(dst, img); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Compute allocates %v times per image", allocs)
	}
}

// ---- benchmarks ----

// BenchmarkFeatures250 measures 250x250 images of a simulation's Σ maps
// (sigmaImages) with the default options, spread over all cores
// (GOMAXPROCS) with FeaturesBatch; it reports img/s and img/s per core, and
// logs scikit-image's speed on one core for comparison
// (scripts/compare-hog.py pairs the two properly).
func BenchmarkFeatures250(b *testing.B) {
	skimageSpeedOnce.Do(measureSkimageSpeed)
	const n = 64
	imgs := sigmaImages(b, n, 250)
	o := DefaultOptions(250)
	workers := runtime.GOMAXPROCS(0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := FeaturesBatch(imgs, 250, 250, o, workers); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "img/s")
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds()/float64(workers), "img/s/core")
	b.Log(skimageSpeed)
}

var (
	skimageSpeedOnce sync.Once
	skimageSpeed     string
)

// measureSkimageSpeed times skimage.feature.hog on one core for ~2 s on
// 250x250 images with the same options, for the benchmark's log.
func measureSkimageSpeed() {
	py, tried := skimagePython()
	if py == "" {
		skimageSpeed = "scikit-image speed not measured (install python3-skimage): " + tried
		return
	}
	out, err := exec.Command(py, "-c", `
import time, numpy as np, skimage
from skimage.feature import hog
m = np.fromfile("testdata/sigma128.f32", dtype="<f4").reshape(3, 128, 128)
imgs = []
for i in range(8):  # sigmaImages' tiling
    r0, c0 = 37 * i % 128, 59 * i % 128
    t = np.tile(m[i % 3], (3, 3))
    imgs.append(t[r0:r0 + 250, c0:c0 + 250].astype(np.float64))
hog(imgs[0], orientations=8, pixels_per_cell=(20, 20), cells_per_block=(1, 1), block_norm="L2-Hys")
n, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < 2:
    hog(imgs[n % 8], orientations=8, pixels_per_cell=(20, 20), cells_per_block=(1, 1), block_norm="L2-Hys")
    n += 1
print("scikit-image %s: %.1f img/s on the same 250x250 Σ images, default options, one core" % (skimage.__version__, n / (time.perf_counter() - t0)))
`).CombinedOutput()
	if err != nil {
		skimageSpeed = fmt.Sprintf("scikit-image speed not measured: %v %s", err, out)
		return
	}
	skimageSpeed = strings.TrimSpace(string(out))
}

// BenchmarkFeatures250OneCore is the single-goroutine figure (Extractor
// reuse) on the Σ images of BenchmarkFeatures250.
func BenchmarkFeatures250OneCore(b *testing.B) {
	imgs := sigmaImages(b, 8, 250)
	e, _ := NewExtractor(250, 250, DefaultOptions(250))
	dst := make([]float64, e.Len())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Compute(dst, imgs[i%len(imgs)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "img/s")
}

// referenceHist is a literal translation of skimage's _hog_channel_gradient
// and _hoghistogram.hog_histograms (per bin, per cell, float32 total).
func referenceHist(img []float32, rows, cols int, o Options) []float64 {
	x := func(r, c int) float64 { return float64(img[r*cols+c]) }
	gRow := make([]float64, rows*cols)
	gCol := make([]float64, rows*cols)
	for r := 1; r < rows-1; r++ {
		for c := 0; c < cols; c++ {
			gRow[r*cols+c] = x(r+1, c) - x(r-1, c)
		}
	}
	for r := 0; r < rows; r++ {
		for c := 1; c < cols-1; c++ {
			gCol[r*cols+c] = x(r, c+1) - x(r, c-1)
		}
	}
	n := o.Orientations
	pr, pc := o.PixelsPerCell[0], o.PixelsPerCell[1]
	nCR, nCC := rows/pr, cols/pc
	hist := make([]float64, nCR*nCC*n)
	per180 := 180.0 / float64(n)
	for i := 0; i < n; i++ {
		start, end := per180*float64(i+1), per180*float64(i)
		for cr := 0; cr < nCR; cr++ {
			for cc := 0; cc < nCC; cc++ {
				var total float32
				for r := cr * pr; r < (cr+1)*pr; r++ {
					for c := cc * pc; c < (cc+1)*pc; c++ {
						k := r*cols + c
						or := orientation(gRow[k], gCol[k])
						if or >= start || or < end {
							continue
						}
						total = float32(float64(total) + math.Hypot(gCol[k], gRow[k]))
					}
				}
				hist[(cr*nCC+cc)*n+i] = float64(total / float32(pr*pc))
			}
		}
	}
	return hist
}

func TestCellHistogramsMatchReference(t *testing.T) {
	for _, im := range testImages() {
		for _, o := range []Options{
			{8, [2]int{4, 4}, [2]int{1, 1}, NormL1},
			{9, [2]int{5, 3}, [2]int{1, 1}, NormL1},
			{7, [2]int{8, 8}, [2]int{1, 1}, NormL1},
		} {
			e, err := NewExtractor(im.rows, im.cols, o)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.Compute(nil, im.pix); err != nil {
				t.Fatal(err)
			}
			want := referenceHist(im.pix, im.rows, im.cols, o)
			exact := 0
			for i := range want {
				if e.hist[i] == want[i] {
					exact++
				} else if math.Abs(e.hist[i]-want[i]) > 1e-6*math.Abs(want[i]) {
					t.Fatalf("%s %v: hist[%d] = %.17g, reference %.17g", im.name, setting{o}, i, e.hist[i], want[i])
				}
			}
			if exact < len(want)*99/100 {
				t.Errorf("%s %v: only %d of %d cell values bit-identical", im.name, setting{o}, exact, len(want))
			}
		}
	}
}
