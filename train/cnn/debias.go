package cnn

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Adversarial debiasing (Ganin & Lempitsky 2015, "domain-adversarial"
// training). With Config.Debias set the model has a second head: a linear
// layer (weights "nuisance/kernel", bias "nuisance/bias") that predicts a
// nuisance value per image — for turbindex the standardised standard
// deviation of log Σ — from the embedding, the activations of the last
// hidden dense layer after ReLU and before dropout (what Embed returns and
// what a linear probe reads), standardised over the batch (each unit to
// mean 0 and deviation 1, no learnt scale). The standardisation keeps the
// game bounded: on the raw ReLU embedding the layers below can defeat any
// linear head by inflating the activations, and do — the head's error grew
// to 10¹⁴ within two epochs at λ = 1 on the demo campaign — while a
// standardised input cannot be inflated; and since a linear probe is
// invariant to per-unit affine maps, the head sees exactly what the probe
// sees. The head learns to predict the nuisance by least squares; between
// the embedding and the head sits a gradient reversal layer, the identity going forward and −λ times the gradient going
// back, so that the layers below the embedding learn to make the nuisance
// unpredictable while they learn the class. The training loss is
// class loss + nuisance MSE; with λ = 0 the head still learns (it measures
// the nuisance in the embedding) but does not change the rest of the network.

// embedWidth is the width of the embedding: the last hidden dense layer,
// or the flattened convolution features when there is none.
func (c Config) embedWidth() int {
	if len(c.Dense) > 0 {
		return c.Dense[len(c.Dense)-1]
	}
	return c.flatSize()
}

// validateDebias checks the debiasing fields.
func (c Config) validateDebias() error {
	if !(c.DebiasLambda >= 0) || math.IsInf(c.DebiasLambda, 0) {
		return fmt.Errorf("cnn: debiasing weight λ = %v: want a finite value ≥ 0", c.DebiasLambda)
	}
	if c.DebiasLambda > 0 && !c.Debias {
		return fmt.Errorf("cnn: debiasing weight λ = %v without the nuisance head (Debias)", c.DebiasLambda)
	}
	return nil
}

// reverseOp is the gradient reversal layer: forward, the identity on a
// (n, d) matrix; backward, −λ times the incoming gradient.
type reverseOp struct {
	opBase
	lambda float64
	shape  tensor.Shape
}

func (op *reverseOp) Arity() int    { return 1 }
func (op *reverseOp) Type() hm.Type { return hm.NewFnType(f32Type(2), f32Type(2)) }
func (op *reverseOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}
func (op *reverseOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("cnn: %s: %d inputs, want 1", op.name, len(in))
	}
	x := f32s(in[0])
	if len(x) != op.shape.TotalSize() {
		return nil, fmt.Errorf("cnn: %s: %d values, want %v", op.name, len(x), op.shape)
	}
	return denseOf(append([]float32(nil), x...), op.shape...), nil
}
func (op *reverseOp) DiffWRT(int) []bool { return []bool{true} }
func (op *reverseOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	s := &scaleOp{opBase{nextOpID(), op.name + "_grad"}, -op.lambda, op.shape}
	d, err := G.ApplyOp(s, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{d}, nil
}

// scaleOp multiplies a (n, d) matrix by a constant (computed in float64).
type scaleOp struct {
	opBase
	factor float64
	shape  tensor.Shape
}

func (op *scaleOp) Arity() int    { return 1 }
func (op *scaleOp) Type() hm.Type { return hm.NewFnType(f32Type(2), f32Type(2)) }
func (op *scaleOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}
func (op *scaleOp) Do(in ...G.Value) (G.Value, error) {
	x := f32s(in[0])
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(op.factor * float64(v))
	}
	return denseOf(out, op.shape...), nil
}

// nuisanceHead adds the reversal layer, the nuisance head and its loss to
// a training graph: emb is the embedding (n, embedWidth), w and b the
// head's parameters. It returns the nuisance loss node.
func (m *Model) nuisanceHead(gr *graph, emb, w, b *G.Node) (*G.Node, error) {
	n := gr.n
	rev, err := G.ApplyOp(&reverseOp{opBase{nextOpID(), "gradient_reversal"}, m.cfg.DebiasLambda,
		tensor.Shape{n, m.cfg.embedWidth()}}, emb)
	if err != nil {
		return nil, err
	}
	std, err := G.ApplyOp(&batchStdOp{opBase{nextOpID(), "batch_standardise"}, tensor.Shape{n, m.cfg.embedWidth()}}, rev)
	if err != nil {
		return nil, err
	}
	z, err := G.Mul(std, w)
	if err != nil {
		return nil, err
	}
	if z, err = G.BroadcastAdd(z, b, nil, []byte{0}); err != nil {
		return nil, err
	}
	gr.nu = denseOf(make([]float32, n), n, 1)
	nuNode := G.NewMatrix(gr.g, G.Float32, G.WithShape(n, 1), G.WithName("nuisance"), G.WithValue(gr.nu))
	gr.nloss = &lossOp{opBase: opBase{nextOpID(), "nuisance_loss"}, task: TaskRegress, n: n}
	return G.ApplyOp(gr.nloss, z, nuNode)
}

// TrainStepDebias is TrainStep for a model with the nuisance head (Debias):
// nu holds the B images' nuisance targets (standardised: mean 0 and
// deviation 1 over the training set keeps the two losses comparable). It
// returns the batch's mean class loss and nuisance loss (mean squared error
// of the head) before the step.
func (m *Model) TrainStepDebias(x, y, nu []float32) (loss, nuisance float64, err error) {
	if !m.cfg.Debias {
		return 0, 0, fmt.Errorf("cnn: the model has no nuisance head (Config.Debias)")
	}
	if len(nu) != len(y) {
		return 0, 0, fmt.Errorf("cnn: %d nuisance values for %d labels", len(nu), len(y))
	}
	for i, v := range nu {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return 0, 0, fmt.Errorf("cnn: nuisance %d is %v", i, v)
		}
	}
	loss, err = m.trainStep(x, y, nu)
	if err != nil {
		return loss, 0, err
	}
	gr := m.graphs[graphKey{kindTrain, len(y)}]
	return loss, gr.nloss.last, nil
}

// batchStdEps is added to each unit's variance over the batch
// (activations²), as batch normalisation does, so that a dead unit maps
// to 0 instead of 0/0.
const batchStdEps = 1e-5

// batchStdOp standardises each column of a (n, d) matrix over its n rows:
// y = (x − mean)/√(var + ε), population variance, computed in float64.
type batchStdOp struct {
	opBase
	shape tensor.Shape
}

func (op *batchStdOp) Arity() int    { return 1 }
func (op *batchStdOp) Type() hm.Type { return hm.NewFnType(f32Type(2), f32Type(2)) }
func (op *batchStdOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}

// stats returns each column's mean and 1/√(var + ε).
func (op *batchStdOp) stats(x []float32) (mean, inv []float64) {
	n, d := op.shape[0], op.shape[1]
	mean, inv = make([]float64, d), make([]float64, d)
	for i := range n {
		for j := range d {
			mean[j] += float64(x[i*d+j])
		}
	}
	for j := range d {
		mean[j] /= float64(n)
	}
	for i := range n {
		for j := range d {
			e := float64(x[i*d+j]) - mean[j]
			inv[j] += e * e
		}
	}
	for j := range d {
		inv[j] = 1 / math.Sqrt(inv[j]/float64(n)+batchStdEps)
	}
	return mean, inv
}

func (op *batchStdOp) Do(in ...G.Value) (G.Value, error) {
	x := f32s(in[0])
	if len(x) != op.shape.TotalSize() {
		return nil, fmt.Errorf("cnn: %s: %d values, want %v", op.name, len(x), op.shape)
	}
	mean, inv := op.stats(x)
	d := op.shape[1]
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32((float64(v) - mean[i%d]) * inv[i%d])
	}
	return denseOf(out, op.shape...), nil
}
func (op *batchStdOp) DiffWRT(int) []bool { return []bool{true} }
func (op *batchStdOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	g, err := G.ApplyOp(&batchStdGradOp{opBase{nextOpID(), op.name + "_grad"}, op}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{g}, nil
}

// batchStdGradOp is ∂L/∂x of a batchStdOp from x and ∂L/∂y:
// (g − mean(g) − y·mean(g·y))/√(var + ε), means over the batch.
type batchStdGradOp struct {
	opBase
	fwd *batchStdOp
}

func (op *batchStdGradOp) Arity() int { return 2 }
func (op *batchStdGradOp) Type() hm.Type {
	return hm.NewFnType(f32Type(2), f32Type(2), f32Type(2))
}
func (op *batchStdGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.fwd.shape.Clone(), nil
}
func (op *batchStdGradOp) Do(in ...G.Value) (G.Value, error) {
	x, g := f32s(in[0]), f32s(in[1])
	n, d := op.fwd.shape[0], op.fwd.shape[1]
	if len(x) != n*d || len(g) != n*d {
		return nil, fmt.Errorf("cnn: %s: %d and %d values, want %v", op.name, len(x), len(g), op.fwd.shape)
	}
	mean, inv := op.fwd.stats(x)
	mg, mgy := make([]float64, d), make([]float64, d)
	for i := range n {
		for j := range d {
			y := (float64(x[i*d+j]) - mean[j]) * inv[j]
			mg[j] += float64(g[i*d+j]) / float64(n)
			mgy[j] += float64(g[i*d+j]) * y / float64(n)
		}
	}
	out := make([]float32, n*d)
	for i := range n {
		for j := range d {
			y := (float64(x[i*d+j]) - mean[j]) * inv[j]
			out[i*d+j] = float32((float64(g[i*d+j]) - mg[j] - y*mgy[j]) * inv[j])
		}
	}
	return denseOf(out, op.fwd.shape...), nil
}
