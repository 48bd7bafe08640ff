// Package tsne is a deterministic Barnes–Hut t-SNE (van der Maaten 2008,
// 2014) for turbindex's feature and embedding plots.
//
// Algorithm: optional PCA to Options.PCA dimensions (eigen-decomposition of
// the covariance, or of the Gram matrix when there are more dimensions than
// points); exact brute-force k-nearest neighbours with k = min(N−1,
// ⌊3·perplexity⌋); per-point binary search of the Gaussian precision to match
// the perplexity; symmetrised sparse P = (P_j|i + P_i|j)/2N; Student-t
// similarities in 2-D with Barnes–Hut (quadtree, θ) repulsion; gradient
// descent with momentum 0.5 → 0.8, early exaggeration 12 for the first 250
// iterations, adaptive gains (+0.2 / ×0.8, floor 0.01) and the learning rate
// max(N/12/4, 50) ("auto", as in scikit-learn and openTSNE) unless given.
//
// Determinism: the initialisation is a seeded N(0, 10⁻⁴) draw; all parallel
// loops write per-point results and every reduction runs in a fixed order,
// so the embedding does not depend on GOMAXPROCS.
package tsne

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"

	"gonum.org/v1/gonum/mat"
)

// Options: zero values select Perplexity 30, Iterations 1000, Theta 0.5,
// learning rate auto. Theta < 0 means exact repulsion (θ = 0). PCA > 0
// reduces the input to that many principal components first when it has more
// dimensions (50 is the customary choice).
type Options struct {
	Perplexity   float64
	Iterations   int
	Theta        float64
	Seed         uint64
	PCA          int     // 0 = no PCA
	LearningRate float64 // 0 = auto: max(N/12/4, 50)
	// Progress, if not nil, is called after each iteration with the
	// number done and the total (it does not change the result).
	Progress func(done, total int)
}

const (
	exaggeration   = 12.0
	exaggerationIt = 250
)

// Embed returns the 2-D t-SNE embedding of the rows of x.
func Embed(x [][]float64, o Options) ([][2]float64, error) {
	n := len(x)
	if n < 4 {
		return nil, fmt.Errorf("tsne: %d points, need at least 4", n)
	}
	d := len(x[0])
	if d == 0 {
		return nil, errors.New("tsne: zero-dimensional points")
	}
	for i, r := range x {
		if len(r) != d {
			return nil, fmt.Errorf("tsne: row %d has %d values, row 0 has %d", i, len(r), d)
		}
		for j, v := range r {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("tsne: row %d column %d is %v", i, j, v)
			}
		}
	}
	perp := o.Perplexity
	if perp == 0 {
		perp = 30
	}
	if !(perp > 0) {
		return nil, fmt.Errorf("tsne: perplexity %g must be positive", perp)
	}
	if perp >= float64(n) {
		return nil, fmt.Errorf("tsne: perplexity %g must be smaller than the number of points %d", perp, n)
	}
	iters := o.Iterations
	if iters == 0 {
		iters = 1000
	}
	if iters < 0 {
		return nil, fmt.Errorf("tsne: %d iterations", iters)
	}
	theta := o.Theta
	if theta == 0 {
		theta = 0.5
	} else if theta < 0 {
		theta = 0
	}
	if o.PCA < 0 {
		return nil, fmt.Errorf("tsne: PCA %d", o.PCA)
	}
	lr := o.LearningRate
	if lr == 0 {
		lr = math.Max(float64(n)/exaggeration/4, 50)
	}
	if !(lr > 0) || math.IsInf(lr, 0) {
		return nil, fmt.Errorf("tsne: learning rate %g", lr)
	}

	// Flat copy (the PCA centres it; distances do not need centring).
	data := make([]float64, n*d)
	for i, r := range x {
		copy(data[i*d:], r)
	}
	if o.PCA > 0 && o.PCA < d {
		data = pca(data, n, d, o.PCA)
		d = o.PCA
	}

	k := int(3 * perp)
	if k > n-1 {
		k = n - 1
	}
	if k < 1 {
		k = 1
	}
	nbr, dist := knn(data, n, d, k)
	rows, cols, vals := affinities(nbr, dist, n, k, perp)

	return optimise(rows, cols, vals, n, iters, theta, lr, o.Seed, o.Progress), nil
}

// parallel runs f over chunks [lo, hi) of [0, n) on GOMAXPROCS workers;
// f must write only per-index results.
func parallel(n int, f func(lo, hi int)) {
	w := runtime.GOMAXPROCS(0)
	if w > n {
		w = n
	}
	if w <= 1 {
		f(0, n)
		return
	}
	chunk := (n + w*4 - 1) / (w * 4)
	var wg sync.WaitGroup
	next := make(chan int, (n+chunk-1)/chunk)
	for lo := 0; lo < n; lo += chunk {
		next <- lo
	}
	close(next)
	for t := 0; t < w; t++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lo := range next {
				f(lo, min(lo+chunk, n))
			}
		}()
	}
	wg.Wait()
}

// pca centres data (n×d, row-major) and projects it on its first p principal
// components. Eigenvector signs are fixed (largest-magnitude entry positive).
func pca(data []float64, n, d, p int) []float64 {
	for j := 0; j < d; j++ {
		var m float64
		for i := 0; i < n; i++ {
			m += data[i*d+j]
		}
		m /= float64(n)
		for i := 0; i < n; i++ {
			data[i*d+j] -= m
		}
	}
	X := mat.NewDense(n, d, data)
	out := make([]float64, n*p)
	var eig mat.EigenSym
	fixSign := func(v *mat.Dense, col int) float64 {
		r, _ := v.Dims()
		best, s := 0.0, 1.0
		for i := 0; i < r; i++ {
			a := v.At(i, col)
			if math.Abs(a) > best {
				best = math.Abs(a)
				if a < 0 {
					s = -1
				} else {
					s = 1
				}
			}
		}
		return s
	}
	if d <= n {
		var c mat.Dense
		c.Mul(X.T(), X)
		sym := mat.NewSymDense(d, nil)
		for i := 0; i < d; i++ {
			for j := i; j < d; j++ {
				sym.SetSym(i, j, 0.5*(c.At(i, j)+c.At(j, i)))
			}
		}
		eig.Factorize(sym, true)
		var v mat.Dense
		eig.VectorsTo(&v)
		// Eigenvalues ascending: take the last p columns.
		W := mat.NewDense(d, p, nil)
		for c := 0; c < p; c++ {
			col := d - 1 - c
			s := fixSign(&v, col)
			for i := 0; i < d; i++ {
				W.Set(i, c, s*v.At(i, col))
			}
		}
		var proj mat.Dense
		proj.Mul(X, W)
		for i := 0; i < n; i++ {
			for c := 0; c < p; c++ {
				out[i*p+c] = proj.At(i, c)
			}
		}
		return out
	}
	// More dimensions than points: Gram matrix K = X Xᵀ = U Λ Uᵀ; the scores
	// are U √Λ.
	var g mat.Dense
	g.Mul(X, X.T())
	sym := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			sym.SetSym(i, j, 0.5*(g.At(i, j)+g.At(j, i)))
		}
	}
	eig.Factorize(sym, true)
	var u mat.Dense
	eig.VectorsTo(&u)
	lam := eig.Values(nil)
	for c := 0; c < p && c < n; c++ {
		col := n - 1 - c
		s := fixSign(&u, col) * math.Sqrt(math.Max(lam[col], 0))
		for i := 0; i < n; i++ {
			out[i*p+c] = s * u.At(i, col)
		}
	}
	return out
}

// knn returns, for each point, its k nearest neighbours (by squared
// Euclidean distance, ties by index) and their squared distances, in
// increasing order. Brute force with a bounded max-heap per point.
func knn(data []float64, n, d, k int) ([]int32, []float64) {
	nbr := make([]int32, n*k)
	dist := make([]float64, n*k)
	type cand struct {
		d float64
		j int32
	}
	// worse reports whether a ranks after b.
	worse := func(a, b cand) bool {
		if a.d != b.d {
			return a.d > b.d
		}
		return a.j > b.j
	}
	parallel(n, func(lo, hi int) {
		h := make([]cand, 0, k)
		for i := lo; i < hi; i++ {
			xi := data[i*d : (i+1)*d]
			h = h[:0]
			for j := 0; j < n; j++ {
				if j == i {
					continue
				}
				xj := data[j*d : (j+1)*d]
				var s float64
				for t, v := range xi {
					e := v - xj[t]
					s += e * e
				}
				c := cand{s, int32(j)}
				if len(h) < k {
					// Sift up.
					h = append(h, c)
					for u := len(h) - 1; u > 0; {
						p := (u - 1) / 2
						if !worse(h[u], h[p]) {
							break
						}
						h[u], h[p] = h[p], h[u]
						u = p
					}
					continue
				}
				if !worse(h[0], c) {
					continue
				}
				// Replace the root (the worst kept) and sift down.
				h[0] = c
				for u := 0; ; {
					l, r, m := 2*u+1, 2*u+2, u
					if l < k && worse(h[l], h[m]) {
						m = l
					}
					if r < k && worse(h[r], h[m]) {
						m = r
					}
					if m == u {
						break
					}
					h[u], h[m] = h[m], h[u]
					u = m
				}
			}
			sort.Slice(h, func(a, b int) bool { return worse(h[b], h[a]) })
			for t := 0; t < k; t++ {
				nbr[i*k+t] = h[t].j
				dist[i*k+t] = h[t].d
			}
		}
	})
	return nbr, dist
}

// affinities calibrates the conditional P_j|i over each point's neighbours
// to the perplexity and symmetrises them into a CSR matrix summing to 1.
func affinities(nbr []int32, dist []float64, n, k int, perp float64) (rows []int, cols []int32, vals []float64) {
	cond := make([]float64, n*k)
	target := math.Log(perp)
	parallel(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			dd := dist[i*k : (i+1)*k]
			p := cond[i*k : (i+1)*k]
			beta, bmin, bmax := 1.0, math.Inf(-1), math.Inf(1)
			// Distances are shifted by the nearest one for stability.
			d0 := dd[0]
			for it := 0; it < 200; it++ {
				var sum, hsum float64
				for t, v := range dd {
					e := math.Exp(-beta * (v - d0))
					p[t] = e
					sum += e
					hsum += (v - d0) * e
				}
				h := math.Log(sum) + beta*hsum/sum
				for t := range p {
					p[t] /= sum
				}
				diff := h - target
				if math.Abs(diff) < 1e-5 {
					break
				}
				if diff > 0 {
					bmin = beta
					if math.IsInf(bmax, 1) {
						beta *= 2
					} else {
						beta = (beta + bmax) / 2
					}
				} else {
					bmax = beta
					if math.IsInf(bmin, -1) {
						beta /= 2
					} else {
						beta = (beta + bmin) / 2
					}
				}
			}
		}
	})
	type ent struct {
		i, j int32
		v    float64
	}
	es := make([]ent, 0, 2*n*k)
	for i := 0; i < n; i++ {
		for t := 0; t < k; t++ {
			j := nbr[i*k+t]
			v := cond[i*k+t]
			es = append(es, ent{int32(i), j, v}, ent{j, int32(i), v})
		}
	}
	sort.Slice(es, func(a, b int) bool {
		if es[a].i != es[b].i {
			return es[a].i < es[b].i
		}
		return es[a].j < es[b].j
	})
	rows = make([]int, n+1)
	norm := 1 / (2 * float64(n))
	for a := 0; a < len(es); {
		b := a
		var v float64
		for b < len(es) && es[b].i == es[a].i && es[b].j == es[a].j {
			v += es[b].v // at most two terms: order-independent
			b++
		}
		cols = append(cols, es[a].j)
		vals = append(vals, v*norm)
		rows[es[a].i+1]++
		a = b
	}
	for i := 0; i < n; i++ {
		rows[i+1] += rows[i]
	}
	return rows, cols, vals
}

func optimise(rows []int, cols []int32, vals []float64, n, iters int, theta, lr float64, seed uint64, progress func(done, total int)) [][2]float64 {
	rng := rand.New(rand.NewPCG(seed, 0x7453_4e45))
	y := make([]float64, 2*n)
	for i := range y {
		y[i] = 1e-4 * rng.NormFloat64()
	}
	upd := make([]float64, 2*n)
	gains := make([]float64, 2*n)
	for i := range gains {
		gains[i] = 1
	}
	grad := make([]float64, 2*n)
	rep := make([]float64, 2*n)
	sq := make([]float64, n)
	var tr quadtree
	for it := 0; it < iters; it++ {
		if progress != nil && it > 0 {
			progress(it, iters)
		}
		exag, mom := exaggeration, 0.5
		if it >= exaggerationIt {
			exag, mom = 1, 0.8
		}
		tr.build(y, n)
		parallel(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				rep[2*i], rep[2*i+1], sq[i] = tr.repulse(i, theta*theta)
			}
		})
		var z float64
		for _, s := range sq {
			z += s
		}
		parallel(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				xi, yi := y[2*i], y[2*i+1]
				var ax, ay float64
				for t := rows[i]; t < rows[i+1]; t++ {
					j := cols[t]
					dx, dy := xi-y[2*j], yi-y[2*j+1]
					q := vals[t] / (1 + dx*dx + dy*dy)
					ax += q * dx
					ay += q * dy
				}
				grad[2*i] = 4 * (exag*ax - rep[2*i]/z)
				grad[2*i+1] = 4 * (exag*ay - rep[2*i+1]/z)
			}
		})
		for t := range y {
			if (grad[t] > 0) != (upd[t] > 0) {
				gains[t] += 0.2
			} else {
				gains[t] *= 0.8
			}
			if gains[t] < 0.01 {
				gains[t] = 0.01
			}
			upd[t] = mom*upd[t] - lr*gains[t]*grad[t]
			y[t] += upd[t]
		}
		var mx, my float64
		for i := 0; i < n; i++ {
			mx += y[2*i]
			my += y[2*i+1]
		}
		mx /= float64(n)
		my /= float64(n)
		for i := 0; i < n; i++ {
			y[2*i] -= mx
			y[2*i+1] -= my
		}
	}
	out := make([][2]float64, n)
	for i := range out {
		out[i] = [2]float64{y[2*i], y[2*i+1]}
	}
	return out
}

// quadtree for Barnes–Hut repulsion. Leaves hold a chain of points (more
// than one only for coincident points or at the depth limit).
type qnode struct {
	cx, cy, hw float64 // centre and half-width
	sx, sy     float64 // sum of positions
	n          int32
	child      [4]int32
	first      int32 // leaf's first point, −1 if empty; −2 if internal
}

// tnode is the compact traversal form of a qnode.
type tnode struct {
	mx, my, w2 float64 // centre of mass, squared cell width
	n, first   int32
	child      [4]int32
}

type quadtree struct {
	nodes []qnode
	trav  []tnode
	next  []int32
	y     []float64
}

const maxDepth = 48

func (t *quadtree) build(y []float64, n int) {
	t.y = y
	t.nodes = t.nodes[:0]
	if cap(t.next) < n {
		t.next = make([]int32, n)
	}
	t.next = t.next[:n]
	for i := range t.next {
		t.next[i] = -1
	}
	minx, maxx, miny, maxy := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for i := 0; i < n; i++ {
		minx = math.Min(minx, y[2*i])
		maxx = math.Max(maxx, y[2*i])
		miny = math.Min(miny, y[2*i+1])
		maxy = math.Max(maxy, y[2*i+1])
	}
	hw := math.Max(maxx-minx, maxy-miny)/2*(1+1e-6) + 1e-12
	t.newNode((minx+maxx)/2, (miny+maxy)/2, hw)
	for i := 0; i < n; i++ {
		t.insert(0, int32(i), 0)
	}
	t.trav = t.trav[:0]
	for k := range t.nodes {
		nd := &t.nodes[k]
		tn := tnode{w2: 4 * nd.hw * nd.hw, n: nd.n, first: nd.first, child: nd.child}
		if nd.n > 0 {
			tn.mx = nd.sx / float64(nd.n)
			tn.my = nd.sy / float64(nd.n)
		}
		t.trav = append(t.trav, tn)
	}
}

func (t *quadtree) newNode(cx, cy, hw float64) int32 {
	t.nodes = append(t.nodes, qnode{cx: cx, cy: cy, hw: hw, child: [4]int32{-1, -1, -1, -1}, first: -1})
	return int32(len(t.nodes) - 1)
}

func (t *quadtree) childFor(ni int32, p int32) int32 {
	nd := &t.nodes[ni]
	x, y := t.y[2*p], t.y[2*p+1]
	q := 0
	if x >= nd.cx {
		q |= 1
	}
	if y >= nd.cy {
		q |= 2
	}
	if c := nd.child[q]; c >= 0 {
		return c
	}
	h := nd.hw / 2
	cx, cy := nd.cx-h, nd.cy-h
	if q&1 != 0 {
		cx = nd.cx + h
	}
	if q&2 != 0 {
		cy = nd.cy + h
	}
	c := t.newNode(cx, cy, h)
	t.nodes[ni].child[q] = c
	return c
}

func (t *quadtree) insert(ni, p int32, depth int) {
	x, y := t.y[2*p], t.y[2*p+1]
	for {
		nd := &t.nodes[ni]
		nd.sx += x
		nd.sy += y
		nd.n++
		if nd.first == -2 {
			ni = t.childFor(ni, p)
			depth++
			continue
		}
		if nd.first == -1 {
			nd.first = p
			return
		}
		q := nd.first
		if depth >= maxDepth || (t.y[2*q] == x && t.y[2*q+1] == y) {
			t.next[p] = t.next[q]
			t.next[q] = p
			return
		}
		// Split: push the leaf's chain (coincident points) into a child.
		nd.first = -2
		for c := q; c >= 0; {
			nx := t.next[c]
			t.next[c] = -1
			t.insert(t.childFor(ni, c), c, depth+1)
			c = nx
		}
		ni = t.childFor(ni, p)
		depth++
	}
}

// repulse returns Σ_j q_ijZ²(y_i − y_j) and Σ_j q_ijZ over all j ≠ i, with
// q_ijZ = 1/(1+|y_i−y_j|²), summarising cells whose width/distance < θ
// (theta2 = θ²). Children are visited in a fixed order.
func (t *quadtree) repulse(i int, theta2 float64) (fx, fy, s float64) {
	x, y := t.y[2*i], t.y[2*i+1]
	var stack [4*maxDepth + 8]int32
	sp := 0
	stack[sp] = 0
	sp++
	for sp > 0 {
		sp--
		nd := &t.trav[stack[sp]]
		if nd.n == 0 {
			continue
		}
		if nd.first >= 0 {
			for c := nd.first; c >= 0; c = t.next[c] {
				if int(c) == i {
					continue
				}
				dx, dy := x-t.y[2*c], y-t.y[2*c+1]
				q := 1 / (1 + dx*dx + dy*dy)
				s += q
				fx += q * q * dx
				fy += q * q * dy
			}
			continue
		}
		dx, dy := x-nd.mx, y-nd.my
		d2 := dx*dx + dy*dy
		if nd.w2 < theta2*d2 {
			q := 1 / (1 + d2)
			m := float64(nd.n) * q
			s += m
			fx += m * q * dx
			fy += m * q * dy
			continue
		}
		for c := 3; c >= 0; c-- {
			if ch := nd.child[c]; ch >= 0 {
				stack[sp] = ch
				sp++
			}
		}
	}
	return fx, fy, s
}
