package cnn

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"sync/atomic"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The gorgonia ops of the model. A convolution block is one op (conv +
// bias + ReLU + max-pool, through the engine); its gradient is a second op
// that computes ∂x, ∂w and ∂b in one pass over the batch and returns ∂x,
// with two small ops reading ∂w and ∂b from it (gorgonia ops have one
// output; gorgonia's own cuDNN batch-norm uses the same device). The loss
// is one op computed from the logit. The ops return buffers owned by the
// model's arena, reused from step to step, instead of allocating.

// arena holds the model's big buffers by name; graphs run one at a time,
// so graphs of different batch sizes or modes share them. Per-image
// buffers are sized for a full batch (batch) the first time, so that a
// graph for a partial batch takes a prefix of the same memory.
type arena struct {
	batch int
	f32   map[string][]float32
	u8    map[string][]uint8
}

func newArena(batch int) *arena {
	return &arena{batch: batch, f32: map[string][]float32{}, u8: map[string][]uint8{}}
}

// floats returns n floats of the buffer name.
func (a *arena) floats(name string, n int) []float32 {
	s := a.f32[name]
	if cap(s) < n {
		s = make([]float32, n)
		a.f32[name] = s
	}
	return s[:n]
}

// images returns n·per floats of the per-image buffer name.
func (a *arena) images(name string, n, per int) []float32 {
	return a.floats(name, max(n, a.batch)*per)[:n*per]
}

// imageBytes returns n·per bytes of the per-image buffer name.
func (a *arena) imageBytes(name string, n, per int) []uint8 {
	s := a.u8[name]
	if need := max(n, a.batch) * per; cap(s) < need {
		s = make([]uint8, need)
		a.u8[name] = s
	}
	return s[:n*per]
}

// opIDs makes every op instance hash differently, so gorgonia never merges
// two of them as common subexpressions.
var opIDs atomic.Uint64

func nextOpID() uint64 { return opIDs.Add(1) }

func f32Type(dims int) hm.Type {
	if dims == 0 {
		return G.Float32
	}
	return G.TensorType{Dims: dims, Of: G.Float32}
}

func f32s(v G.Value) []float32 {
	return v.Data().([]float32)
}

func denseOf(data []float32, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
}

// opBase holds what every op of the package shares.
type opBase struct {
	id   uint64
	name string
}

func (o opBase) ReturnsPtr() bool     { return false }
func (o opBase) CallsExtern() bool    { return false }
func (o opBase) OverwritesInput() int { return -1 }
func (o opBase) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "cnn.%s#%d", o.name, o.id)
}
func (o opBase) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}
func (o opBase) String() string { return o.name }

// convOp is a convolution block on a batch of n images: inputs x
// (n, cin, h, w), w (cout, cin, 3, 3), b (cout); output (n, cout, h/2, w/2),
// or (n, cout·h/2·w/2) for the last block (flat).
type convOp struct {
	opBase
	layer  int
	g      convGeom
	n      int
	flat   bool
	eng    engine
	ar     *arena
	needDX bool // compute ∂x (false for the first block unless saliency)
	needDW bool // compute ∂w, ∂b (false for saliency)
}

func (op *convOp) Arity() int { return 3 }
func (op *convOp) Type() hm.Type {
	out := 4
	if op.flat {
		out = 2
	}
	return hm.NewFnType(f32Type(4), f32Type(4), f32Type(1), f32Type(out))
}
func (op *convOp) outShape() tensor.Shape {
	if op.flat {
		return tensor.Shape{op.n, op.g.outSize()}
	}
	return tensor.Shape{op.n, op.g.cout, op.g.ho(), op.g.wo()}
}
func (op *convOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.outShape(), nil }

func (op *convOp) argName() string { return fmt.Sprintf("arg%d", op.layer) }

func (op *convOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("cnn: %s: %d inputs, want 3", op.name, len(in))
	}
	x, w, b := f32s(in[0]), f32s(in[1]), f32s(in[2])
	if len(x) != op.n*op.g.inSize() || len(w) != op.g.cout*op.g.k() || len(b) != op.g.cout {
		return nil, fmt.Errorf("cnn: %s: input sizes %d, %d, %d do not match the block", op.name, len(x), len(w), len(b))
	}
	y := op.ar.images(fmt.Sprintf("y%d", op.layer), op.n, op.g.outSize())
	arg := op.ar.imageBytes(op.argName(), op.n, op.g.outSize())
	op.eng.convForward(op.g, op.n, x, w, b, y, arg)
	return denseOf(y, op.outShape()...), nil
}

func (op *convOp) DiffWRT(int) []bool { return []bool{true, true, true} }

func (op *convOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	bw := &convGradOp{opBase: opBase{nextOpID(), op.name + "_grad"}, fwd: op}
	dx, err := G.ApplyOp(bw, inputs[0], inputs[1], output, grad)
	if err != nil {
		return nil, err
	}
	dw, err := G.ApplyOp(&pickOp{opBase{nextOpID(), op.name + "_dw"}, bw, false}, dx)
	if err != nil {
		return nil, err
	}
	db, err := G.ApplyOp(&pickOp{opBase{nextOpID(), op.name + "_db"}, bw, true}, dx)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw, db}, nil
}

// convGradOp is the gradient of a convOp: inputs x, w, y, ∂L/∂y; output
// ∂L/∂x (zeros, computed once, when the op's needDX is false); ∂L/∂w and
// ∂L/∂b are kept for the pickOps.
type convGradOp struct {
	opBase
	fwd    *convOp
	dw, db []float32
}

func (op *convGradOp) Arity() int { return 4 }
func (op *convGradOp) Type() hm.Type {
	out := 4
	if op.fwd.flat {
		out = 2
	}
	return hm.NewFnType(f32Type(4), f32Type(4), f32Type(out), f32Type(out), f32Type(4))
}
func (op *convGradOp) xShape() tensor.Shape {
	g := op.fwd.g
	return tensor.Shape{op.fwd.n, g.cin, g.h, g.w}
}
func (op *convGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.xShape(), nil }

func (op *convGradOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 4 {
		return nil, fmt.Errorf("cnn: %s: %d inputs, want 4", op.name, len(in))
	}
	f := op.fwd
	x, w, y, gy := f32s(in[0]), f32s(in[1]), f32s(in[2]), f32s(in[3])
	size := f.n * f.g.outSize()
	if len(x) != f.n*f.g.inSize() || len(y) != size || len(gy) != size {
		return nil, fmt.Errorf("cnn: %s: input sizes do not match the block", op.name)
	}
	arg := f.ar.imageBytes(f.argName(), f.n, f.g.outSize())
	var dx, dw, db []float32
	if f.needDX {
		dx = f.ar.images(fmt.Sprintf("dx%d", f.layer), f.n, f.g.inSize())
	}
	if f.needDW {
		dw = f.ar.floats(fmt.Sprintf("dw%d", f.layer), f.g.cout*f.g.k())
		db = f.ar.floats(fmt.Sprintf("db%d", f.layer), f.g.cout)
	}
	f.eng.convBackward(f.g, f.n, x, w, y, gy, arg, dx, dw, db)
	op.dw, op.db = dw, db
	if dx == nil {
		// Nobody reads this ∂x (the images are not trained); it is zero.
		dx = f.ar.images(fmt.Sprintf("zero%d", f.layer), f.n, f.g.inSize())
	}
	return denseOf(dx, op.xShape()...), nil
}

// pickOp returns the ∂w (or ∂b) its convGradOp computed; its input, the
// convGradOp's output, only orders it after that op.
type pickOp struct {
	opBase
	src  *convGradOp
	bias bool
}

func (op *pickOp) Arity() int { return 1 }
func (op *pickOp) Type() hm.Type {
	if op.bias {
		return hm.NewFnType(f32Type(4), f32Type(1))
	}
	return hm.NewFnType(f32Type(4), f32Type(4))
}
func (op *pickOp) shape() tensor.Shape {
	g := op.src.fwd.g
	if op.bias {
		return tensor.Shape{g.cout}
	}
	return tensor.Shape{g.cout, g.cin, 3, 3}
}
func (op *pickOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape(), nil }
func (op *pickOp) Do(...G.Value) (G.Value, error) {
	s := op.src.dw
	if op.bias {
		s = op.src.db
	}
	if s == nil {
		// Gradients of the weights were not asked for (saliency graph).
		s = make([]float32, op.shape().TotalSize())
	}
	return denseOf(s, op.shape()...), nil
}

// lossOp is the mean loss over a batch: inputs the network output z
// (n, 1) and the labels y (n, 1); output a scalar. For TaskClassify,
// binary cross-entropy of sigmoid(z), computed from the logit as
// max(z,0) − z·y + log(1 + e^−|z|), finite for every z; for TaskRegress,
// the mean squared error. Sums are in float64.
type lossOp struct {
	opBase
	task string
	n    int
	last float64 // the value of the latest Do
}

func (op *lossOp) Arity() int                                     { return 2 }
func (op *lossOp) Type() hm.Type                                  { return hm.NewFnType(f32Type(2), f32Type(2), f32Type(0)) }
func (op *lossOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return tensor.ScalarShape(), nil }
func (op *lossOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 2 {
		return nil, fmt.Errorf("cnn: loss: %d inputs, want 2", len(in))
	}
	z, y := f32s(in[0]), f32s(in[1])
	if len(z) != op.n || len(y) != op.n {
		return nil, fmt.Errorf("cnn: loss: %d outputs and %d labels, want %d", len(z), len(y), op.n)
	}
	op.last = meanLoss(op.task, z, y)
	return G.NewF32(float32(op.last)), nil
}
func (op *lossOp) DiffWRT(int) []bool { return []bool{true, false} }
func (op *lossOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dz, err := G.ApplyOp(&lossGradOp{opBase{nextOpID(), "loss_grad"}, op}, inputs[0], inputs[1], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dz, nil}, nil
}

// meanLoss is the loss of outputs z against labels y (see lossOp).
func meanLoss(task string, z, y []float32) float64 {
	var s float64
	for i, zi := range z {
		a, t := float64(zi), float64(y[i])
		if task == TaskClassify {
			s += max(a, 0) - a*t + math.Log1p(math.Exp(-math.Abs(a)))
		} else {
			s += (a - t) * (a - t)
		}
	}
	return s / float64(len(z))
}

// lossGradOp is ∂loss/∂z: (sigmoid(z) − y)/n or 2(z − y)/n, times the
// incoming scalar gradient.
type lossGradOp struct {
	opBase
	loss *lossOp
}

func (op *lossGradOp) Arity() int { return 3 }
func (op *lossGradOp) Type() hm.Type {
	return hm.NewFnType(f32Type(2), f32Type(2), f32Type(0), f32Type(2))
}
func (op *lossGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.loss.n, 1}, nil
}
func (op *lossGradOp) Do(in ...G.Value) (G.Value, error) {
	z, y := f32s(in[0]), f32s(in[1])
	g := float64(in[2].Data().(float32))
	n := op.loss.n
	dz := make([]float32, n)
	for i, zi := range z {
		a, t := float64(zi), float64(y[i])
		if op.loss.task == TaskClassify {
			dz[i] = float32((sigmoid(a) - t) / float64(n) * g)
		} else {
			dz[i] = float32(2 * (a - t) / float64(n) * g)
		}
	}
	return denseOf(dz, n, 1), nil
}

func sigmoid(a float64) float64 {
	if a >= 0 {
		return 1 / (1 + math.Exp(-a))
	}
	e := math.Exp(a)
	return e / (1 + e)
}

// tapOp copies its input into dst when it runs and returns a scalar: it
// reads a value in the middle of a graph at the moment it is computed
// (gorgonia may reuse the value's register afterwards).
type tapOp struct {
	opBase
	dims int
	dst  *[]float32
}

func (op *tapOp) Arity() int                                     { return 1 }
func (op *tapOp) Type() hm.Type                                  { return hm.NewFnType(f32Type(op.dims), f32Type(0)) }
func (op *tapOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return tensor.ScalarShape(), nil }
func (op *tapOp) Do(in ...G.Value) (G.Value, error) {
	src := f32s(in[0])
	*op.dst = append((*op.dst)[:0], src...)
	return G.NewF32(0), nil
}
