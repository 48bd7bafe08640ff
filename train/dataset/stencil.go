package dataset

// Stencil returns the 1-D weights Resample uses to go from n to size pixels
// along one axis: output pixel i is Σ_k w[i][k]·src[start[i]+k] (area
// averaging when size < n, bilinear interpolation with aligned pixel
// centres when size > n). Observed maps are resampled with the same
// stencils as the training images. It panics if n or size is less than 1.
func Stencil(n, size int) (start []int, w [][]float64) {
	if n < 1 || size < 1 {
		panic("dataset: Stencil of an empty axis")
	}
	if n == size {
		start, w = make([]int, n), make([][]float64, n)
		for i := range n {
			start[i], w[i] = i, []float64{1}
		}
		return start, w
	}
	ws := weights1D(n, size)
	start, w = make([]int, size), make([][]float64, size)
	for i, s := range ws {
		start[i], w[i] = s.start, s.w
	}
	return start, w
}
