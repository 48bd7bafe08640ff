package cnn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Model is a convolutional network built as gorgonia expression graphs:
// convolution blocks (custom ops over the engine), a dense head of
// gorgonia's own ops, the loss, and gorgonia's symbolic gradients; RMSprop
// updates the parameters. A Model is not safe for concurrent use.
type Model struct {
	cfg    Config
	geoms  []convGeom
	eng    engine
	ar     *arena
	params []*param
	opt    *rmsprop
	step   uint64 // optimizer steps taken
	meta   map[string]string
	graphs map[graphKey]*graph
}

// param is one trainable tensor, shared by every graph of the model.
type param struct {
	name          string
	shape         tensor.Shape
	t             *tensor.Dense
	fanIn, fanOut int
	isBias        bool
}

func (p *param) data() []float32 { return p.t.Data().([]float32) }

type graphKind int

const (
	kindTrain    graphKind = iota // dropout on, loss and parameter gradients
	kindInfer                     // no dropout; outputs and embeddings
	kindSaliency                  // no dropout; ∂output/∂image
)

type graphKey struct {
	kind graphKind
	n    int
}

// graph is one compiled gorgonia graph for a batch of n images.
type graph struct {
	n      int
	g      *G.ExprGraph
	vm     G.VM
	x      *tensor.Dense // images (n, 1, S, S)
	xNode  *G.Node
	y      *tensor.Dense // labels (n, 1)
	masks  []*tensor.Dense
	params G.Nodes
	grads  G.Nodes // train: ∂loss/∂params; saliency: {∂Σz/∂x}
	loss   *lossOp
	nu     *tensor.Dense // nuisance targets (n, 1) (Debias)
	nloss  *lossOp       // the nuisance head's loss (Debias)
	out    []float32     // network outputs z (logits or n), set by a tap
	emb    []float32     // penultimate activations, set by a tap
}

// New builds a model with Glorot-uniform weights and zero biases drawn from
// cfg.Seed.
func New(cfg Config) (*Model, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.clone()
	useGorgoniaBLAS()
	m := &Model{cfg: cfg, geoms: cfg.geoms(), eng: &cpuEngine{}, ar: newArena(cfg.Batch), graphs: map[graphKey]*graph{}}
	for i, g := range m.geoms {
		m.addParam(fmt.Sprintf("conv2d_%d/kernel", i+1), tensor.Shape{g.cout, g.cin, 3, 3}, g.cin*9, g.cout*9, false)
		m.addParam(fmt.Sprintf("conv2d_%d/bias", i+1), tensor.Shape{g.cout}, 0, 0, true)
	}
	for i, d := range cfg.denseShapes() {
		m.addParam(fmt.Sprintf("dense_%d/kernel", i+1), tensor.Shape{d[0], d[1]}, d[0], d[1], false)
		m.addParam(fmt.Sprintf("dense_%d/bias", i+1), tensor.Shape{d[1]}, 0, 0, true)
	}
	if cfg.Debias {
		m.addParam("nuisance/kernel", tensor.Shape{cfg.embedWidth(), 1}, cfg.embedWidth(), 1, false)
		m.addParam("nuisance/bias", tensor.Shape{1}, 0, 0, true)
	}
	var sizes []int
	for i, p := range m.params {
		if !p.isBias {
			glorotUniform(p.data(), p.fanIn, p.fanOut, newStream(cfg.Seed, purposeInit, uint64(i)))
		}
		sizes = append(sizes, p.shape.TotalSize())
	}
	m.opt = newRMSprop(cfg.LearnRate, sizes)
	for _, p := range m.params {
		m.opt.frozen = append(m.opt.frozen, cfg.frozen(p.name))
	}
	return m, nil
}

func (m *Model) addParam(name string, shape tensor.Shape, fanIn, fanOut int, bias bool) {
	t := denseOf(make([]float32, shape.TotalSize()), shape...)
	m.params = append(m.params, &param{name: name, shape: shape, t: t, fanIn: fanIn, fanOut: fanOut, isBias: bias})
}

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg.clone() }

// Steps returns the number of optimizer steps taken (TrainStep calls that
// succeeded), saved with the model.
func (m *Model) Steps() uint64 { return m.step }

// SetMeta records a string saved with the model (for instance the
// training set's pixel mean and deviation, which inputs must be
// standardised with).
func (m *Model) SetMeta(key, value string) {
	if m.meta == nil {
		m.meta = map[string]string{}
	}
	m.meta[key] = value
}

// Meta returns a string recorded by SetMeta (and kept by Save and Load).
func (m *Model) Meta(key string) (string, bool) {
	v, ok := m.meta[key]
	return v, ok
}

// Params returns the number of trainable parameters.
func (m *Model) Params() int {
	n := 0
	for _, p := range m.params {
		n += p.shape.TotalSize()
	}
	return n
}

func (m *Model) pixels() int { return m.cfg.ImageSize * m.cfg.ImageSize }

// graphFor returns the compiled graph of a kind for n images, building it
// on first use.
func (m *Model) graphFor(kind graphKind, n int) (*graph, error) {
	key := graphKey{kind, n}
	if gr, ok := m.graphs[key]; ok {
		return gr, nil
	}
	gr, err := m.build(kind, n)
	if err != nil {
		return nil, fmt.Errorf("cnn: building the graph: %w", err)
	}
	m.graphs[key] = gr
	return gr, nil
}

func (m *Model) build(kind graphKind, n int) (gr *graph, err error) {
	defer func() {
		// gorgonia reports some graph-construction errors by panicking.
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	S := m.cfg.ImageSize
	g := G.NewGraph()
	gr = &graph{n: n, g: g}
	gr.x = denseOf(m.ar.images("x", n, S*S), n, 1, S, S)
	gr.xNode = G.NewTensor(g, G.Float32, 4, G.WithShape(n, 1, S, S), G.WithName("x"), G.WithValue(gr.x))
	for _, p := range m.params {
		gr.params = append(gr.params, G.NewTensor(g, G.Float32, p.shape.Dims(), G.WithShape(p.shape...), G.WithName(p.name), G.WithValue(p.t)))
	}

	h := gr.xNode
	for l, geo := range m.geoms {
		op := &convOp{
			opBase: opBase{nextOpID(), fmt.Sprintf("conv2d_%d", l+1)},
			layer:  l, g: geo, n: n, flat: l == len(m.geoms)-1,
			eng: m.eng, ar: m.ar,
			needDX: l > 0 || kind == kindSaliency,
			needDW: kind == kindTrain && !m.cfg.frozen(m.params[2*l].name),
		}
		if h, err = G.ApplyOp(op, h, gr.params[2*l], gr.params[2*l+1]); err != nil {
			return nil, err
		}
	}
	pi := 2 * len(m.geoms)
	emb := h
	for i, d := range m.cfg.Dense {
		if h, err = G.Mul(h, gr.params[pi]); err != nil {
			return nil, err
		}
		if h, err = G.BroadcastAdd(h, gr.params[pi+1], nil, []byte{0}); err != nil {
			return nil, err
		}
		if h, err = G.Rectify(h); err != nil {
			return nil, err
		}
		emb = h
		if kind == kindTrain && m.cfg.Dropout > 0 {
			mask := denseOf(make([]float32, n*d), n, d)
			gr.masks = append(gr.masks, mask)
			mn := G.NewMatrix(g, G.Float32, G.WithShape(n, d), G.WithName(fmt.Sprintf("dropout_mask_%d", i+1)), G.WithValue(mask))
			if h, err = G.HadamardProd(h, mn); err != nil {
				return nil, err
			}
		}
		pi += 2
	}
	z, err := G.Mul(h, gr.params[pi])
	if err != nil {
		return nil, err
	}
	if z, err = G.BroadcastAdd(z, gr.params[pi+1], nil, []byte{0}); err != nil {
		return nil, err
	}

	switch kind {
	case kindTrain:
		gr.y = denseOf(make([]float32, n), n, 1)
		yNode := G.NewMatrix(g, G.Float32, G.WithShape(n, 1), G.WithName("labels"), G.WithValue(gr.y))
		gr.loss = &lossOp{opBase: opBase{nextOpID(), "loss"}, task: m.cfg.Task, n: n}
		cost, err := G.ApplyOp(gr.loss, z, yNode)
		if err != nil {
			return nil, err
		}
		if m.cfg.Debias {
			nl, err := m.nuisanceHead(gr, emb, gr.params[pi+2], gr.params[pi+3])
			if err != nil {
				return nil, err
			}
			if cost, err = G.Add(cost, nl); err != nil {
				return nil, err
			}
		}
		if gr.grads, err = G.Grad(cost, gr.params...); err != nil {
			return nil, err
		}
	case kindInfer:
		if _, err = G.ApplyOp(&tapOp{opBase{nextOpID(), "tap_output"}, 2, &gr.out}, z); err != nil {
			return nil, err
		}
		if _, err = G.ApplyOp(&tapOp{opBase{nextOpID(), "tap_embedding"}, 2, &gr.emb}, emb); err != nil {
			return nil, err
		}
	case kindSaliency:
		cost, err := G.Sum(z)
		if err != nil {
			return nil, err
		}
		if gr.grads, err = G.Grad(cost, gr.xNode); err != nil {
			return nil, err
		}
	}
	gr.vm = G.NewTapeMachine(g)
	return gr, nil
}

// run executes a graph once on images x.
func (gr *graph) run(x []float32) error {
	copy(gr.x.Data().([]float32), x)
	gr.vm.Reset()
	if err := gr.vm.RunAll(); err != nil {
		return fmt.Errorf("cnn: running the graph: %w", err)
	}
	return nil
}

// checkImages validates a batch of images and returns how many it holds.
func (m *Model) checkImages(x []float32) (int, error) {
	px := m.pixels()
	if len(x) == 0 || len(x)%px != 0 {
		return 0, fmt.Errorf("cnn: %d values are not a whole number of %d×%d images", len(x), m.cfg.ImageSize, m.cfg.ImageSize)
	}
	if i := firstNonFinite(x); i >= 0 {
		return 0, fmt.Errorf("cnn: image %d has a non-finite pixel (%v at %d)", i/px, x[i], i%px)
	}
	return len(x) / px, nil
}

// firstNonFinite returns the index of the first NaN or ±Inf in x, or −1.
func firstNonFinite(x []float32) int {
	const exp = 0x7f800000 // all exponent bits set ⇔ not finite
	for i, v := range x {
		if math.Float32bits(v)&exp == exp {
			return i
		}
	}
	return -1
}

func (m *Model) checkLabels(y []float32) error {
	for i, v := range y {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("cnn: label %d is %v", i, v)
		}
		if m.cfg.Task == TaskClassify && (v < 0 || v > 1) {
			return fmt.Errorf("cnn: label %d is %v: classification labels are 0 (Kolmogorov) or 1 (Burgers)", i, v)
		}
	}
	return nil
}

// TrainStep takes one RMSprop step on a batch: x holds B images of S×S
// pixels, row-major, one after the other; y their B labels (0 or 1 for
// TaskClassify, n for TaskRegress); 1 ≤ B ≤ Batch (a last, partial batch
// is fine). Dropout is on, with masks drawn from the seed and the step
// count. It returns the batch's mean loss before the step.
func (m *Model) TrainStep(x, y []float32) (loss float64, err error) {
	if m.cfg.Debias {
		return 0, fmt.Errorf("cnn: the model has a nuisance head: train it with TrainStepDebias")
	}
	return m.trainStep(x, y, nil)
}

// trainStep is TrainStep with the nuisance targets nu of a Debias model.
func (m *Model) trainStep(x, y, nu []float32) (loss float64, err error) {
	n, err := m.checkImages(x)
	if err != nil {
		return 0, err
	}
	if n != len(y) {
		return 0, fmt.Errorf("cnn: %d images but %d labels", n, len(y))
	}
	if n > m.cfg.Batch {
		return 0, fmt.Errorf("cnn: batch of %d images: the model's batch is %d", n, m.cfg.Batch)
	}
	if err := m.checkLabels(y); err != nil {
		return 0, err
	}
	gr, err := m.graphFor(kindTrain, n)
	if err != nil {
		return 0, err
	}
	copy(gr.y.Data().([]float32), y)
	if gr.nu != nil {
		copy(gr.nu.Data().([]float32), nu)
	}
	for i, mask := range gr.masks {
		dropoutMask(mask.Data().([]float32), m.cfg.Dropout, m.cfg.Seed, m.step, i)
	}
	if err := gr.run(x); err != nil {
		return 0, err
	}
	loss = gr.loss.last
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, fmt.Errorf("cnn: the loss is %v at step %d: training diverged (lower the learning rate?)", loss, m.step)
	}
	vgs := make([]G.ValueGrad, len(m.params))
	for i, p := range m.params {
		vgs[i] = paramGrad{value: p.t, grad: gr.grads[i].Value()}
	}
	if err := m.opt.Step(vgs); err != nil {
		return loss, err
	}
	m.step++
	return loss, nil
}

// forEachBatch runs the inference graph of the given kind over x in
// batches of at most Batch images, calling f after each with the batch's
// first image index.
func (m *Model) forEachBatch(kind graphKind, x []float32, f func(gr *graph, first int)) error {
	n, err := m.checkImages(x)
	if err != nil {
		return err
	}
	px := m.pixels()
	for i := 0; i < n; i += m.cfg.Batch {
		nb := min(m.cfg.Batch, n-i)
		gr, err := m.graphFor(kind, nb)
		if err != nil {
			return err
		}
		if err := gr.run(x[i*px : (i+nb)*px]); err != nil {
			return err
		}
		f(gr, i)
	}
	return nil
}

// outputs returns the raw network outputs (logits, or n) of x.
func (m *Model) outputs(x []float32) ([]float32, error) {
	var out []float32
	err := m.forEachBatch(kindInfer, x, func(gr *graph, _ int) { out = append(out, gr.out...) })
	return out, err
}

// Predict returns, for each image of x (any number, S×S row-major each),
// P(Burgers) for TaskClassify or the predicted n for TaskRegress, in
// inference mode (no dropout).
func (m *Model) Predict(x []float32) ([]float32, error) {
	out, err := m.outputs(x)
	if err != nil {
		return nil, err
	}
	if m.cfg.Task == TaskClassify {
		for i, z := range out {
			out[i] = float32(sigmoid(float64(z)))
		}
	}
	return out, nil
}

// Loss returns the mean loss over the images x with labels y in inference
// mode (the validation loss).
func (m *Model) Loss(x, y []float32) (float64, error) {
	if len(x) != len(y)*m.pixels() {
		return 0, fmt.Errorf("cnn: %d labels for %d values (%d×%d images)", len(y), len(x), m.cfg.ImageSize, m.cfg.ImageSize)
	}
	if err := m.checkLabels(y); err != nil {
		return 0, err
	}
	out, err := m.outputs(x)
	if err != nil {
		return 0, err
	}
	return meanLoss(m.cfg.Task, out, y), nil
}

// Embed returns, for each image of x, the activations of the last hidden
// dense layer (after ReLU; 64 values for the default network), or the
// flattened convolution features when there is no hidden dense layer.
func (m *Model) Embed(x []float32) ([][]float32, error) {
	var emb [][]float32
	err := m.forEachBatch(kindInfer, x, func(gr *graph, _ int) {
		w := len(gr.emb) / gr.n
		for i := 0; i < gr.n; i++ {
			emb = append(emb, append([]float32(nil), gr.emb[i*w:(i+1)*w]...))
		}
	})
	return emb, err
}

// Saliency returns, for each image of x, |∂z/∂pixel| for every pixel
// (S×S row-major, images one after the other), where z is the network
// output before the sigmoid (the logit) for TaskClassify, or n for
// TaskRegress; inference mode.
func (m *Model) Saliency(x []float32) ([]float32, error) {
	var sal []float32
	err := m.forEachBatch(kindSaliency, x, func(gr *graph, _ int) {
		for _, v := range f32s(gr.grads[0].Value()) {
			sal = append(sal, float32(math.Abs(float64(v))))
		}
	})
	return sal, err
}

// Layer is one row of the model summary.
type Layer struct {
	// Name is Keras' layer name: conv2d_1, max_pooling2d_1, flatten_1,
	// dense_1, dropout_1, ...
	Name string
	// Output is the output shape in Keras' (batch, height, width,
	// channels) notation, e.g. "(None, 64, 64, 16)".
	Output string
	// Params counts the layer's trainable parameters.
	Params int
}

// Summary lists the layers like Keras' model.summary(): convolutions
// (with their ReLU), poolings, the flattening, dense layers and dropouts.
// The total is Params().
func (m *Model) Summary() []Layer {
	var ls []Layer
	for i, g := range m.geoms {
		ls = append(ls,
			Layer{fmt.Sprintf("conv2d_%d", i+1), fmt.Sprintf("(None, %d, %d, %d)", g.h, g.w, g.cout), g.cout*g.k() + g.cout},
			Layer{fmt.Sprintf("max_pooling2d_%d", i+1), fmt.Sprintf("(None, %d, %d, %d)", g.ho(), g.wo(), g.cout), 0})
	}
	ls = append(ls, Layer{"flatten_1", fmt.Sprintf("(None, %d)", m.cfg.flatSize()), 0})
	for i, d := range m.cfg.denseShapes() {
		ls = append(ls, Layer{fmt.Sprintf("dense_%d", i+1), fmt.Sprintf("(None, %d)", d[1]), d[0]*d[1] + d[1]})
		if i < len(m.cfg.Dense) && m.cfg.Dropout > 0 {
			ls = append(ls, Layer{fmt.Sprintf("dropout_%d", i+1), fmt.Sprintf("(None, %d)", d[1]), 0})
		}
	}
	if m.cfg.Debias {
		w := m.cfg.embedWidth()
		ls = append(ls, Layer{fmt.Sprintf("nuisance (reversal λ=%g)", m.cfg.DebiasLambda), "(None, 1)", w + 1})
	}
	return ls
}
