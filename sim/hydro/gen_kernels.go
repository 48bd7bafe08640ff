//go:build ignore

// gen_kernels writes kernels_amd64.s, the AVX2 row kernels of the solver
// (see kernels.go for what each computes and why the vector code gives the
// bits of the Go code). Run with `go generate` in sim/hydro.
//
// Operand order is Go's: `VSUBPD B, A, D` is D = A − B, `VMINPD B, A, D`
// is D = A < B ? A : B (minpd(A, B)) and `VMAXPD B, A, D` is
// D = A > B ? A : B (maxpd(A, B)).
package main

import (
	"bytes"
	"fmt"
	"os"
)

var b bytes.Buffer

func p(format string, args ...any) { fmt.Fprintf(&b, "\t"+format+"\n", args...) }
func label(l string)               { fmt.Fprintf(&b, "%s:\n", l) }

// constants, 4 lanes each.
func data() {
	for _, c := range []struct {
		name string
		bits uint64
	}{
		{"half", 0x3fe0000000000000},
		{"one", 0x3ff0000000000000},
		{"two", 0x4000000000000000},
		{"sign", 0x8000000000000000},
		{"abs", 0x7fffffffffffffff},
		{"zero", 0},
	} {
		for i := range 4 {
			fmt.Fprintf(&b, "DATA %s<>+%d(SB)/8, $0x%016x\n", c.name, 8*i, c.bits)
		}
		fmt.Fprintf(&b, "GLOBL %s<>(SB), RODATA|NOPTR, $32\n\n", c.name)
	}
}

// mc emits out = mc(dm, dp) (reconstruct.go):
//
//	s = copysign(1, dm); c = 0.5·(dm + dp)
//	out = s · maxpd(minpd(minpd(c·s, (2·dm)·s), (2·dp)·s), 0)
//
// using t1, t2 as scratch; dm and dp are kept.
func mc(dm, dp, out, t1, t2 string) {
	p("VANDPD sign<>(SB), %s, %s", dm, t1) // sign of dm
	p("VORPD one<>(SB), %s, %s", t1, t1)   // s
	p("VADDPD %s, %s, %s", dp, dm, out)    // dm + dp
	p("VMULPD half<>(SB), %s, %s", out, out)
	p("VMULPD %s, %s, %s", t1, out, out) // c·s
	p("VMULPD two<>(SB), %s, %s", dm, t2)
	p("VMULPD %s, %s, %s", t1, t2, t2) // (2·dm)·s
	p("VMINPD %s, %s, %s", t2, out, out)
	p("VMULPD two<>(SB), %s, %s", dp, t2)
	p("VMULPD %s, %s, %s", t1, t2, t2) // (2·dp)·s
	p("VMINPD %s, %s, %s", t2, out, out)
	p("VMAXPD zero<>(SB), %s, %s", out, out)
	p("VMULPD %s, %s, %s", out, t1, out) // s·(…)
}

// plm emits the face states of one variable whose four stencil rows are at
// (base), (base)(S*1), (base)(S*2), (base)(S3*1) (cells am, a, b, bp):
//
//	d = b − a; left = a + 0.5·mc(a − am, d); right = b − 0.5·mc(d, bp − b)
//
// into left and right, with scratch x0..x4 (and t1, t2 for mc).
func plm(base, left, right string, x [7]string) {
	am, a, bb, bp, d, m, t1 := x[0], x[1], x[2], x[3], x[4], x[5], x[6]
	p("VMOVUPD (%s), %s", base, am)
	p("VMOVUPD (%s)(R12*1), %s", base, a)
	p("VMOVUPD (%s)(R12*2), %s", base, bb)
	p("VMOVUPD (%s)(R13*1), %s", base, bp)
	p("VSUBPD %s, %s, %s", a, bb, d)   // d = b − a
	p("VSUBPD %s, %s, %s", am, a, am)  // dm = a − am
	p("VSUBPD %s, %s, %s", bb, bp, bp) // dp = bp − b
	mc(am, d, m, t1, left)             // left used as scratch
	p("VMULPD half<>(SB), %s, %s", m, m)
	p("VADDPD %s, %s, %s", m, a, left)
	mc(d, bp, m, t1, right)
	p("VMULPD half<>(SB), %s, %s", m, m)
	p("VSUBPD %s, %s, %s", m, bb, right)
}

// llf emits the four fluxes (riemann.go), storing them at (R9), (R10),
// (R11), (R14)+offset, given the face states: rho and u are loaded or
// reconstructed by the caller into RL, RR, UL, UR; the transverse states
// come from trans(k, left, right), called for k = 0, 1 once the registers
// allow.
//
//	h = 0.5·(maxpd(|ul|, |ur|) + 1); ml = rl·ul; mr = rr·ur
//	fr = 0.5·(ml + mr) − h·(rr − rl)
//	fu = 0.5·((ml·ul + rl) + (mr·ur + rr)) − h·(mr − ml)
//	fv = 0.5·(ml·vl + mr·vr) − h·(rr·vr − rl·vl)
//
// Registers: Y0 RL, Y1 RR, Y2 UL, Y3 UR, Y4 h, Y5 ml, Y6 mr; Y7–Y15 scratch.
func llf(trans func(k int, left, right string)) {
	p("VANDPD abs<>(SB), Y2, Y7")
	p("VANDPD abs<>(SB), Y3, Y8")
	p("VMAXPD Y8, Y7, Y4")
	p("VADDPD one<>(SB), Y4, Y4")
	p("VMULPD half<>(SB), Y4, Y4") // h
	p("VMULPD Y2, Y0, Y5")         // ml
	p("VMULPD Y3, Y1, Y6")         // mr
	// fr
	p("VADDPD Y6, Y5, Y7")
	p("VMULPD half<>(SB), Y7, Y7")
	p("VSUBPD Y0, Y1, Y8")
	p("VMULPD Y8, Y4, Y8")
	p("VSUBPD Y8, Y7, Y7")
	p("VMOVUPD Y7, (R9)")
	// fu
	p("VMULPD Y2, Y5, Y7")
	p("VADDPD Y0, Y7, Y7") // ml·ul + rl
	p("VMULPD Y3, Y6, Y8")
	p("VADDPD Y1, Y8, Y8") // mr·ur + rr
	p("VADDPD Y8, Y7, Y7")
	p("VMULPD half<>(SB), Y7, Y7")
	p("VSUBPD Y5, Y6, Y8") // mr − ml
	p("VMULPD Y8, Y4, Y8")
	p("VSUBPD Y8, Y7, Y7")
	p("VMOVUPD Y7, (R10)")
	// fv, fw: Y2, Y3 are free now.
	for k, dst := range []string{"(R11)", "(R14)"} {
		trans(k, "Y2", "Y3")
		p("VMULPD Y2, Y5, Y7") // ml·vl
		p("VMULPD Y3, Y6, Y8") // mr·vr
		p("VADDPD Y8, Y7, Y7")
		p("VMULPD half<>(SB), Y7, Y7")
		p("VMULPD Y3, Y1, Y8") // rr·vr
		p("VMULPD Y2, Y0, Y9") // rl·vl
		p("VSUBPD Y9, Y8, Y8")
		p("VMULPD Y8, Y4, Y8")
		p("VSUBPD Y8, Y7, Y7")
		p("VMOVUPD Y7, %s", dst)
	}
}

// face emits faceLinearAVX2 or faceFirstAVX2(rho, u, v, w *float64, s, n
// int, fr, fu, fv, fw *float64).
func face(linear bool) {
	name := "faceFirstAVX2"
	if linear {
		name = "faceLinearAVX2"
	}
	fmt.Fprintf(&b, "// func %s(rho, u, v, w *float64, s, n int, fr, fu, fv, fw *float64)\n", name)
	fmt.Fprintf(&b, "TEXT ·%s(SB), NOSPLIT, $0-80\n", name)
	p("MOVQ rho+0(FP), AX")
	p("MOVQ u+8(FP), BX")
	p("MOVQ v+16(FP), DX")
	p("MOVQ w+24(FP), SI")
	p("MOVQ s+32(FP), R12")
	p("SHLQ $3, R12")           // stride in bytes
	p("LEAQ (R12)(R12*2), R13") // 3 strides
	p("MOVQ n+40(FP), CX")
	p("SHRQ $2, CX")
	p("MOVQ fr+48(FP), R9")
	p("MOVQ fu+56(FP), R10")
	p("MOVQ fv+64(FP), R11")
	p("MOVQ fw+72(FP), R14")
	loop := name + "loop"
	label(loop)
	scratch := [7]string{"Y7", "Y8", "Y9", "Y10", "Y11", "Y12", "Y13"}
	if linear {
		plm("AX", "Y0", "Y1", scratch)
		plm("BX", "Y2", "Y3", scratch)
		llf(func(k int, left, right string) {
			plm([]string{"DX", "SI"}[k], left, right, scratch)
		})
	} else {
		p("VMOVUPD (AX), Y0")
		p("VMOVUPD (AX)(R12*1), Y1")
		p("VMOVUPD (BX), Y2")
		p("VMOVUPD (BX)(R12*1), Y3")
		llf(func(k int, left, right string) {
			r := []string{"DX", "SI"}[k]
			p("VMOVUPD (%s), %s", r, left)
			p("VMOVUPD (%s)(R12*1), %s", r, right)
		})
	}
	for _, r := range []string{"AX", "BX", "DX", "SI", "R9", "R10", "R11", "R14"} {
		p("ADDQ $32, %s", r)
	}
	p("DECQ CX")
	p("JNZ %s", loop)
	p("VZEROUPPER")
	p("RET")
	fmt.Fprintln(&b)
}

func prim() {
	fmt.Fprintln(&b, "// func primAVX2(rho, mx, my, mz, vx, vy, vz *float64, n int)")
	fmt.Fprintln(&b, "TEXT ·primAVX2(SB), NOSPLIT, $0-64")
	for i, r := range []string{"AX", "BX", "DX", "SI", "DI", "R8", "R9"} {
		p("MOVQ %s+%d(FP), %s", []string{"rho", "mx", "my", "mz", "vx", "vy", "vz"}[i], 8*i, r)
	}
	p("MOVQ n+56(FP), CX")
	p("SHRQ $2, CX")
	label("primloop")
	p("VMOVUPD one<>(SB), Y0")
	p("VDIVPD (AX), Y0, Y0") // iv = 1/rho
	for k, in := range []string{"BX", "DX", "SI"} {
		out := []string{"DI", "R8", "R9"}[k]
		p("VMULPD (%s), Y0, Y%d", in, k+1)
		p("VMOVUPD Y%d, (%s)", k+1, out)
	}
	for _, r := range []string{"AX", "BX", "DX", "SI", "DI", "R8", "R9"} {
		p("ADDQ $32, %s", r)
	}
	p("DECQ CX")
	p("JNZ primloop")
	p("VZEROUPPER")
	p("RET")
	fmt.Fprintln(&b)
}

// diff: x[i] −= dtdx·(hi[i] − lo[i]).
func diff() {
	fmt.Fprintln(&b, "// func diffAVX2(x, lo, hi *float64, dtdx float64, n int)")
	fmt.Fprintln(&b, "TEXT ·diffAVX2(SB), NOSPLIT, $0-40")
	p("MOVQ x+0(FP), AX")
	p("MOVQ lo+8(FP), BX")
	p("MOVQ hi+16(FP), DX")
	p("VBROADCASTSD dtdx+24(FP), Y15")
	p("MOVQ n+32(FP), CX")
	p("SHRQ $2, CX")
	label("diffloop")
	p("VMOVUPD (DX), Y0")
	p("VSUBPD (BX), Y0, Y0")
	p("VMULPD Y0, Y15, Y0")
	p("VMOVUPD (AX), Y1")
	p("VSUBPD Y0, Y1, Y1")
	p("VMOVUPD Y1, (AX)")
	for _, r := range []string{"AX", "BX", "DX"} {
		p("ADDQ $32, %s", r)
	}
	p("DECQ CX")
	p("JNZ diffloop")
	p("VZEROUPPER")
	p("RET")
	fmt.Fprintln(&b)
}

// diff3: dst[i] = ((src[i] − t0·(x1 − x0)) − t1·(y1 − y0)) − t2·(z1 − z0).
func diff3() {
	fmt.Fprintln(&b, "// func diff3AVX2(dst, src, x0, x1, y0, y1, z0, z1 *float64, t *[3]float64, n int)")
	fmt.Fprintln(&b, "TEXT ·diff3AVX2(SB), NOSPLIT, $0-80")
	regs := []string{"DI", "SI", "AX", "BX", "DX", "R8", "R9", "R10"}
	for i, r := range regs {
		p("MOVQ %s+%d(FP), %s", []string{"dst", "src", "x0", "x1", "y0", "y1", "z0", "z1"}[i], 8*i, r)
	}
	p("MOVQ t+64(FP), R11")
	p("VBROADCASTSD (R11), Y13")
	p("VBROADCASTSD 8(R11), Y14")
	p("VBROADCASTSD 16(R11), Y15")
	p("MOVQ n+72(FP), CX")
	p("SHRQ $2, CX")
	label("diff3loop")
	p("VMOVUPD (SI), Y0")
	for k, pair := range [][2]string{{"AX", "BX"}, {"DX", "R8"}, {"R9", "R10"}} {
		p("VMOVUPD (%s), Y1", pair[1])
		p("VSUBPD (%s), Y1, Y1", pair[0])
		p("VMULPD Y1, Y%d, Y1", 13+k)
		p("VSUBPD Y1, Y0, Y0")
	}
	p("VMOVUPD Y0, (DI)")
	for _, r := range regs {
		p("ADDQ $32, %s", r)
	}
	p("DECQ CX")
	p("JNZ diff3loop")
	p("VZEROUPPER")
	p("RET")
	fmt.Fprintln(&b)
}

func main() {
	fmt.Fprintln(&b, "// Code generated by gen_kernels.go; DO NOT EDIT.")
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, "//go:build amd64 && !purego")
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, "#include \"textflag.h\"")
	fmt.Fprintln(&b)
	data()
	prim()
	face(true)
	face(false)
	diff()
	diff3()
	if err := os.WriteFile("kernels_amd64.s", b.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
