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
// what a linear probe reads). The head learns to predict the nuisance by
// least squares; between the embedding and the head sits a gradient
// reversal layer, the identity going forward and −λ times the gradient going
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
	z, err := G.Mul(rev, w)
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
