// Package cnn is the convolutional network that reads the turbulence index
// off column-density images, built on gorgonia.
package cnn

import (
	_ "go4.org/unsafe/assume-no-moving-gc" // gorgonia panics at start-up on Go 1.26 without its latest version
	_ "gorgonia.org/gorgonia"
)
