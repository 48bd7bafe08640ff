package hydro

// faceRows holds the fluxes through one row of faces: two row buffers, so
// the y and z sweeps can difference the previous and the current row of faces
// without storing a whole block of fluxes. Each buffer has the fluxes of
// (ρ, ρvx, ρvy, ρvz) in lab-frame order.
type faceRows struct {
	f [2][4][]float64
}

func newFaceRows(n int) faceRows {
	var r faceRows
	for s := range r.f {
		for q := range r.f[s] {
			r.f[s][q] = make([]float64, n)
		}
	}
	return r
}

// compute fills buffer slot with the fluxes along axis d through the n faces
// between cells c0+i−stride and c0+i (i = 0..n−1) of the primitive fields w,
// from first-order or piecewise-linear face states.
func (r *faceRows) compute(slot, d int, w *Fields, c0, stride, n int, linear bool) {
	t1, t2 := (d+1)%3, (d+2)%3
	out := &r.f[slot]
	fr, fu, fv, fw := out[0][:n], out[1+d][:n], out[1+t1][:n], out[1+t2][:n]
	if !linear {
		lo, hi := c0-stride, c0
		rl, rr := w.Rho[lo:lo+n], w.Rho[hi:hi+n]
		ul, ur := w.M[d][lo:lo+n], w.M[d][hi:hi+n]
		vl, vr := w.M[t1][lo:lo+n], w.M[t1][hi:hi+n]
		wl, wr := w.M[t2][lo:lo+n], w.M[t2][hi:hi+n]
		for i := range fr {
			fr[i], fu[i], fv[i], fw[i] = llf(rl[i], ul[i], vl[i], wl[i], rr[i], ur[i], vr[i], wr[i])
		}
		return
	}
	// The stencil of face i: cells c0+i−2s, c0+i−s (left), c0+i, c0+i+s.
	m2, m1, p0, p1 := c0-2*stride, c0-stride, c0, c0+stride
	rho, u, v, ww := w.Rho, w.M[d], w.M[t1], w.M[t2]
	r2, r1, r0, r3 := rho[m2:m2+n], rho[m1:m1+n], rho[p0:p0+n], rho[p1:p1+n]
	u2, u1, u0, u3 := u[m2:m2+n], u[m1:m1+n], u[p0:p0+n], u[p1:p1+n]
	v2, v1, v0, v3 := v[m2:m2+n], v[m1:m1+n], v[p0:p0+n], v[p1:p1+n]
	w2, w1, w0, w3 := ww[m2:m2+n], ww[m1:m1+n], ww[p0:p0+n], ww[p1:p1+n]
	for i := range fr {
		rl, rr := plm(r2[i], r1[i], r0[i], r3[i])
		ul, ur := plm(u2[i], u1[i], u0[i], u3[i])
		vl, vr := plm(v2[i], v1[i], v0[i], v3[i])
		wl, wr := plm(w2[i], w1[i], w0[i], w3[i])
		fr[i], fu[i], fv[i], fw[i] = llf(rl, ul, vl, wl, rr, ur, vr, wr)
	}
}

// apply subtracts dtdx times the difference of consecutive faces of buffer 0
// from the n cells starting at c0 (the x sweep: faces i and i+1 bound cell i).
func (r *faceRows) apply(u *Fields, c0 int, dtdx float64, n int) {
	dst := [4][]float64{u.Rho, u.M[0], u.M[1], u.M[2]}
	for q := range dst {
		f := r.f[0][q][:n+1]
		x := dst[q][c0 : c0+n]
		for i := range x {
			x[i] -= dtdx * (f[i+1] - f[i])
		}
	}
}

// applyDiff subtracts dtdx times (buffer cur − buffer prev) from the n cells
// starting at c0 (the y and z sweeps: the row of faces below and above).
func (r *faceRows) applyDiff(u *Fields, c0 int, dtdx float64, n, prev, cur int) {
	dst := [4][]float64{u.Rho, u.M[0], u.M[1], u.M[2]}
	for q := range dst {
		lo, hi := r.f[prev][q][:n], r.f[cur][q][:n]
		x := dst[q][c0 : c0+n]
		for i := range x {
			x[i] -= dtdx * (hi[i] - lo[i])
		}
	}
}
