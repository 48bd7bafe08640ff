package cuda

import "fmt"

// CUBLAS is an opened cuBLAS library with a handle on the current context,
// in the default math mode (no TF32 unless asked).
type CUBLAS struct {
	Path    string
	Version int

	handle  uintptr
	destroy func(h uintptr) int32
	sgemm   func(h uintptr, ta, tb int32, m, n, k int32, alpha *float32, a uint64, lda int32, b uint64, ldb int32, beta *float32, c uint64, ldc int32) int32
}

// OpenCUBLAS loads cuBLAS (TURBINDEX_LIBCUBLAS, libcublas.so.13 or .12 through
// the loader's path, $CUDA_HOME/lib64, /usr/local/cuda/lib64) and creates
// a handle on the calling thread's current context (call it inside
// Context.Do).
func OpenCUBLAS() (*CUBLAS, error) {
	lib, path, err := open("cuBLAS (libcublas.so.13)", candidates(EnvCUBLAS, []string{"libcublas.so.13", "libcublas.so.12"}, "lib64"), ErrNoCUBLAS)
	if err != nil {
		return nil, err
	}
	b := &CUBLAS{Path: path}
	var create func(h *uintptr) int32
	var getVersion func(h uintptr, v *int32) int32
	var setMathMode func(h uintptr, mode int32) int32
	for _, s := range []struct {
		fn   any
		name string
	}{
		{&create, "cublasCreate_v2"}, {&b.destroy, "cublasDestroy_v2"}, {&getVersion, "cublasGetVersion_v2"},
		{&setMathMode, "cublasSetMathMode"}, {&b.sgemm, "cublasSgemm_v2"},
	} {
		if err := bind(lib, path, s.fn, s.name, ErrNoCUBLAS); err != nil {
			return nil, err
		}
	}
	if r := create(&b.handle); r != 0 {
		return nil, &Error{Call: "cublasCreate_v2", Code: int(r), Msg: fmt.Sprintf("cublasStatus %d (no current context, or no GPU memory)", r)}
	}
	const defaultMath = 0 // CUBLAS_DEFAULT_MATH: full float32, no TF32
	if r := setMathMode(b.handle, defaultMath); r != 0 {
		return nil, &Error{Call: "cublasSetMathMode", Code: int(r), Msg: fmt.Sprintf("cublasStatus %d", r)}
	}
	var v int32
	if r := getVersion(b.handle, &v); r == 0 {
		b.Version = int(v)
	}
	return b, nil
}

// Close destroys the handle.
func (b *CUBLAS) Close() {
	if b.handle != 0 {
		b.destroy(b.handle)
		b.handle = 0
	}
}

// Sgemm computes C = op(A)·op(B) on the device, float32, all matrices
// row-major: op(A) is m×k (A is k×m when ta), op(B) is k×n (B is n×k when
// tb), C is m×n; lda, ldb, ldc are the row strides as stored. cuBLAS is
// column-major, so it computes Cᵀ = op(B)ᵀ·op(A)ᵀ.
func (b *CUBLAS) Sgemm(ta, tb bool, m, n, k int, a Ptr, lda int, bm Ptr, ldb int, c Ptr, ldc int) error {
	one, zero := float32(1), float32(0)
	op := func(t bool) int32 {
		if t {
			return 1 // CUBLAS_OP_T
		}
		return 0 // CUBLAS_OP_N
	}
	if r := b.sgemm(b.handle, op(tb), op(ta), int32(n), int32(m), int32(k), &one, uint64(bm), int32(ldb), uint64(a), int32(lda), &zero, uint64(c), int32(ldc)); r != 0 {
		return &Error{Call: "cublasSgemm_v2", Code: int(r), Msg: fmt.Sprintf("cublasStatus %d", r)}
	}
	return nil
}
