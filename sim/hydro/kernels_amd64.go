//go:build amd64 && !purego

package hydro

import "golang.org/x/sys/cpu"

//go:generate go run gen_kernels.go

// The AVX2 kernels of kernels_amd64.s work on 4 elements at a time; n must
// be a multiple of 4 and every row long enough (the Go wrappers check).

//go:noescape
func primAVX2(rho, mx, my, mz, vx, vy, vz *float64, n int)

//go:noescape
func faceLinearAVX2(rho, u, v, w *float64, s, n int, fr, fu, fv, fw *float64)

//go:noescape
func faceFirstAVX2(rho, u, v, w *float64, s, n int, fr, fu, fv, fw *float64)

//go:noescape
func diffAVX2(x, lo, hi *float64, dtdx float64, n int)

//go:noescape
func diff3AVX2(dst, src, x0, x1, y0, y1, z0, z1 *float64, t *[3]float64, n int)

// vectorKernels returns the AVX2 kernels when the CPU (and the OS) support
// AVX2.
func vectorKernels() (kernels, bool) {
	if !cpu.X86.HasAVX2 {
		return kernels{}, false
	}
	return kernels{name: "avx2", prim: primVec, face: faceVec, diff: diffVec, diff3: diff3Vec}, true
}

// Each wrapper checks the lengths (so the assembly cannot read or write
// outside the slices), runs the vector kernel on the largest multiple of 4
// elements and the Go kernel on the rest.

func primVec(rho, mx, my, mz, vx, vy, vz []float64, n int) {
	rho, mx, my, mz = rho[:n], mx[:n], my[:n], mz[:n]
	vx, vy, vz = vx[:n], vy[:n], vz[:n]
	m := n &^ 3
	if m > 0 {
		primAVX2(&rho[0], &mx[0], &my[0], &mz[0], &vx[0], &vy[0], &vz[0], m)
	}
	primGo(rho[m:], mx[m:], my[m:], mz[m:], vx[m:], vy[m:], vz[m:], n-m)
}

func faceVec(linear bool, rho, u, v, w []float64, s, n int, fr, fu, fv, fw []float64) {
	span := s + n // cells read: i + k·s for i < n, k ≤ 1 (first order) or 3
	if linear {
		span = 3*s + n
	}
	rho, u, v, w = rho[:span], u[:span], v[:span], w[:span]
	fr, fu, fv, fw = fr[:n], fu[:n], fv[:n], fw[:n]
	m := n &^ 3
	if m > 0 {
		if linear {
			faceLinearAVX2(&rho[0], &u[0], &v[0], &w[0], s, m, &fr[0], &fu[0], &fv[0], &fw[0])
		} else {
			faceFirstAVX2(&rho[0], &u[0], &v[0], &w[0], s, m, &fr[0], &fu[0], &fv[0], &fw[0])
		}
	}
	faceGo(linear, rho[m:], u[m:], v[m:], w[m:], s, n-m, fr[m:], fu[m:], fv[m:], fw[m:])
}

func diffVec(x, lo, hi []float64, dtdx float64, n int) {
	x, lo, hi = x[:n], lo[:n], hi[:n]
	m := n &^ 3
	if m > 0 {
		diffAVX2(&x[0], &lo[0], &hi[0], dtdx, m)
	}
	diffGo(x[m:], lo[m:], hi[m:], dtdx, n-m)
}

func diff3Vec(dst, src []float64, lo, hi [3][]float64, t [3]float64, n int) {
	dst, src = dst[:n], src[:n]
	for d := range 3 {
		lo[d], hi[d] = lo[d][:n], hi[d][:n]
	}
	m := n &^ 3
	if m > 0 {
		diff3AVX2(&dst[0], &src[0], &lo[0][0], &hi[0][0], &lo[1][0], &hi[1][0], &lo[2][0], &hi[2][0], &t, m)
	}
	for d := range 3 {
		lo[d], hi[d] = lo[d][m:], hi[d][m:]
	}
	diff3Go(dst[m:], src[m:], lo, hi, t, n-m)
}
