package experiment

import (
	"math"
	"testing"

	"github.com/turbindex/turbindex/train/dataset"
)

// TestAugmentDraw: strengths stay within their ranges and cover them, the
// knobs not asked for stay off, and the draw depends only on the seed, the
// epoch and the image, not on when it is made.
func TestAugmentDraw(t *testing.T) {
	a, err := ParseAugment("beam,noise")
	if err != nil {
		t.Fatal(err)
	}
	var maxF, minSNR float64 = 0, math.Inf(1)
	for i := range 2000 {
		l := dataset.Label{ID: "kolmogorov-0001", Projection: i % 3, Flip: i % 4, Quadrant: (i / 12) % 4}
		zoom, p := a.draw(7, i/48, l)
		if zoom != 1 || p.Gradient != 0 {
			t.Fatalf("zoom %v, gradient %v drawn without being asked for", zoom, p.Gradient)
		}
		if p.BeamFWHM < 0 || p.BeamFWHM > 8 || (p.SNR != 0 && p.SNR < 3) {
			t.Fatalf("FWHM %v, SNR %v outside [0, 8], [3, ∞)", p.BeamFWHM, p.SNR)
		}
		z2, p2 := a.draw(7, i/48, l)
		if z2 != zoom || p2 != p {
			t.Fatal("the same image and epoch drew different strengths")
		}
		maxF, minSNR = max(maxF, p.BeamFWHM), min(minSNR, p.SNR)
	}
	if maxF < 7.5 || minSNR > 3.5 {
		t.Errorf("2000 draws reached FWHM %v and SNR %v only: the ranges are not covered", maxF, minSNR)
	}
	z, _ := ParseAugment("zoom,gradient")
	lo, hi := 10.0, 0.0
	for e := range 500 {
		f, p := z.draw(1, e, dataset.Label{ID: "b"})
		lo, hi = min(lo, f), max(hi, f)
		if p.BeamFWHM != 0 || p.SNR != 0 || p.Gradient < 0 || p.Gradient > 4 {
			t.Fatalf("zoom,gradient drew %+v", p)
		}
	}
	if lo < 0.5 || hi > 2 || lo > 0.55 || hi < 1.8 {
		t.Errorf("zoom factors in [%v, %v], want to cover [½, 2]", lo, hi)
	}
	for _, bad := range []string{"beam,beam", "blur", "beam,,noise"} {
		if _, err := ParseAugment(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if a, err := ParseAugment(" "); a != nil || err != nil {
		t.Errorf("an empty list gave %v, %v", a, err)
	}
}
