package tsne

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"testing"
	"time"
)

// blobs returns c Gaussian blobs of m points each in d dimensions, unit
// variance, centres 10 apart along distinct axes.
func blobs(c, m, d int, seed uint64) ([][]float64, []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	var x [][]float64
	var lab []int
	for b := 0; b < c; b++ {
		for i := 0; i < m; i++ {
			r := make([]float64, d)
			for j := range r {
				r[j] = rng.NormFloat64()
			}
			r[b] += 10
			x = append(x, r)
			lab = append(lab, b)
		}
	}
	return x, lab
}

// knnAccuracy: leave-one-out k-NN (majority, ties to the nearest) accuracy
// of the labels in the embedding.
func knnAccuracy(y [][2]float64, lab []int, k int) float64 {
	n := len(y)
	ok := 0
	idx := make([]int, 0, n)
	for i := 0; i < n; i++ {
		idx = idx[:0]
		for j := 0; j < n; j++ {
			if j != i {
				idx = append(idx, j)
			}
		}
		d := func(j int) float64 {
			dx, dy := y[i][0]-y[j][0], y[i][1]-y[j][1]
			return dx*dx + dy*dy
		}
		sort.Slice(idx, func(a, b int) bool { return d(idx[a]) < d(idx[b]) })
		votes := map[int]int{}
		best, bl := 0, lab[idx[0]]
		for _, j := range idx[:k] {
			votes[lab[j]]++
			if votes[lab[j]] > best {
				best, bl = votes[lab[j]], lab[j]
			}
		}
		if bl == lab[i] {
			ok++
		}
	}
	return float64(ok) / float64(n)
}

func TestBlobs(t *testing.T) {
	for _, c := range []int{2, 3} {
		x, lab := blobs(c, 100, 50, uint64(c))
		y, err := Embed(x, Options{Perplexity: 30, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		acc := knnAccuracy(y, lab, 5)
		t.Logf("%d blobs in 50-D, %d points: 5-NN accuracy in the embedding %.4f", c, len(x), acc)
		if acc < 0.95 {
			t.Errorf("%d blobs: accuracy %.3f < 0.95", c, acc)
		}
	}
}

// TestPCA: same blobs in 200-D reduced to 20 PCs (covariance path) and in
// 400-D with 150 points (Gram path).
func TestPCA(t *testing.T) {
	for _, d := range []int{200, 400} {
		x, lab := blobs(3, 50, d, 9)
		y, err := Embed(x, Options{Perplexity: 15, Iterations: 400, Seed: 2, PCA: 20})
		if err != nil {
			t.Fatal(err)
		}
		acc := knnAccuracy(y, lab, 5)
		t.Logf("3 blobs in %d-D via PCA 20: accuracy %.4f", d, acc)
		if acc < 0.95 {
			t.Errorf("d=%d: accuracy %.3f", d, acc)
		}
	}
}

// TestDeterminism: identical embeddings with GOMAXPROCS 1 and 4 (600 points
// in 300-D, large enough for gonum's parallel matrix product in the PCA).
func TestDeterminism(t *testing.T) {
	x, _ := blobs(3, 200, 300, 5)
	o := Options{Perplexity: 10, Iterations: 300, Seed: 42, PCA: 30}
	prev := runtime.GOMAXPROCS(1)
	a, err := Embed(x, o)
	runtime.GOMAXPROCS(max(prev, 4))
	b, err2 := Embed(x, o)
	runtime.GOMAXPROCS(prev)
	if err != nil || err2 != nil {
		t.Fatal(err, err2)
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("point %d differs across GOMAXPROCS: %v vs %v", i, a[i], b[i])
		}
	}
	o.Seed = 43
	c, _ := Embed(x, o)
	same := true
	for i := range a {
		if a[i] != c[i] {
			same = false
		}
	}
	if same {
		t.Error("different seeds gave identical embeddings")
	}
}

// TestExactVsBH: θ = 0 (exact) and θ = 0.5 both separate blobs.
func TestExactVsBH(t *testing.T) {
	x, lab := blobs(2, 40, 10, 3)
	for _, th := range []float64{-1, 0.5} {
		y, err := Embed(x, Options{Perplexity: 10, Iterations: 1000, Theta: th, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range y {
			if math.IsNaN(p[0]) || math.IsNaN(p[1]) {
				t.Fatal("NaN in embedding")
			}
		}
		if acc := knnAccuracy(y, lab, 5); acc < 0.95 {
			t.Errorf("θ=%g: accuracy %.3f", th, acc)
		}
	}
}

// TestQuadtree: θ = 0 traversal equals the brute-force sums (with 50
// coincident points), and θ = 0.5 stays within 5 % on Σq.
func TestQuadtree(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 500
	y := make([]float64, 2*n)
	for i := range y {
		y[i] = rng.NormFloat64() * 10
	}
	for i := 0; i < 50; i++ {
		y[2*i], y[2*i+1] = y[0], y[1]
	}
	var tr quadtree
	tr.build(y, n)
	var maxe float64
	for i := 0; i < n; i++ {
		var bx, by, bs float64
		_, _, s := tr.repulse(i, 0.25)
		ex, ey, es := tr.repulse(i, 0)
		for j := 0; j < n; j++ {
			if j == i {
				continue
			}
			dx, dy := y[2*i]-y[2*j], y[2*i+1]-y[2*j+1]
			q := 1 / (1 + dx*dx + dy*dy)
			bs += q
			bx += q * q * dx
			by += q * q * dy
		}
		if math.Abs(es-bs) > 1e-9*bs || math.Abs(ex-bx) > 1e-9 || math.Abs(ey-by) > 1e-9 {
			t.Fatalf("point %d: exact traversal %g %g %g, brute force %g %g %g", i, es, ex, ey, bs, bx, by)
		}
		maxe = math.Max(maxe, math.Abs(s-bs)/bs)
	}
	t.Logf("θ=0.5: max relative error of Σq %.4f", maxe)
	if maxe > 0.05 {
		t.Errorf("θ=0.5 Σq error %.3f", maxe)
	}
}

func TestErrors(t *testing.T) {
	x, _ := blobs(2, 5, 3, 1)
	if _, err := Embed(x, Options{Perplexity: 10}); err == nil {
		t.Error("perplexity ≥ N accepted")
	}
	if _, err := Embed(x[:3], Options{Perplexity: 1}); err == nil {
		t.Error("N < 4 accepted")
	}
	bad := append([][]float64{}, x...)
	bad[4] = bad[4][:2]
	if _, err := Embed(bad, Options{Perplexity: 2}); err == nil {
		t.Error("ragged input accepted")
	}
	nan := append([][]float64{}, x...)
	nan[1] = []float64{1, math.NaN(), 3}
	if _, err := Embed(nan, Options{Perplexity: 2}); err == nil {
		t.Error("NaN accepted")
	}
	// Coincident points must not break the quadtree.
	dup := make([][]float64, 20)
	for i := range dup {
		dup[i] = []float64{float64(i % 2), 0}
	}
	y, err := Embed(dup, Options{Perplexity: 5, Iterations: 100, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range y {
		if math.IsNaN(p[0]) || math.IsNaN(p[1]) {
			t.Fatal("NaN with duplicate points")
		}
	}
}

// BenchmarkEmbed4800: 4 800 points of 1 000 dimensions (two classes), PCA 50,
// perplexity 30, 1 000 iterations — the size of the HOG t-SNE.
func BenchmarkEmbed4800(b *testing.B) {
	x, lab := blobs(2, 2400, 1000, 11)
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		y, err := Embed(x, Options{Perplexity: 30, Seed: 1, PCA: 50})
		if err != nil {
			b.Fatal(err)
		}
		el := time.Since(t0)
		b.StopTimer()
		b.Logf("4800×1000, PCA 50, 1000 it: %v (GOMAXPROCS %d); 5-NN accuracy %.4f", el, runtime.GOMAXPROCS(0), knnAccuracy(y, lab, 5))
		b.StartTimer()
	}
}
