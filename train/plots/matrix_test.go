package plots

import (
	"math"
	"testing"
)

func TestMatrix(t *testing.T) {
	path := t.TempDir() + "/m.png"
	v := [][]float64{{0.9, 0.7, math.NaN()}, {0.6, 0.95, 0.8}}
	if err := Matrix(path, v, []string{"N = 32", "N = 64"}, []string{"32", "64", "128"}, 0.5, 1, "test", "train", "accuracy"); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path)
	for _, bad := range []func() error{
		func() error { return Matrix(path, v, []string{"a"}, []string{"1", "2", "3"}, 0.5, 1, "", "", "") },
		func() error { return Matrix(path, v, []string{"a", "b"}, []string{"1", "2"}, 0.5, 1, "", "", "") },
		func() error { return Matrix(path, v, []string{"a", "b"}, []string{"1", "2", "3"}, 1, 1, "", "", "") },
	} {
		if bad() == nil {
			t.Error("bad matrix accepted")
		}
	}
}

func TestLogLog(t *testing.T) {
	path := t.TempDir() + "/s.png"
	c := []Curve{{Name: "N = 32", X: []float64{0.1, 0.2, 0.4}, Y: []float64{1, 0.3, 0.05}},
		{Name: "N = 64", X: []float64{0.1, 0.2, 0.4, 0.8}, Y: []float64{1, 0.3, 0.06, 0.01}, Dashed: true, Color: 1}}
	if err := LogLog(path, c, "k", "P", "spectra"); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path)
	if err := LogLog(path, []Curve{{Name: "zero", X: []float64{0, 1}, Y: []float64{1, 1}}}, "", "", ""); err == nil {
		t.Error("k = 0 accepted on a log axis")
	}
	if err := LogLog(path, nil, "", "", ""); err == nil {
		t.Error("no curves accepted")
	}
}
