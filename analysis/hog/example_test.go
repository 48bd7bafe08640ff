package hog_test

import (
	"fmt"
	"log"

	"github.com/turbindex/turbindex/analysis/hog"
)

// HOG of an 8×8 image that is dark on the left and bright on the right:
// 2×2 cells of 4×4 pixels, one cell per block, 4 orientation bins of 45°.
// The only gradient is along the columns (orientation 0°), on the two
// pixel columns next to the edge, so every cell puts all its weight in bin
// 0, and L2-Hys normalisation (clip at 0.2, renormalise) makes it 1.
func ExampleFeatures() {
	const rows, cols = 8, 8
	img := make([]float32, rows*cols) // row-major
	for r := range rows {
		for c := cols / 2; c < cols; c++ {
			img[r*cols+c] = 1
		}
	}
	o := hog.Options{Orientations: 4, PixelsPerCell: [2]int{4, 4}, CellsPerBlock: [2]int{1, 1}, BlockNorm: hog.NormL2Hys}
	f, err := hog.Features(img, rows, cols, o)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(f), "features =", hog.Len(rows, cols, o))
	for cell := range 4 {
		fmt.Printf("cell %d: %.3f\n", cell, f[4*cell:4*cell+4])
	}
	// Output:
	// 16 features = 16
	// cell 0: [1.000 0.000 0.000 0.000]
	// cell 1: [1.000 0.000 0.000 0.000]
	// cell 2: [1.000 0.000 0.000 0.000]
	// cell 3: [1.000 0.000 0.000 0.000]
}
