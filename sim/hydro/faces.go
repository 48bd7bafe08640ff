package hydro

// faceRows holds the fluxes through one row of faces: two row buffers, so
// the y and z sweeps can difference the previous and the current row of faces
// without storing a whole block of fluxes. Each buffer has the fluxes of
// (ρ, ρvx, ρvy, ρvz) in lab-frame order.
type faceRows struct {
	f    [2][4][]float64
	kern kernels
}

func newFaceRows(n int, k kernels) faceRows {
	r := faceRows{kern: k}
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
	r.kern.fluxes(&r.f[slot], d, w, c0, stride, n, linear)
}

// fluxes fills out with the fluxes along axis d through the n faces between
// cells c0+i−stride and c0+i (i = 0..n−1) of the primitive fields w, in
// lab-frame order (ρ, ρvx, ρvy, ρvz).
func (k kernels) fluxes(out *[4][]float64, d int, w *Fields, c0, stride, n int, linear bool) {
	t1, t2 := (d+1)%3, (d+2)%3
	// The stencil of face i starts at cell c0+i−2·stride (PLM: cells
	// −2, −1 on the left, 0, +1 on the right) or c0+i−stride.
	lo := c0 - stride
	if linear {
		lo -= stride
	}
	k.face(linear, w.Rho[lo:], w.M[d][lo:], w.M[t1][lo:], w.M[t2][lo:], stride, n, out[0], out[1+d], out[1+t1], out[1+t2])
}

// apply subtracts dtdx times the difference of consecutive faces of buffer 0
// from the n cells starting at c0 (the x sweep: faces i and i+1 bound cell i).
func (r *faceRows) apply(u *Fields, c0 int, dtdx float64, n int) {
	for q, x := range u.all() {
		f := r.f[0][q]
		r.kern.diff(x[c0:], f, f[1:], dtdx, n)
	}
}

// applyDiff subtracts dtdx times (buffer cur − buffer prev) from the n cells
// starting at c0 (the y and z sweeps: the row of faces below and above).
func (r *faceRows) applyDiff(u *Fields, c0 int, dtdx float64, n, prev, cur int) {
	for q, x := range u.all() {
		r.kern.diff(x[c0:], r.f[prev][q], r.f[cur][q], dtdx, n)
	}
}

// fusedRows are the flux rows of the fused update (Solver.updateFused): the
// x faces of the current row (nx+1), the y faces below and above it, the z
// faces above it, and the z faces below every row of the current plane
// (computed as the faces above them in the plane before).
type fusedRows struct {
	x, yb, yt, zt [4][]float64
	zb            [][4][]float64
}

func newFusedRows(b [3]int) fusedRows {
	row := func(n int) (r [4][]float64) {
		for q := range r {
			r[q] = make([]float64, n)
		}
		return r
	}
	f := fusedRows{x: row(b[0] + 1), yb: row(b[0]), yt: row(b[0]), zt: row(b[0]), zb: make([][4][]float64, b[1])}
	for j := range f.zb {
		f.zb[j] = row(b[0])
	}
	return f
}
