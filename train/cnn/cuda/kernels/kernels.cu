// kernels.cu: turbindex's CUDA kernels. Each one is a body from host/kernels.h
// run by one thread per index; the bodies are shared with the CPU test build
// (see host/kernels.h). Compile to PTX with scripts/build-ptx.sh (nvcc), which
// records this file's and host/kernels.h's hash in the PTX.
#define TI_DEVICE static __device__ __forceinline__
#include "host/kernels.h"

#define TI_IDX                                                   \
	long idx = (long)blockIdx.x * blockDim.x + threadIdx.x;      \
	if (idx >= total)                                            \
		return;

extern "C" {

__global__ void im2col(long total, int cin, int h, int w, int ld, long colStride,
                       const float *x, float *col)
{
	TI_IDX
	ti_im2col(idx, cin, h, w, ld, colStride, x, col);
}

__global__ void col2im(long total, int cin, int h, int w, int ld, long colStride,
                       const float *col, float *dx)
{
	TI_IDX
	ti_col2im(idx, cin, h, w, ld, colStride, col, dx);
}

__global__ void pool_forward(long total, int cout, int ho, int wo, int rs, int ld, long zStride,
                             const float *z, const float *bias, float *y, unsigned char *arg)
{
	TI_IDX
	ti_pool_forward(idx, cout, ho, wo, rs, ld, zStride, z, bias, y, arg);
}

__global__ void pool_backward(long total, int cout, int h, int rs, int ld, long zStride, int ho, int wo,
                              const float *gy, const unsigned char *arg, float *gz)
{
	TI_IDX
	ti_pool_backward(idx, cout, h, rs, ld, zStride, ho, wo, gy, arg, gz);
}

__global__ void bias_grad(long total, int n, int cout, int ho, int wo,
                          const float *gy, const unsigned char *arg, float *db)
{
	TI_IDX
	ti_bias_grad(idx, n, cout, ho, wo, gy, arg, db);
}

__global__ void sum_parts(long total, int nparts, long len, const float *parts, float *out)
{
	TI_IDX
	ti_sum_parts(idx, nparts, len, parts, out);
}

} // extern "C"
