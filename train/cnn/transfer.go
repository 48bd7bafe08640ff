package cnn

import (
	"fmt"
	"strings"
)

// Parts of a network that can be frozen (Config.Freeze) or transferred.
const (
	// FreezeNone trains every parameter.
	FreezeNone = ""
	// FreezeConv keeps the convolution blocks' kernels and biases fixed:
	// only the dense head learns (the usual way to reuse features learned
	// on another task).
	FreezeConv = "conv"
)

// convPrefix starts the name of every convolution parameter.
const convPrefix = "conv2d_"

// checkFreeze validates Config.Freeze.
func checkFreeze(f string) error {
	if f != FreezeNone && f != FreezeConv {
		return fmt.Errorf("cnn: freeze %q: want %q (the convolution blocks) or nothing", f, FreezeConv)
	}
	return nil
}

// frozen reports whether the parameter called name is kept fixed by c.Freeze.
func (c Config) frozen(name string) bool {
	return c.Freeze == FreezeConv && strings.HasPrefix(name, convPrefix)
}

// CopyConv sets m's convolution kernels and biases to src's, leaving m's
// dense head and optimizer state as they are: the start of transfer
// learning from a network trained on another task (a regressor's features
// for a classifier, or the reverse). The two networks must have the same
// convolution blocks (filters) and the same image size, since the
// features of a block depend on the scale of what it sees; otherwise
// CopyConv changes nothing and says how they differ.
func (m *Model) CopyConv(src *Model) error {
	a, b := src.cfg, m.cfg
	if !equalInts(a.Filters, b.Filters) || a.ImageSize != b.ImageSize {
		return fmt.Errorf("cnn: the source network has filters %s on %d² images, this one filters %s on %d² images: "+
			"transfer needs the same filters and image size", joinInts(a.Filters), a.ImageSize, joinInts(b.Filters), b.ImageSize)
	}
	n := 0
	for i, p := range m.params {
		if !strings.HasPrefix(p.name, convPrefix) {
			continue
		}
		q := src.params[i]
		if q.name != p.name || !equalInts(q.shape, p.shape) {
			return fmt.Errorf("cnn: source parameter %s %v does not match %s %v", q.name, []int(q.shape), p.name, []int(p.shape))
		}
		n++
	}
	for i, p := range m.params[:n] {
		copy(p.data(), src.params[i].data())
	}
	return nil
}

// ConvWeights returns a copy of the convolution kernels and biases, in
// layer order (kernel then bias of each block): what CopyConv transfers and
// what Freeze keeps fixed.
func (m *Model) ConvWeights() [][]float32 {
	var out [][]float32
	for _, p := range m.params {
		if strings.HasPrefix(p.name, convPrefix) {
			out = append(out, append([]float32(nil), p.data()...))
		}
	}
	return out
}

// DenseWeights returns a copy of the dense layers' kernels and biases, in
// layer order.
func (m *Model) DenseWeights() [][]float32 {
	var out [][]float32
	for _, p := range m.params {
		if !strings.HasPrefix(p.name, convPrefix) {
			out = append(out, append([]float32(nil), p.data()...))
		}
	}
	return out
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}
