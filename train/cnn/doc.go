// Package cnn is the convolutional network that reads the turbulence index
// off column-density images, built on gorgonia.
//
// The network (the talk's, by default): 4 blocks of [3×3 convolution
// (16, 32, 64, 64 filters, padding 1) + bias, ReLU, 2×2 max-pool], flatten,
// dense 128 → ReLU → dropout 0.5 → dense 64 → ReLU → dropout 0.5 → dense 1.
// TaskClassify reads the last output as the logit of P(Burgers) and trains
// on binary cross-entropy; TaskRegress reads it as n and trains on the
// mean squared error. RMSprop (Keras' defaults), Glorot-uniform weights,
// everything seeded.
//
// Each model is a set of gorgonia expression graphs (one per mode and
// batch size, built on demand) sharing one set of parameters. The dense
// head, the loss's place in the graph, and the differentiation are
// gorgonia's; the convolution blocks are gorgonia ops of this package
// (ops.go) that call an engine (engine.go) — the seam where a GPU engine
// plugs in. The CPU engine does each block as im2col in NCHW order and one
// matrix product per image, with bias, ReLU and pooling fused in one pass
// and the pooling's argmax kept for the backward pass; images are spread
// over the cores, every buffer is reused from step to step, and the
// partition of every sum is fixed by the batch, so results are bitwise the
// same whatever GOMAXPROCS is. The matrix products use the package's
// AVX-512 kernels where the CPU has them, gonum's pure-Go BLAS elsewhere
// (or with -tags purego), and OpenBLAS with -tags openblas.
package cnn

import (
	// gorgonia v0.9.18 panics at start-up on Go ≥ 1.21 unless this module
	// is at its latest version; the import keeps it in go.mod.
	_ "go4.org/unsafe/assume-no-moving-gc"
)
