package hydro

import "os"

// The solver's hot loops are row kernels over structure-of-arrays rows:
// primitive recovery, the face fluxes (first order, or PLM + MC limiter),
// and the flux-difference update. Each has a pure-Go version (below, the
// reference) and, on amd64 with AVX2, a vector version in assembly generated
// by gen_kernels.go. Both give bitwise-identical results, NaN handling
// included, so results do not depend on the machine; for that:
//
//   - every product that is added to something is rounded on its own
//     (float64(a*b) + c): Go may otherwise fuse it into an FMA (on amd64 it
//     does with GOAMD64=v3), the assembly never does;
//   - the operations happen in the same order in both;
//   - min and max are written as the comparisons the vector instructions
//     make (minpd, maxpd), whose NaN and ±0 rules differ from Go's builtins.
//
// NoAsmEnv names the environment variable that, set to any non-empty value
// other than "0", makes every new solver use the pure-Go kernels.
const NoAsmEnv = "TURBINDEX_NOASM"

// kernels is one implementation of the row kernels; see goKernels for what
// each computes.
type kernels struct {
	name string
	// prim sets v = m / rho on n cells, for the three components.
	prim func(rho, mx, my, mz, vx, vy, vz []float64, n int)
	// face computes the fluxes through n faces along a row: the state of
	// face i is read from cells i, i+s, i+2s, i+3s (linear: PLM) or i, i+s
	// (first order) of the primitive rows rho, u (normal), v, w
	// (transverse).
	face func(linear bool, rho, u, v, w []float64, s, n int, fr, fu, fv, fw []float64)
	// diff sets x[i] −= dtdx·(hi[i] − lo[i]) for i < n.
	diff func(x, lo, hi []float64, dtdx float64, n int)
	// diff3 is three diffs at once, with the result in dst: for i < n,
	// dst[i] = ((src[i] − t[0]·(hi[0][i] − lo[0][i])) − t[1]·(…)) − t[2]·(…),
	// the same bits as three diffs in turn. dst may be src.
	diff3 func(dst, src []float64, lo, hi [3][]float64, t [3]float64, n int)
}

// goKernels are the pure-Go row kernels, the reference for the vector ones.
var goKernels = kernels{name: "go", prim: primGo, face: faceGo, diff: diffGo, diff3: diff3Go}

// defaultKernels returns the vector kernels where the CPU has them and the
// environment does not forbid them, else the pure-Go ones.
func defaultKernels() kernels {
	if v := os.Getenv(NoAsmEnv); v != "" && v != "0" {
		return goKernels
	}
	if k, ok := vectorKernels(); ok {
		return k
	}
	return goKernels
}

// Kernels names the row kernels a solver made now would use: "avx2" or "go".
func Kernels() string { return defaultKernels().name }

func primGo(rho, mx, my, mz, vx, vy, vz []float64, n int) {
	rho, mx, my, mz = rho[:n], mx[:n], my[:n], mz[:n]
	vx, vy, vz = vx[:n], vy[:n], vz[:n]
	for c, r := range rho {
		iv := 1 / r
		vx[c] = mx[c] * iv
		vy[c] = my[c] * iv
		vz[c] = mz[c] * iv
	}
}

func faceGo(linear bool, rho, u, v, w []float64, s, n int, fr, fu, fv, fw []float64) {
	fr, fu, fv, fw = fr[:n], fu[:n], fv[:n], fw[:n]
	if !linear {
		rl, rr := rho[:n], rho[s:s+n]
		ul, ur := u[:n], u[s:s+n]
		vl, vr := v[:n], v[s:s+n]
		wl, wr := w[:n], w[s:s+n]
		for i := range fr {
			fr[i], fu[i], fv[i], fw[i] = llf(rl[i], ul[i], vl[i], wl[i], rr[i], ur[i], vr[i], wr[i])
		}
		return
	}
	r2, r1, r0, r3 := rho[:n], rho[s:s+n], rho[2*s:2*s+n], rho[3*s:3*s+n]
	u2, u1, u0, u3 := u[:n], u[s:s+n], u[2*s:2*s+n], u[3*s:3*s+n]
	v2, v1, v0, v3 := v[:n], v[s:s+n], v[2*s:2*s+n], v[3*s:3*s+n]
	w2, w1, w0, w3 := w[:n], w[s:s+n], w[2*s:2*s+n], w[3*s:3*s+n]
	for i := range fr {
		rl, rr := plm(r2[i], r1[i], r0[i], r3[i])
		ul, ur := plm(u2[i], u1[i], u0[i], u3[i])
		vl, vr := plm(v2[i], v1[i], v0[i], v3[i])
		wl, wr := plm(w2[i], w1[i], w0[i], w3[i])
		fr[i], fu[i], fv[i], fw[i] = llf(rl, ul, vl, wl, rr, ur, vr, wr)
	}
}

func diffGo(x, lo, hi []float64, dtdx float64, n int) {
	x, lo, hi = x[:n], lo[:n], hi[:n]
	for i := range x {
		x[i] -= float64(dtdx * (hi[i] - lo[i]))
	}
}

func diff3Go(dst, src []float64, lo, hi [3][]float64, t [3]float64, n int) {
	dst, src = dst[:n], src[:n]
	x0, x1, y0, y1, z0, z1 := lo[0][:n], hi[0][:n], lo[1][:n], hi[1][:n], lo[2][:n], hi[2][:n]
	for i := range dst {
		x := src[i] - float64(t[0]*(x1[i]-x0[i]))
		x -= float64(t[1] * (y1[i] - y0[i]))
		dst[i] = x - float64(t[2]*(z1[i]-z0[i]))
	}
}

// minpd is min(a, b) as the x86 MINPD instruction computes it: b unless
// a < b, so b when either is NaN or both are zeros.
func minpd(a, b float64) float64 {
	if a < b {
		return a
	}
	return b
}

// maxpd is max(a, b) as MAXPD computes it: b unless a > b.
func maxpd(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}
