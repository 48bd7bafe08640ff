package svm

import (
	"math"
)

// This file implements the SMO solver of libsvm (Fan, Chen & Lin 2005,
// "Working set selection using second order information for training SVM";
// Chang & Lin, "LIBSVM: a library for support vector machines", §4), for
// the dual problem
//
//	min_α ½ αᵀQα + pᵀα   s.t.  yᵀα = Δ,  0 ≤ αᵢ ≤ C,  yᵢ = ±1.
//
// Working pairs are chosen with the second-order rule (WSS2), the stopping
// criterion is m(α) − M(α) < eps, and optional shrinking follows libsvm's
// heuristic (shrink every min(l,1000) iterations, unshrink once when the
// violation first drops below 10·eps).

const tau = 1e-12

const (
	lowerBound = iota
	upperBound
	free
)

// qmatrix gives columns of Q in the solver's current (permuted) order.
type qmatrix interface {
	// getQ returns Q[i][0:n]; the slice stays valid until the next-but-one
	// call to getQ.
	getQ(i, n int) []float32
	diag() []float64
	swap(i, j int)
}

type solver struct {
	l          int
	activeSize int
	y          []int8
	G          []float64
	status     []int8
	alpha      []float64
	Q          qmatrix
	QD         []float64
	eps        float64
	C          float64
	p          []float64
	activeSet  []int
	Gbar       []float64
	unshrink   bool
	iter       int
	// violation is the maximal KKT violation the last working-set
	// selection found (over the active set); the solver stops below eps.
	violation float64
	// progress, if not nil, is called every min(l, 1000) iterations.
	progress func(iter int, violation float64)
}

type solution struct {
	alpha []float64 // in the original order
	rho   float64
	obj   float64
	iter  int
}

func (s *solver) updateStatus(i int) {
	switch {
	case s.alpha[i] >= s.C:
		s.status[i] = upperBound
	case s.alpha[i] <= 0:
		s.status[i] = lowerBound
	default:
		s.status[i] = free
	}
}

func (s *solver) isUpper(i int) bool { return s.status[i] == upperBound }
func (s *solver) isLower(i int) bool { return s.status[i] == lowerBound }
func (s *solver) isFree(i int) bool  { return s.status[i] == free }

func (s *solver) swapIndex(i, j int) {
	s.Q.swap(i, j)
	s.y[i], s.y[j] = s.y[j], s.y[i]
	s.G[i], s.G[j] = s.G[j], s.G[i]
	s.status[i], s.status[j] = s.status[j], s.status[i]
	s.alpha[i], s.alpha[j] = s.alpha[j], s.alpha[i]
	s.p[i], s.p[j] = s.p[j], s.p[i]
	s.activeSet[i], s.activeSet[j] = s.activeSet[j], s.activeSet[i]
	s.Gbar[i], s.Gbar[j] = s.Gbar[j], s.Gbar[i]
}

// reconstructGradient recomputes G for the inactive variables from Gbar and
// the free variables.
func (s *solver) reconstructGradient() {
	l, as := s.l, s.activeSize
	if as == l {
		return
	}
	for j := as; j < l; j++ {
		s.G[j] = s.Gbar[j] + s.p[j]
	}
	nrFree := 0
	for j := 0; j < as; j++ {
		if s.isFree(j) {
			nrFree++
		}
	}
	if nrFree*l > 2*as*(l-as) {
		for i := as; i < l; i++ {
			Qi := s.Q.getQ(i, as)
			for j := 0; j < as; j++ {
				if s.isFree(j) {
					s.G[i] += s.alpha[j] * float64(Qi[j])
				}
			}
		}
	} else {
		for i := 0; i < as; i++ {
			if s.isFree(i) {
				Qi := s.Q.getQ(i, l)
				ai := s.alpha[i]
				for j := as; j < l; j++ {
					s.G[j] += ai * float64(Qi[j])
				}
			}
		}
	}
}

// solve runs SMO. p, y and alpha (initial, feasible) are consumed.
func solve(l int, Q qmatrix, p []float64, y []int8, alpha []float64, C, eps float64, shrinking bool, progress func(iter int, violation float64)) solution {
	s := &solver{
		l: l, Q: Q, QD: Q.diag(), p: p, y: y, alpha: alpha, C: C, eps: eps, progress: progress,
		status: make([]int8, l), activeSet: make([]int, l),
		G: make([]float64, l), Gbar: make([]float64, l), activeSize: l,
	}
	for i := 0; i < l; i++ {
		s.updateStatus(i)
		s.activeSet[i] = i
	}
	copy(s.G, p)
	for i := 0; i < l; i++ {
		if !s.isLower(i) {
			Qi := Q.getQ(i, l)
			ai := alpha[i]
			for j := 0; j < l; j++ {
				s.G[j] += ai * float64(Qi[j])
			}
			if s.isUpper(i) {
				for j := 0; j < l; j++ {
					s.Gbar[j] += C * float64(Qi[j])
				}
			}
		}
	}

	maxIter := 100 * l
	if maxIter < 10000000 {
		maxIter = 10000000
	}
	counter := min(l, 1000) + 1
	for s.iter < maxIter {
		counter--
		if counter == 0 {
			counter = min(l, 1000)
			if shrinking {
				s.doShrinking()
			}
			if s.progress != nil && s.iter > 0 {
				s.progress(s.iter, s.violation)
			}
		}
		i, j, done := s.selectWorkingSet()
		if done {
			s.reconstructGradient()
			s.activeSize = l
			i, j, done = s.selectWorkingSet()
			if done {
				break
			}
			counter = 1 // shrink at the next iteration
		}
		s.iter++
		s.step(i, j)
	}
	if s.activeSize < l {
		s.reconstructGradient()
		s.activeSize = l
	}
	rho := s.calculateRho()
	obj := 0.0
	for i := 0; i < l; i++ {
		obj += s.alpha[i] * (s.G[i] + s.p[i])
	}
	out := make([]float64, l)
	for i := 0; i < l; i++ {
		out[s.activeSet[i]] = s.alpha[i]
	}
	return solution{alpha: out, rho: rho, obj: obj / 2, iter: s.iter}
}

// step solves the two-variable sub-problem on (i, j) analytically and
// updates the gradient.
func (s *solver) step(i, j int) {
	as := s.activeSize
	Qi := s.Q.getQ(i, as)
	Qj := s.Q.getQ(j, as)
	C := s.C
	alpha := s.alpha
	oldAi, oldAj := alpha[i], alpha[j]
	if s.y[i] != s.y[j] {
		quad := s.QD[i] + s.QD[j] + 2*float64(Qi[j])
		if quad <= 0 {
			quad = tau
		}
		delta := (-s.G[i] - s.G[j]) / quad
		diff := alpha[i] - alpha[j]
		alpha[i] += delta
		alpha[j] += delta
		if diff > 0 {
			if alpha[j] < 0 {
				alpha[j] = 0
				alpha[i] = diff
			}
		} else {
			if alpha[i] < 0 {
				alpha[i] = 0
				alpha[j] = -diff
			}
		}
		if diff > 0 { // C_i − C_j = 0
			if alpha[i] > C {
				alpha[i] = C
				alpha[j] = C - diff
			}
		} else {
			if alpha[j] > C {
				alpha[j] = C
				alpha[i] = C + diff
			}
		}
	} else {
		quad := s.QD[i] + s.QD[j] - 2*float64(Qi[j])
		if quad <= 0 {
			quad = tau
		}
		delta := (s.G[i] - s.G[j]) / quad
		sum := alpha[i] + alpha[j]
		alpha[i] -= delta
		alpha[j] += delta
		if sum > C {
			if alpha[i] > C {
				alpha[i] = C
				alpha[j] = sum - C
			}
		} else {
			if alpha[j] < 0 {
				alpha[j] = 0
				alpha[i] = sum
			}
		}
		if sum > C {
			if alpha[j] > C {
				alpha[j] = C
				alpha[i] = sum - C
			}
		} else {
			if alpha[i] < 0 {
				alpha[i] = 0
				alpha[j] = sum
			}
		}
	}
	dAi := alpha[i] - oldAi
	dAj := alpha[j] - oldAj
	G := s.G[:as]
	Qi, Qj = Qi[:as], Qj[:as]
	for k := range G {
		G[k] += float64(Qi[k])*dAi + float64(Qj[k])*dAj
	}

	ui, uj := s.isUpper(i), s.isUpper(j)
	s.updateStatus(i)
	s.updateStatus(j)
	l := s.l
	if ui != s.isUpper(i) {
		Qi := s.Q.getQ(i, l)
		if ui {
			for k := 0; k < l; k++ {
				s.Gbar[k] -= C * float64(Qi[k])
			}
		} else {
			for k := 0; k < l; k++ {
				s.Gbar[k] += C * float64(Qi[k])
			}
		}
	}
	if uj != s.isUpper(j) {
		Qj := s.Q.getQ(j, l)
		if uj {
			for k := 0; k < l; k++ {
				s.Gbar[k] -= C * float64(Qj[k])
			}
		} else {
			for k := 0; k < l; k++ {
				s.Gbar[k] += C * float64(Qj[k])
			}
		}
	}
}

// selectWorkingSet is WSS2: i maximises −yᵢ∇ᵢf over I_up, j minimises the
// second-order decrease −b²/a over I_low with b > 0. done reports that the
// maximal violation is below eps.
func (s *solver) selectWorkingSet() (int, int, bool) {
	as := s.activeSize
	Gmax, Gmax2 := math.Inf(-1), math.Inf(-1)
	GmaxIdx, GminIdx := -1, -1
	objDiffMin := math.Inf(1)
	for t := 0; t < as; t++ {
		if s.y[t] == 1 {
			if !s.isUpper(t) && -s.G[t] >= Gmax {
				Gmax = -s.G[t]
				GmaxIdx = t
			}
		} else {
			if !s.isLower(t) && s.G[t] >= Gmax {
				Gmax = s.G[t]
				GmaxIdx = t
			}
		}
	}
	i := GmaxIdx
	var Qi []float32
	if i != -1 {
		Qi = s.Q.getQ(i, as)
	}
	for j := 0; j < as; j++ {
		if s.y[j] == 1 {
			if !s.isLower(j) {
				gd := Gmax + s.G[j]
				if s.G[j] >= Gmax2 {
					Gmax2 = s.G[j]
				}
				if gd > 0 {
					quad := s.QD[i] + s.QD[j] - 2*float64(s.y[i])*float64(Qi[j])
					var od float64
					if quad > 0 {
						od = -(gd * gd) / quad
					} else {
						od = -(gd * gd) / tau
					}
					if od <= objDiffMin {
						GminIdx = j
						objDiffMin = od
					}
				}
			}
		} else {
			if !s.isUpper(j) {
				gd := Gmax - s.G[j]
				if -s.G[j] >= Gmax2 {
					Gmax2 = -s.G[j]
				}
				if gd > 0 {
					quad := s.QD[i] + s.QD[j] + 2*float64(s.y[i])*float64(Qi[j])
					var od float64
					if quad > 0 {
						od = -(gd * gd) / quad
					} else {
						od = -(gd * gd) / tau
					}
					if od <= objDiffMin {
						GminIdx = j
						objDiffMin = od
					}
				}
			}
		}
	}
	s.violation = Gmax + Gmax2
	if Gmax+Gmax2 < s.eps || GminIdx == -1 {
		return 0, 0, true
	}
	return GmaxIdx, GminIdx, false
}

func (s *solver) beShrunk(i int, Gmax1, Gmax2 float64) bool {
	if s.isUpper(i) {
		if s.y[i] == 1 {
			return -s.G[i] > Gmax1
		}
		return -s.G[i] > Gmax2
	}
	if s.isLower(i) {
		if s.y[i] == 1 {
			return s.G[i] > Gmax2
		}
		return s.G[i] > Gmax1
	}
	return false
}

func (s *solver) doShrinking() {
	Gmax1, Gmax2 := math.Inf(-1), math.Inf(-1)
	for i := 0; i < s.activeSize; i++ {
		if s.y[i] == 1 {
			if !s.isUpper(i) {
				Gmax1 = max(Gmax1, -s.G[i])
			}
			if !s.isLower(i) {
				Gmax2 = max(Gmax2, s.G[i])
			}
		} else {
			if !s.isUpper(i) {
				Gmax2 = max(Gmax2, -s.G[i])
			}
			if !s.isLower(i) {
				Gmax1 = max(Gmax1, s.G[i])
			}
		}
	}
	if !s.unshrink && Gmax1+Gmax2 <= s.eps*10 {
		s.unshrink = true
		s.reconstructGradient()
		s.activeSize = s.l
	}
	for i := 0; i < s.activeSize; i++ {
		if s.beShrunk(i, Gmax1, Gmax2) {
			s.activeSize--
			for s.activeSize > i {
				if !s.beShrunk(s.activeSize, Gmax1, Gmax2) {
					s.swapIndex(i, s.activeSize)
					break
				}
				s.activeSize--
			}
		}
	}
}

// calculateRho: average of yᵢ∇ᵢf over free variables, else the midpoint of
// the feasible interval.
func (s *solver) calculateRho() float64 {
	nrFree := 0
	ub, lb := math.Inf(1), math.Inf(-1)
	sumFree := 0.0
	for i := 0; i < s.activeSize; i++ {
		yG := float64(s.y[i]) * s.G[i]
		switch {
		case s.isUpper(i):
			if s.y[i] == -1 {
				ub = min(ub, yG)
			} else {
				lb = max(lb, yG)
			}
		case s.isLower(i):
			if s.y[i] == 1 {
				ub = min(ub, yG)
			} else {
				lb = max(lb, yG)
			}
		default:
			nrFree++
			sumFree += yG
		}
	}
	if nrFree > 0 {
		return sumFree / float64(nrFree)
	}
	return (ub + lb) / 2
}
