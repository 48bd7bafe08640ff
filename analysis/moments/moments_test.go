package moments

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/turbindex/turbindex/internal/pyref"
)

// TestByHand checks the moments of small sets worked out by hand.
func TestByHand(t *testing.T) {
	for _, c := range []struct {
		pix  []float32
		want Moments
	}{
		// Two points ±1: m₂ = 1, m₃ = 0, m₄ = 1, excess kurtosis 1 − 3.
		{[]float32{-1, 1}, Moments{0, 1, 0, -2}},
		// {0, 0, 0, 4}: mean 1, deviations −1,−1,−1,3: m₂ = 3, m₃ = (−3+27)/4 = 6,
		// m₄ = (3+81)/4 = 21.
		{[]float32{0, 0, 0, 4}, Moments{1, math.Sqrt(3), 6 / math.Pow(3, 1.5), 21.0/9 - 3}},
	} {
		got, err := Of(c.pix)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range got.Vector() {
			if math.Abs(v-c.want.Vector()[i]) > 1e-12 {
				t.Errorf("%v: %s = %v, want %v", c.pix, Names[i], v, c.want.Vector()[i])
			}
		}
	}
}

// TestScipy compares with numpy's mean and std (ddof 0) and scipy.stats'
// skew and kurtosis (their defaults: bias=True, Fisher's excess kurtosis)
// on fixed arrays: Gaussian, log-normal and uniform values.
func TestScipy(t *testing.T) {
	py := pyref.Python(t, "numpy, scipy.stats", "python3-numpy python3-scipy")
	rng := rand.New(rand.NewPCG(1, 2))
	sets := map[string][]float32{}
	for _, name := range []string{"gauss", "lognormal", "uniform"} {
		pix := make([]float32, 4096)
		for i := range pix {
			switch name {
			case "gauss":
				pix[i] = float32(-1 + 0.3*rng.NormFloat64())
			case "lognormal":
				pix[i] = float32(math.Exp(0.5 * rng.NormFloat64()))
			default:
				pix[i] = float32(rng.Float64())
			}
		}
		sets[name] = pix
	}
	var in strings.Builder
	names := []string{"gauss", "lognormal", "uniform"}
	for _, name := range names {
		for i, v := range sets[name] {
			if i > 0 {
				in.WriteByte(' ')
			}
			in.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 32))
		}
		in.WriteByte('\n')
	}
	out := pyref.RunInput(t, py, `
import sys, numpy as np, scipy.stats as st
for line in sys.stdin:
    x = np.array(line.split(), dtype=np.float32).astype(np.float64)
    print(repr(x.mean()), repr(x.std()), repr(st.skew(x)), repr(st.kurtosis(x)))
`, in.String())
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(names) {
		t.Fatalf("python printed %d lines: %s", len(lines), out)
	}
	for k, name := range names {
		got, err := Of(sets[name])
		if err != nil {
			t.Fatal(err)
		}
		var want [4]float64
		if _, err := fmt.Sscan(lines[k], &want[0], &want[1], &want[2], &want[3]); err != nil {
			t.Fatalf("%q: %v", lines[k], err)
		}
		for i, v := range got.Vector() {
			if math.Abs(v-want[i]) > 1e-10*math.Max(1, math.Abs(want[i])) {
				t.Errorf("%s: %s = %.15g, scipy %.15g", name, Names[i], v, want[i])
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	for _, pix := range [][]float32{nil, {1, 1, 1}, {1, float32(math.NaN())}, {float32(math.Inf(1)), 0}} {
		if _, err := Of(pix); err == nil {
			t.Errorf("%v: no error", pix)
		}
	}
}

func ExampleOf() {
	m, _ := Of([]float32{0, 0, 0, 4})
	fmt.Printf("mean %.3g, std %.3g, skewness %.3g, excess kurtosis %.3g\n", m.Mean, m.Std, m.Skewness, m.Kurtosis)
	// Output: mean 1, std 1.73, skewness 1.15, excess kurtosis -0.667
}
