package svm

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// decideBlock is how many vectors Decisions scores in one pass over the
// support vectors. A pass reads every support vector once (354 MB at the
// paper's 38 400 vectors of 1 152 features); the block's vectors, 74 KB at
// 1 152 features, stay in the core's cache, so the pass costs
// arithmetic rather than memory traffic.
const decideBlock = 8

// Decisions returns Decision(x[i]) for every row of x, bit for bit, scoring
// decideBlock rows per pass over the support vectors on up to workers
// goroutines (≤ 0: GOMAXPROCS). progress, if not nil, is called with the
// number of rows done after each block, from one goroutine at a time.
// Every row must have as many features as the training samples (it
// panics otherwise, as Decision does).
func (m *Model) Decisions(x [][]float64, workers int, progress func(done int)) []float64 {
	out := make([]float64, len(x))
	if len(x) == 0 {
		return out
	}
	if len(m.SV) > 0 {
		for i, r := range x {
			if len(r) != len(m.SV[0]) {
				panic(fmt.Sprintf("svm: Decisions: row %d has %d features, model trained on %d", i, len(r), len(m.SV[0])))
			}
		}
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	blocks := (len(x) + decideBlock - 1) / decideBlock
	workers = min(workers, blocks)
	k := kernelEval{linear: m.Kernel.Kind == "linear", gamma: m.Kernel.Gamma}
	var next atomic.Int64
	var mu sync.Mutex
	done := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var acc [decideBlock]float64
			for {
				b := int(next.Add(1)) - 1
				if b >= blocks {
					return
				}
				lo, hi := b*decideBlock, min((b+1)*decideBlock, len(x))
				rows := x[lo:hi]
				clear(acc[:])
				// Each row's sum runs over the support vectors in order, as
				// in Decision, so the result is the same bits.
				if k.linear || len(rows) < decideBlock {
					for i, sv := range m.SV {
						c := m.Coef[i]
						for j, r := range rows {
							acc[j] += c * k.exact(sv, r)
						}
					}
				} else {
					for i, sv := range m.SV {
						d := sqDist8(sv, (*[decideBlock][]float64)(rows))
						c := m.Coef[i]
						for j := range d {
							acc[j] += c * math.Exp(-k.gamma*d[j])
						}
					}
				}
				for j := range rows {
					out[lo+j] = acc[j] + m.Bias
				}
				if progress != nil {
					mu.Lock()
					done += len(rows)
					progress(done)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return out
}

// DecisionsFor is Decisions oriented towards label, as DecisionFor: positive
// where the model predicts label. It panics if label is not one of the
// model's Labels (or the model is an SVR).
func (m *Model) DecisionsFor(label int, x [][]float64, workers int, progress func(done int)) []float64 {
	var sign float64
	switch {
	case m.SVR:
		panic("svm: DecisionsFor on an SVR model")
	case label == m.Labels[0]:
		sign = 1
	case label == m.Labels[1]:
		sign = -1
	default:
		panic(fmt.Sprintf("svm: DecisionsFor label %d, model labels are %v", label, m.Labels))
	}
	out := m.Decisions(x, workers, progress)
	for i := range out {
		out[i] *= sign
	}
	return out
}

// sqDist8 returns the squared distances from a to each of r, each summed
// in kernelEval.exact's order (four features at a time, then the rest) so
// that its bits are the same; the eight independent sums keep the core's
// adders busy where exact's one sum waits on each addition.
func sqDist8(a []float64, r *[decideBlock][]float64) [decideBlock]float64 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float64
	r0, r1, r2, r3, r4, r5, r6, r7 := r[0][:len(a)], r[1][:len(a)], r[2][:len(a)], r[3][:len(a)], r[4][:len(a)], r[5][:len(a)], r[6][:len(a)], r[7][:len(a)]
	sq4 := func(a0, a1, a2, a3 float64, b []float64, i int) float64 {
		q := (*[4]float64)(b[i : i+4])
		d0 := a0 - q[0]
		d1 := a1 - q[1]
		d2 := a2 - q[2]
		d3 := a3 - q[3]
		return d0*d0 + d1*d1 + d2*d2 + d3*d3
	}
	i := 0
	for ; i+4 <= len(a); i += 4 {
		p := (*[4]float64)(a[i : i+4])
		a0, a1, a2, a3 := p[0], p[1], p[2], p[3]
		s0 += sq4(a0, a1, a2, a3, r0, i)
		s1 += sq4(a0, a1, a2, a3, r1, i)
		s2 += sq4(a0, a1, a2, a3, r2, i)
		s3 += sq4(a0, a1, a2, a3, r3, i)
		s4 += sq4(a0, a1, a2, a3, r4, i)
		s5 += sq4(a0, a1, a2, a3, r5, i)
		s6 += sq4(a0, a1, a2, a3, r6, i)
		s7 += sq4(a0, a1, a2, a3, r7, i)
	}
	for ; i < len(a); i++ {
		sq := func(b []float64) float64 { d := a[i] - b[i]; return d * d }
		s0 += sq(r0)
		s1 += sq(r1)
		s2 += sq(r2)
		s3 += sq(r3)
		s4 += sq(r4)
		s5 += sq(r5)
		s6 += sq(r6)
		s7 += sq(r7)
	}
	return [decideBlock]float64{s0, s1, s2, s3, s4, s5, s6, s7}
}
