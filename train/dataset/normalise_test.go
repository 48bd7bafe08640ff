package dataset

import (
	"math"
	"testing"
)

// TestGrey8 checks the 8-bit grey scaling on values worked out by hand.
func TestGrey8(t *testing.T) {
	pix := []float32{-1, 1, 0, 0.5, -0.999, 0.998}
	Grey8(pix)
	// (v+1)/2·255: 0, 255, 127.5 → 128, 191.25 → 191, 0.1275 → 0, 254.745 → 255.
	want := []float64{0, 255, 128, 191, 0, 255}
	for i, g := range want {
		if math.Abs(float64(pix[i])-g/255) > 1e-7 {
			t.Errorf("pixel %d = %v, want %v/255", i, pix[i], g)
		}
	}
	c := []float32{2, 2, 2}
	Grey8(c)
	if c[0] != 0 || c[2] != 0 {
		t.Errorf("constant image: %v", c)
	}
}

// TestNormalisations applies each normalisation to the same image and
// checks what it must give: standardised by the training statistics, by
// its own, or 256 grey levels in [0, 1].
func TestNormalisations(t *testing.T) {
	raw := make([]float32, 64)
	for i := range raw {
		raw[i] = float32(math.Sin(float64(i))*0.7 - 2)
	}
	st := Stats{Mean: -1.5, Std: 0.5}
	for _, n := range Normalisations {
		pix := append([]float32(nil), raw...)
		n.Apply(pix, st)
		switch n {
		case TrainStats:
			for i, v := range pix {
				if math.Abs(float64(v)-(float64(raw[i])+1.5)/0.5) > 1e-5 {
					t.Fatalf("train: pixel %d = %v", i, v)
				}
			}
		case PerImageStats:
			var m, ss float64
			for _, v := range pix {
				m += float64(v)
			}
			m /= float64(len(pix))
			for _, v := range pix {
				ss += (float64(v) - m) * (float64(v) - m)
			}
			if math.Abs(m) > 1e-6 || math.Abs(ss/float64(len(pix))-1) > 1e-5 {
				t.Errorf("image: mean %v, variance %v", m, ss/float64(len(pix)))
			}
		case Keras8:
			lo, hi := float32(1), float32(0)
			for _, v := range pix {
				lo, hi = min(lo, v), max(hi, v)
				if g := float64(v) * 255; math.Abs(g-math.Round(g)) > 1e-4 {
					t.Errorf("keras8: %v is not a grey level /255", v)
				}
			}
			if lo != 0 || hi != 1 {
				t.Errorf("keras8: range [%v, %v]", lo, hi)
			}
		}
		back, err := ParseNormalisation(string(n))
		if err != nil || back != n {
			t.Errorf("ParseNormalisation(%q) = %q, %v", n, back, err)
		}
	}
	if _, err := ParseNormalisation("per-image"); err == nil {
		t.Error("ParseNormalisation accepted an unknown name")
	}
}
