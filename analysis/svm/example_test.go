package svm_test

import (
	"fmt"
	"log"

	"github.com/turbindex/turbindex/analysis/svm"
)

// A C-SVC with a linear kernel on four points that a vertical line
// separates: class −1 at x₁ = 0, class +1 at x₁ = 2. With a large C the
// solution is the hard-margin one, decision value x₁ − 1 (margins at x₁ = 0
// and 2). All four points lie on the margins; two with non-zero weight
// suffice to express it (SMO, like libsvm, stops there).
func ExampleTrainSVC() {
	x := [][]float64{{0, 0}, {0, 1}, {2, 0}, {2, 1}}
	y := []int{-1, -1, 1, 1}
	p := svm.DefaultParams(svm.Kernel{Kind: "linear"})
	p.C = 100
	m, err := svm.TrainSVC(x, y, p)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("support vectors:", m.NumSV())
	for _, q := range [][]float64{{-1, 0.5}, {1.5, 0}, {3, 2}} {
		fmt.Printf("%v: class %+g, decision for +1 %.3f\n", q, m.Predict(q), m.DecisionFor(1, q))
	}
	// Output:
	// support vectors: 2
	// [-1 0.5]: class -1, decision for +1 -2.000
	// [1.5 0]: class +1, decision for +1 0.500
	// [3 2]: class +1, decision for +1 2.000
}
