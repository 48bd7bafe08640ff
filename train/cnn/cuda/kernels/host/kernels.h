/*
 * kernels.h: the bodies of turbindex's CUDA kernels, as plain C functions of
 * one thread index.
 *
 * kernels.cu wraps each body in a __global__ function (one thread per index,
 * idx = blockIdx.x·blockDim.x + threadIdx.x), and the host package
 * (this directory, train/cnn/cuda/kernels/host) compiles the same bodies with the system C
 * compiler and runs them over every index on the CPU. So the index
 * arithmetic that CI checks is the arithmetic the GPU runs.
 *
 * Layouts follow the CPU engine (train/cnn/engine.go): images NCHW, float32;
 * a convolution block's output z has cout channels `ld` floats apart and
 * rows `rs` floats apart; pooling is 2×2 of stride 2 (odd sizes floor); arg
 * records which element of a window won (0..3, row-major, the first on
 * ties), or ARG_OFF where the ReLU was off.
 *
 * No kernel uses atomics: every sum runs in a fixed order in one thread, so
 * two runs on the same GPU give bitwise the same result.
 */
#ifndef TURBINDEX_KERNELS_H
#define TURBINDEX_KERNELS_H

#ifndef TI_DEVICE
#define TI_DEVICE static inline
#endif

#define ARG_OFF 4

/*
 * im2col of image i of x (cin × h × w): col row r = c·9 + ky·3 + kx, column
 * p = y·w + x holds x[c][y+ky−1][x+kx−1], zero outside the image (padding 1).
 * idx runs over n·cin·9·h·w; image i's matrix starts at col + i·colStride.
 */
TI_DEVICE void ti_im2col(long idx, int cin, int h, int w, int ld, long colStride,
                         const float *x, float *col)
{
	long hw = (long)h * w, per = (long)cin * 9 * hw;
	long i = idx / per, rem = idx % per;
	long r = rem / hw, p = rem % hw;
	int c = (int)(r / 9), kk = (int)(r % 9), ky = kk / 3, kx = kk % 3;
	int y = (int)(p / w) + ky - 1, xx = (int)(p % w) + kx - 1;
	float v = 0.0f;
	if (y >= 0 && y < h && xx >= 0 && xx < w)
		v = x[i * cin * hw + ((long)c * h + y) * w + xx];
	col[i * colStride + r * ld + p] = v;
}

/*
 * col2im, as a gather: dx[i][c][y][x] is the sum over ky, kx (in that order)
 * of the col entries that im2col took from that pixel. idx runs over
 * n·cin·h·w.
 */
TI_DEVICE void ti_col2im(long idx, int cin, int h, int w, int ld, long colStride,
                         const float *col, float *dx)
{
	long hw = (long)h * w, per = (long)cin * hw;
	long i = idx / per, rem = idx % per;
	int c = (int)(rem / hw), y = (int)(rem % hw / w), xx = (int)(rem % w);
	const float *ci = col + i * colStride;
	float s = 0.0f;
	for (int ky = 0; ky < 3; ky++) {
		int py = y - ky + 1;
		if (py < 0 || py >= h)
			continue;
		for (int kx = 0; kx < 3; kx++) {
			int px = xx - kx + 1;
			if (px < 0 || px >= w)
				continue;
			s += ci[(long)(c * 9 + ky * 3 + kx) * ld + (long)py * w + px];
		}
	}
	dx[idx] = s;
}

/*
 * Bias, ReLU and 2×2 max-pool of the convolution z, fused: y = ReLU(max + b).
 * idx runs over n·cout·ho·wo (the pooled outputs, NCHW); image i's z starts
 * at z + i·zStride.
 */
TI_DEVICE void ti_pool_forward(long idx, int cout, int ho, int wo, int rs, int ld, long zStride,
                               const float *z, const float *bias, float *y, unsigned char *arg)
{
	int px = (int)(idx % wo);
	long t = idx / wo;
	int py = (int)(t % ho);
	t /= ho;
	int c = (int)(t % cout);
	long i = t / cout;
	const float *r0 = z + i * zStride + (long)c * ld + (long)(2 * py) * rs + 2 * px;
	const float *r1 = r0 + rs;
	float m = r0[0];
	unsigned char a = 0;
	if (r0[1] > m) { m = r0[1]; a = 1; }
	if (r1[0] > m) { m = r1[0]; a = 2; }
	if (r1[1] > m) { m = r1[1]; a = 3; }
	m += bias[c];
	if (!(m > 0.0f)) { m = 0.0f; a = ARG_OFF; }
	y[idx] = m;
	arg[idx] = a;
}

/*
 * The pooling's backward pass: gz, laid out as z, gets each pooled gradient
 * at its window's maximum when the ReLU was on and zero everywhere else
 * (including the columns past 2·wo and an odd last row). idx runs over
 * n·cout·h·rs.
 */
TI_DEVICE void ti_pool_backward(long idx, int cout, int h, int rs, int ld, long zStride, int ho, int wo,
                                const float *gy, const unsigned char *arg, float *gz)
{
	long plane = (long)h * rs;
	long per = (long)cout * plane;
	long i = idx / per, rem = idx % per;
	int c = (int)(rem / plane);
	long q = rem % plane;
	int row = (int)(q / rs), col = (int)(q % rs);
	int py = row / 2, px = col / 2;
	float v = 0.0f;
	if (py < ho && px < wo && col < 2 * wo) {
		long o = ((i * cout + c) * ho + py) * wo + px;
		if (arg[o] == (unsigned char)((row % 2) * 2 + col % 2))
			v = gy[o];
	}
	gz[i * zStride + (long)c * ld + q] = v;
}

/*
 * The bias gradient: db[c] is the sum of the pooled gradients that passed
 * the ReLU in channel c, over images 0..n−1 and then rows and columns in
 * order. idx runs over cout.
 */
TI_DEVICE void ti_bias_grad(long idx, int n, int cout, int ho, int wo,
                            const float *gy, const unsigned char *arg, float *db)
{
	int c = (int)idx;
	float s = 0.0f;
	for (long i = 0; i < n; i++) {
		long o = (i * cout + c) * (long)ho * wo;
		for (long k = 0; k < (long)ho * wo; k++)
			if (arg[o + k] != ARG_OFF)
				s += gy[o + k];
	}
	db[c] = s;
}

/*
 * Sum of nparts arrays of len floats, part by part in order: out[j] =
 * Σ_t parts[t·len + j]. The weight gradient of a batch is the per-image
 * products summed this way. idx runs over len.
 */
TI_DEVICE void ti_sum_parts(long idx, int nparts, long len, const float *parts, float *out)
{
	float s = 0.0f;
	for (int t = 0; t < nparts; t++)
		s += parts[(long)t * len + idx];
	out[idx] = s;
}

#endif
