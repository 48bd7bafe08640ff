package dataset

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// synthetic returns N × N maps with Σ_p[r][c] = 100000·(p+1) + 1000·r + c + 1
// (g cm⁻²): every value tells its projection, row and column.
func synthetic(n int) [3][]float32 {
	var s [3][]float32
	for p := range s {
		s[p] = make([]float32, n*n)
		for r := range n {
			for c := range n {
				s[p][r*n+c] = float32(100000*(p+1) + 1000*r + c + 1)
			}
		}
	}
	return s
}

// sigmaOf inverts a pixel of a synthetic image: the Σ it is the log of.
func sigmaOf(v float32) int { return int(math.Round(math.Pow(10, float64(v)))) }

// TestCutCorners checks the four corner pixels of each of the 48 images of
// 8 × 8 synthetic maps against a table written by hand from the definitions:
// quadrant first (of the original map), then the flip of the 4 × 4 quadrant.
func TestCutCorners(t *testing.T) {
	const n = 8
	imgs, err := Cut(synthetic(n), n, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != PerSnapshot {
		t.Fatalf("%d images, want %d", len(imgs), PerSnapshot)
	}
	// Σ_0 − 100000 at the top-left, top-right, bottom-left, bottom-right
	// corners of image (flip, quadrant); Σ − 1 = 1000·row + column of the
	// original map.
	want := [NumFlips][NumQuadrants][4]int{
		{ // none: the quadrant as is
			{1, 4, 3001, 3004},       // top-left: rows 0–3, cols 0–3
			{5, 8, 3005, 3008},       // top-right: rows 0–3, cols 4–7
			{4001, 4004, 7001, 7004}, // bottom-left: rows 4–7, cols 0–3
			{4005, 4008, 7005, 7008}, // bottom-right
		},
		{ // horizontal: columns reversed
			{4, 1, 3004, 3001},
			{8, 5, 3008, 3005},
			{4004, 4001, 7004, 7001},
			{4008, 4005, 7008, 7005},
		},
		{ // vertical: rows reversed
			{3001, 3004, 1, 4},
			{3005, 3008, 5, 8},
			{7001, 7004, 4001, 4004},
			{7005, 7008, 4005, 4008},
		},
		{ // both: rotated by 180°
			{3004, 3001, 4, 1},
			{3008, 3005, 8, 5},
			{7004, 7001, 4004, 4001},
			{7008, 7005, 4008, 4005},
		},
	}
	const h = n / 2
	for p := range NumProjections {
		for f := range NumFlips {
			for q := range NumQuadrants {
				im := imgs[ImageIndex(p, f, q)]
				if len(im) != h*h {
					t.Fatalf("image (%d,%d,%d) has %d pixels, want %d", p, f, q, len(im), h*h)
				}
				corners := [4]float32{im[0], im[h-1], im[(h-1)*h], im[h*h-1]}
				for k, v := range corners {
					if got, w := sigmaOf(v), 100000*(p+1)+want[f][q][k]; got != w {
						t.Errorf("%s flip %s quadrant %s corner %d: Σ = %d, want %d",
							Projections[p], FlipNames[f], QuadrantNames[q], k, got, w)
					}
				}
			}
		}
	}
}

// TestCutPixels checks every pixel of the 48 images, the pixel value
// (log10 Σ rounded once to float32) included, and that they are distinct.
func TestCutPixels(t *testing.T) {
	const n, h = 10, 5
	sig := synthetic(n)
	imgs, err := Cut(sig, n, 0)
	if err != nil {
		t.Fatal(err)
	}
	for p := range NumProjections {
		for f := range NumFlips {
			for q := range NumQuadrants {
				im := imgs[ImageIndex(p, f, q)]
				for i := range h {
					for j := range h {
						r, c := i, j
						if f == 2 || f == 3 {
							r = h - 1 - i
						}
						if f == 1 || f == 3 {
							c = h - 1 - j
						}
						r += h * (q / 2)
						c += h * (q % 2)
						want := float32(math.Log10(float64(sig[p][r*n+c])))
						if im[i*h+j] != want {
							t.Fatalf("image (%d,%d,%d) pixel (%d,%d) = %v, want log10 Σ[%d][%d] = %v", p, f, q, i, j, im[i*h+j], r, c, want)
						}
					}
				}
			}
		}
	}
	for a := range imgs {
		for b := range a {
			if slices.Equal(imgs[a], imgs[b]) {
				t.Errorf("images %d and %d are equal", a, b)
			}
		}
	}
	// Images do not overlap in memory: appending to one must not touch the next.
	_ = append(imgs[0], -1)
	if imgs[1][0] == -1 {
		t.Error("images are not capacity-limited")
	}
}

// TestCutOrderEquivalence checks the documented relation with the other
// order of operations: flipping the whole map by f then cutting quadrant q
// gives image (f, q XOR f).
func TestCutOrderEquivalence(t *testing.T) {
	const n, h = 8, 4
	sig := synthetic(n)
	imgs, err := Cut(sig, n, 0)
	if err != nil {
		t.Fatal(err)
	}
	for f := range NumFlips {
		var flipped [3][]float32
		for p := range flipped {
			flipped[p] = make([]float32, n*n)
			flip(flipped[p], sig[p], n, f)
		}
		whole, err := Cut(flipped, n, 0)
		if err != nil {
			t.Fatal(err)
		}
		for p := range NumProjections {
			for q := range NumQuadrants {
				if !slices.Equal(whole[ImageIndex(p, 0, q)], imgs[ImageIndex(p, f, q^f)]) {
					t.Errorf("flip-then-cut (%d, %d, %d) ≠ cut-then-flip (%d, %d, %d)", p, f, q, p, f, q^f)
				}
			}
		}
	}
}

// TestCutResamples checks that resampling averages Σ, not log Σ.
func TestCutResamples(t *testing.T) {
	const n = 8
	sig := synthetic(n)
	imgs, err := Cut(sig, n, 2)
	if err != nil {
		t.Fatal(err)
	}
	im := imgs[ImageIndex(1, 0, 3)] // sigma_y, bottom-right
	// Pixel (0, 0) averages Σ over rows 4–5, columns 4–5.
	mean := (float64(sig[1][4*n+4]) + float64(sig[1][4*n+5]) + float64(sig[1][5*n+4]) + float64(sig[1][5*n+5])) / 4
	if want := float32(math.Log10(mean)); len(im) != 4 || im[0] != want {
		t.Errorf("resampled pixel = %v (of %d), want log10(%v) = %v", im[0], len(im), mean, want)
	}
}

func TestCutErrors(t *testing.T) {
	good := synthetic(4)
	bad := synthetic(4)
	bad[1][2*4+3] = 0
	short := synthetic(4)
	short[2] = short[2][:15]
	nan := synthetic(4)
	nan[0][5] = float32(math.NaN())
	for _, c := range []struct {
		name  string
		sigma [3][]float32
		n     int
		size  int
		want  string
	}{
		{"odd", synthetic(5), 5, 0, "even"},
		{"negative size", good, 4, -1, "size -1"},
		{"zero Σ", bad, 4, 0, "sigma_y[2][3] = 0"},
		{"NaN Σ", nan, 4, 0, "sigma_x[1][1] = NaN"},
		{"short", short, 4, 0, "sigma_z holds 15 values"},
	} {
		_, err := Cut(c.sigma, c.n, c.size)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestResampleConstant(t *testing.T) {
	for _, c := range []float32{1, 0.3, -1.6870001, 12345.678} {
		for _, d := range [][2]int{{5, 5}, {8, 4}, {7, 3}, {10, 7}, {250, 64}, {3, 7}, {4, 9}, {1, 5}, {9, 1}} {
			n, size := d[0], d[1]
			src := make([]float32, n*n)
			for i := range src {
				src[i] = c
			}
			for i, v := range Resample(src, n, size) {
				if v != c {
					t.Fatalf("%d² → %d² of constant %v: pixel %d = %v", n, size, c, i, v)
				}
			}
		}
	}
}

func TestResampleBox(t *testing.T) {
	src := []float32{
		1, 2, 3, 4,
		5, 6, 7, 8,
		9, 10, 11, 12,
		13, 14, 15, 16,
	}
	// (1+2+5+6)/4, (3+4+7+8)/4, (9+10+13+14)/4, (11+12+15+16)/4.
	want := []float32{3.5, 5.5, 11.5, 13.5}
	if got := Resample(src, 4, 2); !slices.Equal(got, want) {
		t.Errorf("4² → 2² = %v, want %v", got, want)
	}
	// Factor 3 on 6², values with a fractional mean.
	src6 := make([]float32, 36)
	for i := range src6 {
		src6[i] = float32(i % 7)
	}
	got := Resample(src6, 6, 2)
	for i := range 2 {
		for j := range 2 {
			var s float64
			for r := 3 * i; r < 3*i+3; r++ {
				for c := 3 * j; c < 3*j+3; c++ {
					s += float64(src6[r*6+c])
				}
			}
			if w := float32(s / 9); math.Abs(float64(got[i*2+j]-w)) > 1e-6 {
				t.Errorf("6² → 2² pixel (%d,%d) = %v, want %v", i, j, got[i*2+j], w)
			}
		}
	}
}

// TestResampleFraction checks fractional-overlap weights by hand and that
// the mean is preserved.
func TestResampleFraction(t *testing.T) {
	// 3 → 2: each output pixel covers 1.5 source pixels. With src[r][c] = c,
	// column 0 = (0·1 + 1·0.5)/1.5 = 1/3, column 1 = (1·0.5 + 2·1)/1.5 = 5/3.
	src := []float32{0, 1, 2, 0, 1, 2, 0, 1, 2}
	got := Resample(src, 3, 2)
	want := []float32{1.0 / 3, 5.0 / 3, 1.0 / 3, 5.0 / 3}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-7 {
			t.Errorf("3² → 2² pixel %d = %v, want %v", i, got[i], want[i])
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, d := range [][2]int{{10, 3}, {10, 4}, {10, 7}, {10, 9}, {250, 64}, {125, 100}, {7, 2}} {
		n, size := d[0], d[1]
		src := make([]float32, n*n)
		var in float64
		for i := range src {
			src[i] = rng.Float32()
			in += float64(src[i])
		}
		var out float64
		res := Resample(src, n, size)
		for _, v := range res {
			out += float64(v)
		}
		if a, b := in/float64(n*n), out/float64(size*size); math.Abs(a-b) > 1e-6 {
			t.Errorf("%d² → %d²: mean %v, source mean %v", n, size, b, a)
		}
	}
}

// TestResampleBilinear checks that enlarging a linear ramp is exact where the
// sample positions are not clamped, and constant along the clamped edges.
func TestResampleBilinear(t *testing.T) {
	for _, d := range [][2]int{{4, 8}, {5, 8}, {4, 16}, {3, 12}} {
		n, size := d[0], d[1]
		src := make([]float32, n*n)
		for r := range n {
			for c := range n {
				src[r*n+c] = float32(3*r + 2*c + 1)
			}
		}
		got := Resample(src, n, size)
		pos := func(i int) float64 { return (float64(i)+0.5)*float64(n)/float64(size) - 0.5 }
		interior := 0
		for i := range size {
			for j := range size {
				y, x := pos(i), pos(j)
				cy, cx := min(max(y, 0), float64(n-1)), min(max(x, 0), float64(n-1))
				want := float32(3*cy + 2*cx + 1)
				if got[i*size+j] != want {
					t.Errorf("%d² → %d² pixel (%d,%d) at (%v,%v) = %v, want %v", n, size, i, j, y, x, got[i*size+j], want)
				}
				if y == cy && x == cx {
					interior++
				}
			}
		}
		if interior == 0 {
			t.Errorf("%d² → %d²: no interior pixel checked", n, size)
		}
	}
}
