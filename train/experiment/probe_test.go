package experiment

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os/exec"
	"testing"
)

// TestLeastSquaresNumpy compares LeastSquares with numpy.linalg.lstsq (with
// an intercept column) on a fixed problem with a dead (constant) feature,
// as ReLU embeddings have; lstsq gives the minimum-norm solution, whose
// coefficient of a constant centred column is 0, like ours.
func TestLeastSquaresNumpy(t *testing.T) {
	py := ""
	for _, c := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(c, "-c", "import numpy").Run() == nil {
			py = c
			break
		}
	}
	if py == "" {
		t.Skip("numpy not importable (install the Debian package python3-numpy)")
	}
	r := rand.New(rand.NewPCG(3, 4))
	const n, d = 200, 6
	x := make([][]float64, n)
	y := make([]float64, n)
	for i := range x {
		x[i] = make([]float64, d)
		for j := range d {
			x[i][j] = r.NormFloat64()
		}
		x[i][3] = 0.7 // dead unit
		y[i] = 0.5 + 2*x[i][0] - x[i][4] + 0.1*r.NormFloat64()
	}
	in, _ := json.Marshal(map[string]any{"x": x, "y": y})
	cmd := exec.Command(py, "-c", `
import json, sys
import numpy as np
d = json.load(sys.stdin)
x = np.array(d["x"]); y = np.array(d["y"])
xc = x - x.mean(axis=0); yc = y - y.mean()
b, *_ = np.linalg.lstsq(xc, yc, rcond=None)
b0 = y.mean() - x.mean(axis=0) @ b
json.dump([b0] + b.tolist(), sys.stdout)
`)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var want []float64
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	got, err := LeastSquares(x, y)
	if err != nil {
		t.Fatal(err)
	}
	for j := range want {
		if math.Abs(got[j]-want[j]) > 1e-8*(1+math.Abs(want[j])) {
			t.Errorf("β[%d] = %.12g, numpy %.12g", j, got[j], want[j])
		}
	}
	if got[4] != 0 {
		t.Errorf("the dead feature got coefficient %g, want 0", got[4])
	}
	if _, err := LeastSquares(x[:1], y[:1]); err == nil {
		t.Error("one row accepted")
	}
}
