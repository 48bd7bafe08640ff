package svm

import (
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/floats"
)

// parallelFrom is the shortest stretch of a kernel column worth spreading
// over goroutines: below it (cross-validation folds, small problems) the
// hand-off costs more than it saves.
const parallelFrom = 4096

// fill calls f(j) for j in [lo, hi), spread over up to GOMAXPROCS
// goroutines when the stretch is long. Each entry is computed alone, so the
// column holds the same bits whatever the goroutine count. On the paper's
// 38 400 vectors a column is 44 M multiply-adds, and filling columns is
// nearly all of an SMO fit's time once they outgrow the cache.
func fill(lo, hi int, f func(j int)) {
	workers := min(runtime.GOMAXPROCS(0), (hi-lo)/(parallelFrom/2))
	if workers <= 1 {
		for j := lo; j < hi; j++ {
			f(j)
		}
		return
	}
	var wg sync.WaitGroup
	step := (hi - lo + workers - 1) / workers
	for a := lo; a < hi; a += step {
		b := min(a+step, hi)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := a; j < b; j++ {
				f(j)
			}
		}()
	}
	wg.Wait()
}

// kernelFunc evaluates the kernel between training rows using the cached
// squared norms (as libsvm's Kernel class does), or exactly for prediction.
type kernelEval struct {
	linear bool
	gamma  float64
}

func (k kernelEval) rows(xi, xj []float64, sqi, sqj float64) float64 {
	d := floats.Dot(xi, xj)
	if k.linear {
		return d
	}
	return math.Exp(-k.gamma * (sqi + sqj - 2*d))
}

// exact evaluates K(a, b) without the norm trick (used for decision values).
func (k kernelEval) exact(a, b []float64) float64 {
	if k.linear {
		return floats.Dot(a, b)
	}
	s := 0.0
	i := 0
	for ; i+4 <= len(a); i += 4 {
		d0 := a[i] - b[i]
		d1 := a[i+1] - b[i+1]
		d2 := a[i+2] - b[i+2]
		d3 := a[i+3] - b[i+3]
		s += d0*d0 + d1*d1 + d2*d2 + d3*d3
	}
	for ; i < len(a); i++ {
		d := a[i] - b[i]
		s += d * d
	}
	return math.Exp(-k.gamma * s)
}

// kcache is an LRU cache of kernel columns (float32, like libsvm's Qfloat), each of full length l but
// possibly filled only up to a prefix (columns are computed lazily up to the
// active size, as in libsvm). Columns are keyed by position; swap keeps the
// cache consistent with the solver's permutation.
type kcache struct {
	l       int
	maxCols int
	head    []int // position → slot, −1 if absent
	slots   []cslot
	sent    int // sentinel slot index of the circular LRU list
	used    int
}

type cslot struct {
	owner      int
	data       []float32
	filled     int
	prev, next int
}

func newKcache(l, cacheMB int) *kcache {
	if cacheMB <= 0 {
		cacheMB = 100
	}
	cols := int(int64(cacheMB) << 20 / (4 * int64(max(l, 1))))
	cols = max(cols, 2)
	cols = min(cols, l)
	c := &kcache{l: l, maxCols: cols, head: make([]int, l)}
	for i := range c.head {
		c.head[i] = -1
	}
	c.slots = make([]cslot, 1, cols+1)
	c.slots[0] = cslot{owner: -1, prev: 0, next: 0}
	c.sent = 0
	return c
}

func (c *kcache) unlink(s int) {
	p, n := c.slots[s].prev, c.slots[s].next
	c.slots[p].next = n
	c.slots[n].prev = p
}

func (c *kcache) pushFront(s int) { // most recently used right after sentinel
	n := c.slots[c.sent].next
	c.slots[s].prev = c.sent
	c.slots[s].next = n
	c.slots[n].prev = s
	c.slots[c.sent].next = s
}

// get returns the column buffer for position i (length l) and how many
// leading entries are already valid. The caller must fill up to what it
// needs and record it with setFilled.
func (c *kcache) get(i int) (slot int, col []float32, filled int) {
	if s := c.head[i]; s >= 0 {
		c.unlink(s)
		c.pushFront(s)
		return s, c.slots[s].data, c.slots[s].filled
	}
	var s int
	if c.used < c.maxCols {
		c.slots = append(c.slots, cslot{data: make([]float32, c.l)})
		s = len(c.slots) - 1
		c.used++
	} else {
		s = c.slots[c.sent].prev // least recently used
		c.unlink(s)
		c.head[c.slots[s].owner] = -1
	}
	c.slots[s].owner = i
	c.slots[s].filled = 0
	c.head[i] = s
	c.pushFront(s)
	return s, c.slots[s].data, 0
}

func (c *kcache) swap(i, j int) {
	if i == j {
		return
	}
	if i > j {
		i, j = j, i
	}
	si, sj := c.head[i], c.head[j]
	c.head[i], c.head[j] = sj, si
	if sj >= 0 {
		c.slots[sj].owner = i
	}
	if si >= 0 {
		c.slots[si].owner = j
	}
	for s := 1; s < len(c.slots); s++ {
		sl := &c.slots[s]
		if sl.owner < 0 {
			continue
		}
		if sl.filled > j {
			sl.data[i], sl.data[j] = sl.data[j], sl.data[i]
		} else if sl.filled > i {
			sl.filled = i // entry i is no longer known
		}
	}
}

// svcQ: Q_ij = y_i y_j K(x_i, x_j), rows permuted along with the solver.
type svcQ struct {
	x     [][]float64
	sq    []float64
	y     []int8
	qd    []float64
	k     kernelEval
	cache *kcache
}

func newSVCQ(x [][]float64, y []int8, k kernelEval, cacheMB int) *svcQ {
	l := len(x)
	q := &svcQ{x: append([][]float64(nil), x...), y: append([]int8(nil), y...), k: k,
		sq: make([]float64, l), qd: make([]float64, l), cache: newKcache(l, cacheMB)}
	for i, r := range q.x {
		q.sq[i] = floats.Dot(r, r)
	}
	for i := range q.x {
		q.qd[i] = k.rows(q.x[i], q.x[i], q.sq[i], q.sq[i])
	}
	return q
}

func (q *svcQ) getQ(i, n int) []float32 {
	s, col, filled := q.cache.get(i)
	if filled < n {
		xi, sqi, yi := q.x[i], q.sq[i], float64(q.y[i])
		fill(filled, n, func(j int) {
			col[j] = float32(yi * float64(q.y[j]) * q.k.rows(xi, q.x[j], sqi, q.sq[j]))
		})
		q.cache.slots[s].filled = n
	}
	return col[:n]
}

func (q *svcQ) diag() []float64 { return q.qd }

func (q *svcQ) swap(i, j int) {
	q.cache.swap(i, j)
	q.x[i], q.x[j] = q.x[j], q.x[i]
	q.sq[i], q.sq[j] = q.sq[j], q.sq[i]
	q.y[i], q.y[j] = q.y[j], q.y[i]
	q.qd[i], q.qd[j] = q.qd[j], q.qd[i]
}

// svrQ: the 2l×2l matrix of ε-SVR, Q_ij = s_i s_j K(x_idx(i), x_idx(j)),
// backed by a cache of full real kernel columns over the l points.
type svrQ struct {
	l     int
	x     [][]float64
	sq    []float64
	sign  []int8
	index []int
	qd    []float64
	k     kernelEval
	cache *kcache
	bufs  [2][]float32
	next  int
}

func newSVRQ(x [][]float64, k kernelEval, cacheMB int) *svrQ {
	l := len(x)
	q := &svrQ{l: l, x: x, k: k, sq: make([]float64, l), sign: make([]int8, 2*l),
		index: make([]int, 2*l), qd: make([]float64, 2*l), cache: newKcache(l, cacheMB)}
	for i, r := range x {
		q.sq[i] = floats.Dot(r, r)
	}
	for i := 0; i < l; i++ {
		q.sign[i], q.sign[i+l] = 1, -1
		q.index[i], q.index[i+l] = i, i
		kii := k.rows(x[i], x[i], q.sq[i], q.sq[i])
		q.qd[i], q.qd[i+l] = kii, kii
	}
	q.bufs[0] = make([]float32, 2*l)
	q.bufs[1] = make([]float32, 2*l)
	return q
}

func (q *svrQ) getQ(i, n int) []float32 {
	ri := q.index[i]
	s, col, filled := q.cache.get(ri)
	if filled < q.l {
		xi, sqi := q.x[ri], q.sq[ri]
		fill(filled, q.l, func(j int) {
			col[j] = float32(q.k.rows(xi, q.x[j], sqi, q.sq[j]))
		})
		q.cache.slots[s].filled = q.l
	}
	buf := q.bufs[q.next]
	q.next ^= 1
	si := float32(q.sign[i])
	for j := 0; j < n; j++ {
		buf[j] = si * float32(q.sign[j]) * col[q.index[j]]
	}
	return buf[:n]
}

func (q *svrQ) diag() []float64 { return q.qd }

func (q *svrQ) swap(i, j int) {
	q.sign[i], q.sign[j] = q.sign[j], q.sign[i]
	q.index[i], q.index[j] = q.index[j], q.index[i]
	q.qd[i], q.qd[j] = q.qd[j], q.qd[i]
}
