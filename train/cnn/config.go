package cnn

import (
	"errors"
	"fmt"
	"math"
)

// Tasks a model can be trained for.
const (
	// TaskClassify: one sigmoid output, P(Burgers), binary cross-entropy
	// (computed from the logit); labels are 0 (Kolmogorov) or 1 (Burgers).
	TaskClassify = "classify"
	// TaskRegress: one linear output, the spectral index n, mean squared
	// error; labels are the true n.
	TaskRegress = "regress"
)

// Config describes a network and its training.
type Config struct {
	// Task is TaskClassify or TaskRegress.
	Task string `json:"task"`
	// ImageSize is the side S of the square single-channel input images.
	ImageSize int `json:"image_size"`
	// Filters holds the channel count of each convolution block
	// (3×3 conv + bias, ReLU, 2×2 max-pool); the image side halves
	// (rounding down) at every block and must stay ≥ 1.
	Filters []int `json:"filters"`
	// Dense holds the widths of the hidden dense layers (ReLU, then
	// dropout); a last dense layer of width 1 follows them.
	Dense []int `json:"dense"`
	// Dropout is the fraction of hidden dense units dropped while training,
	// in [0, 1).
	Dropout float64 `json:"dropout"`
	// LearnRate is RMSprop's learning rate.
	LearnRate float64 `json:"learn_rate"`
	// Batch is the largest batch TrainStep accepts, and the batch size of
	// inference.
	Batch int `json:"batch"`
	// Seed determines the initial weights and every dropout mask.
	Seed uint64 `json:"seed"`
	// Freeze names the parameters that training leaves unchanged:
	// FreezeNone (all learn) or FreezeConv (only the dense head learns).
	Freeze string `json:"freeze,omitempty"`
	// Debias adds the nuisance head behind a gradient reversal layer (see
	// TrainStepDebias); DebiasLambda is the reversal's weight λ ≥ 0.
	Debias       bool    `json:"debias,omitempty"`
	DebiasLambda float64 `json:"debias_lambda,omitempty"`
}

// RMSprop constants other than the learning rate: Keras' defaults.
const (
	rmsRho = 0.9
	rmsEps = 1e-7
)

// DefaultConfig is the talk's network for images of size×size pixels:
// 4 blocks of 16, 32, 64, 64 filters, dense 128 → 64 → 1, dropout 0.5,
// RMSprop with learning rate 1e-3, batch 32, seed 1.
func DefaultConfig(task string, size int) Config {
	return Config{
		Task:      task,
		ImageSize: size,
		Filters:   []int{16, 32, 64, 64},
		Dense:     []int{128, 64},
		Dropout:   0.5,
		LearnRate: 1e-3,
		Batch:     32,
		Seed:      1,
	}
}

// maxParams bounds the network size New accepts (float32 weights plus
// optimizer state stay well under a few GB).
const maxParams = 1 << 26

// validate reports the first problem with c.
func (c Config) validate() error {
	if c.Task != TaskClassify && c.Task != TaskRegress {
		return fmt.Errorf("cnn: task %q: want %q or %q", c.Task, TaskClassify, TaskRegress)
	}
	if c.ImageSize < 2 {
		return fmt.Errorf("cnn: image size %d: want at least 2", c.ImageSize)
	}
	if len(c.Filters) == 0 {
		return errors.New("cnn: no convolution blocks (Filters is empty)")
	}
	s := c.ImageSize
	for i, f := range c.Filters {
		if f < 1 {
			return fmt.Errorf("cnn: filters[%d] = %d: want at least 1", i, f)
		}
		if s/2 < 1 {
			return fmt.Errorf("cnn: image size %d is too small for %d pooling blocks (block %d gets %d×%d pixels)", c.ImageSize, len(c.Filters), i+1, s, s)
		}
		s /= 2
	}
	for i, d := range c.Dense {
		if d < 1 {
			return fmt.Errorf("cnn: dense[%d] = %d: want at least 1", i, d)
		}
	}
	if !(c.Dropout >= 0 && c.Dropout < 1) {
		return fmt.Errorf("cnn: dropout %v: want a fraction in [0, 1)", c.Dropout)
	}
	if !(c.LearnRate > 0) || math.IsInf(c.LearnRate, 0) {
		return fmt.Errorf("cnn: learning rate %v: want a positive number", c.LearnRate)
	}
	if c.Batch < 1 {
		return fmt.Errorf("cnn: batch %d: want at least 1", c.Batch)
	}
	if err := checkFreeze(c.Freeze); err != nil {
		return err
	}
	if err := c.validateDebias(); err != nil {
		return err
	}
	if n := c.paramCount(); n > maxParams {
		return fmt.Errorf("cnn: %d parameters: more than the %d this package accepts", n, maxParams)
	}
	return nil
}

// geoms returns the convolution blocks' geometry.
func (c Config) geoms() []convGeom {
	gs := make([]convGeom, len(c.Filters))
	cin, s := 1, c.ImageSize
	for i, f := range c.Filters {
		gs[i] = convGeom{cin: cin, h: s, w: s, cout: f}
		cin, s = f, s/2
	}
	return gs
}

// flatSize is the length of the flattened output of the last block.
func (c Config) flatSize() int {
	gs := c.geoms()
	return gs[len(gs)-1].outSize()
}

// denseShapes returns (inputs, outputs) of every dense layer, the output
// layer last.
func (c Config) denseShapes() [][2]int {
	var ds [][2]int
	in := c.flatSize()
	for _, d := range c.Dense {
		ds = append(ds, [2]int{in, d})
		in = d
	}
	return append(ds, [2]int{in, 1})
}

// paramCount counts the trainable parameters (without building anything;
// saturates instead of overflowing).
func (c Config) paramCount() int {
	total := 0
	add := func(n int) {
		if n < 0 || total > maxParams || n > maxParams {
			total = maxParams + 1
			return
		}
		total += n
	}
	cin, s := 1, c.ImageSize
	for _, f := range c.Filters {
		add(f*cin*9 + f)
		cin, s = f, s/2
	}
	in := cin * s * s
	if s > 1<<15 || in < 0 {
		return maxParams + 1
	}
	for _, d := range append(append([]int(nil), c.Dense...), 1) {
		if in > maxParams || d > maxParams {
			return maxParams + 1
		}
		add(in*d + d)
		in = d
	}
	return total
}

func (c Config) clone() Config {
	c.Filters = append([]int(nil), c.Filters...)
	c.Dense = append([]int(nil), c.Dense...)
	return c
}
