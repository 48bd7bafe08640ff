//go:build cgo

// Package host runs the CUDA kernels' bodies (kernels.h) on the CPU, one
// call per thread index over every index, compiled by the system C
// compiler through cgo. kernels.h lives here, not beside kernels.cu, so
// that the Go build notices when it changes (cgo does not track headers
// outside the package's directory). Tests compare them with the CPU engine, so the
// index arithmetic the GPU runs is checked where there is no GPU.
//
// Only tests import it: the train binary does not need a C compiler.
package host

/*
#cgo CFLAGS: -O1
#include "kernels.h"

static void im2col(long n, int cin, int h, int w, int ld, long colStride, const float *x, float *col) {
	long total = n * cin * 9L * h * w;
	for (long i = 0; i < total; i++) ti_im2col(i, cin, h, w, ld, colStride, x, col);
}
static void col2im(long n, int cin, int h, int w, int ld, long colStride, const float *col, float *dx) {
	long total = n * cin * (long)h * w;
	for (long i = 0; i < total; i++) ti_col2im(i, cin, h, w, ld, colStride, col, dx);
}
static void pool_forward(long n, int cout, int ho, int wo, int rs, int ld, long zStride,
		const float *z, const float *bias, float *y, unsigned char *arg) {
	long total = n * cout * (long)ho * wo;
	for (long i = 0; i < total; i++) ti_pool_forward(i, cout, ho, wo, rs, ld, zStride, z, bias, y, arg);
}
static void pool_backward(long n, int cout, int h, int rs, int ld, long zStride, int ho, int wo,
		const float *gy, const unsigned char *arg, float *gz) {
	long total = n * cout * (long)h * rs;
	for (long i = 0; i < total; i++) ti_pool_backward(i, cout, h, rs, ld, zStride, ho, wo, gy, arg, gz);
}
static void bias_grad(int n, int cout, int ho, int wo, const float *gy, const unsigned char *arg, float *db) {
	for (long c = 0; c < cout; c++) ti_bias_grad(c, n, cout, ho, wo, gy, arg, db);
}
static void sum_parts(int nparts, long len, const float *parts, float *out) {
	for (long j = 0; j < len; j++) ti_sum_parts(j, nparts, len, parts, out);
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Available reports whether the bodies can run here (this build has cgo).
const Available = true

func f(s []float32) *C.float { return (*C.float)(unsafe.Pointer(unsafe.SliceData(s))) }
func u(s []uint8) *C.uchar   { return (*C.uchar)(unsafe.Pointer(unsafe.SliceData(s))) }
func need(name string, s, n int) {
	if s < n {
		panic(fmt.Sprintf("host: %s has %d elements, the kernel touches %d", name, s, n))
	}
}

// Im2col runs ti_im2col over n images x (cin×h×w each) into col (image i's
// k×ld matrix at i·colStride).
func Im2col(n, cin, h, w, ld, colStride int, x, col []float32) {
	need("x", len(x), n*cin*h*w)
	need("col", len(col), (n-1)*colStride+cin*9*ld)
	C.im2col(C.long(n), C.int(cin), C.int(h), C.int(w), C.int(ld), C.long(colStride), f(x), f(col))
}

// Col2im runs ti_col2im: the gather that undoes Im2col's copies into dx.
func Col2im(n, cin, h, w, ld, colStride int, col, dx []float32) {
	need("dx", len(dx), n*cin*h*w)
	need("col", len(col), (n-1)*colStride+cin*9*ld)
	C.col2im(C.long(n), C.int(cin), C.int(h), C.int(w), C.int(ld), C.long(colStride), f(col), f(dx))
}

// PoolForward runs ti_pool_forward over the n·cout·ho·wo pooled outputs.
func PoolForward(n, cout, ho, wo, rs, ld, zStride int, z, bias, y []float32, arg []uint8) {
	need("y", len(y), n*cout*ho*wo)
	need("arg", len(arg), n*cout*ho*wo)
	need("z", len(z), (n-1)*zStride+(cout-1)*ld+(2*ho)*rs)
	C.pool_forward(C.long(n), C.int(cout), C.int(ho), C.int(wo), C.int(rs), C.int(ld), C.long(zStride), f(z), f(bias), f(y), u(arg))
}

// PoolBackward runs ti_pool_backward over the n·cout·h·rs elements of gz.
func PoolBackward(n, cout, h, rs, ld, zStride, ho, wo int, gy []float32, arg []uint8, gz []float32) {
	need("gy", len(gy), n*cout*ho*wo)
	need("gz", len(gz), (n-1)*zStride+(cout-1)*ld+h*rs)
	C.pool_backward(C.long(n), C.int(cout), C.int(h), C.int(rs), C.int(ld), C.long(zStride), C.int(ho), C.int(wo), f(gy), u(arg), f(gz))
}

// BiasGrad runs ti_bias_grad for the cout channels.
func BiasGrad(n, cout, ho, wo int, gy []float32, arg []uint8, db []float32) {
	need("gy", len(gy), n*cout*ho*wo)
	need("db", len(db), cout)
	C.bias_grad(C.int(n), C.int(cout), C.int(ho), C.int(wo), f(gy), u(arg), f(db))
}

// SumParts runs ti_sum_parts: out[j] = Σ_t parts[t·len + j], t in order.
func SumParts(nparts, n int, parts, out []float32) {
	need("parts", len(parts), nparts*n)
	need("out", len(out), n)
	C.sum_parts(C.int(nparts), C.long(n), f(parts), f(out))
}
