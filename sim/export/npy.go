package export

import (
	"bytes"
	"fmt"

	"codeberg.org/sbinet/npyio"
)

// NPY returns a NumPy .npy file of data (float32, little-endian, C order)
// with the given shape (1 to 3 axes), written by npyio.
func NPY(shape []int, data []float32) ([]byte, error) {
	n := 1
	for _, s := range shape {
		if s < 1 {
			return nil, fmt.Errorf("npy: shape %v", shape)
		}
		n *= s
	}
	if n != len(data) {
		return nil, fmt.Errorf("npy: shape %v does not hold %d values", shape, len(data))
	}
	// npyio takes the shape from nested slices; these share data's memory.
	rows := func(d []float32, w int) [][]float32 {
		r := make([][]float32, len(d)/w)
		for i := range r {
			r[i] = d[i*w : (i+1)*w : (i+1)*w]
		}
		return r
	}
	var v any
	switch len(shape) {
	case 1:
		v = data
	case 2:
		v = rows(data, shape[1])
	case 3:
		r := rows(data, shape[2])
		p := make([][][]float32, shape[0])
		for i := range p {
			p[i] = r[i*shape[1] : (i+1)*shape[1]]
		}
		v = p
	default:
		return nil, fmt.Errorf("npy: %d-D arrays are not supported (1 to 3 axes)", len(shape))
	}
	var buf bytes.Buffer
	buf.Grow(128 + 4*n)
	if err := npyio.Write(&buf, v); err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	return buf.Bytes(), nil
}
