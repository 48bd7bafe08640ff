//go:build !cgo

package host

// Available reports whether the bodies can run here: not in a build
// without cgo, where tests that need them skip.
const Available = false

func unavailable() { panic("host: built without cgo") }

func Im2col(n, cin, h, w, ld, colStride int, x, col []float32)  { unavailable() }
func Col2im(n, cin, h, w, ld, colStride int, col, dx []float32) { unavailable() }
func PoolForward(n, cout, ho, wo, rs, ld, zStride int, z, bias, y []float32, arg []uint8) {
	unavailable()
}
func PoolBackward(n, cout, h, rs, ld, zStride, ho, wo int, gy []float32, arg []uint8, gz []float32) {
	unavailable()
}
func BiasGrad(n, cout, ho, wo int, gy []float32, arg []uint8, db []float32) { unavailable() }
func SumParts(nparts, n int, parts, out []float32)                          { unavailable() }
