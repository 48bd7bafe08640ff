package skymap

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/turbindex/turbindex/analysis/spectrum"
)

// TestUnits checks the conversions against numbers worked out by hand:
// N(H₂) = 10²¹ cm⁻² is 2.8 · 1.6735575 × 10⁻³ = 4.685961 × 10⁻³ g cm⁻²; 1 M☉ pc⁻² is
// 1.98847 × 10³³ g / (3.0857 × 10¹⁸ cm)² = 2.0885 × 10⁻⁴ g cm⁻²; A_V = 1
// mag is N(H) = 1.87 × 10²¹ cm⁻², about 21 M☉ pc⁻² (the usual rule of
// thumb: 15–21 M☉ pc⁻² per magnitude).
func TestUnits(t *testing.T) {
	for _, c := range []struct {
		unit string
		v    float64 // a value in unit
		want float64 // Σ in g cm⁻²
		tol  float64 // relative
	}{
		{GramsPerCm2, 0.02, 0.02, 0},
		{PerCm2, 1e21, 4.685961e-3, 1e-6},
		{SolarMassPerPc2, 1, 2.08847e-4, 1e-4},
		{Magnitudes, 1, 1.4 * 1.6735575e-24 * 1.87e21, 1e-12},
	} {
		f, err := GramsPerCm2Per(c.unit)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.v * f; math.Abs(got/c.want-1) > c.tol {
			t.Errorf("%g %s = %.7g g cm^-2, want %.7g", c.v, c.unit, got, c.want)
		}
	}
	av, _ := GramsPerCm2Per(Magnitudes)
	msun, _ := GramsPerCm2Per(SolarMassPerPc2)
	if r := av / msun; r < 20 || r > 22 {
		t.Errorf("1 mag of A_V is %.3g Msun/pc2, want about 21", r)
	}
	if _, err := GramsPerCm2Per("Jy/beam"); err == nil {
		t.Error("Jy/beam accepted")
	}
	for in, want := range map[string]string{
		"cm-2": PerCm2, "cm^-2": PerCm2, "1/cm2": PerCm2, "CM**-2": PerCm2, "H2/cm2": PerCm2,
		"g cm-2": GramsPerCm2, "g/cm2": GramsPerCm2, "g cm^-2": GramsPerCm2,
		"Msun pc-2": SolarMassPerPc2, "solMass / pc2": SolarMassPerPc2, "Msun/pc^2": SolarMassPerPc2,
		"mag": Magnitudes, "mag(AV)": Magnitudes, "Jy/beam": "", "": "", "K": "",
	} {
		if got, ok := ParseUnit(in); got != want || ok != (want != "") {
			t.Errorf("ParseUnit(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func constMap(rows, cols int, v, pc float64) *Map {
	m := &Map{Rows: rows, Cols: cols, PixelPc: [2]float64{pc, pc}, Sigma: make([]float64, rows*cols)}
	for i := range m.Sigma {
		m.Sigma[i] = v
	}
	return m
}

// TestResample: a constant map stays constant; an integer factor is the box
// average; holes do not spread beyond half the weight; the same scale
// (within 10⁻⁶) is no resampling; sizes are bounded.
func TestResample(t *testing.T) {
	m := constMap(10, 12, 0.5, 0.1)
	m.Sigma[0] = 1.5 // the first 2 × 2 box averages to 0.75
	r, err := Resample(m, 0.2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Rows != 5 || r.Cols != 6 || r.Sigma[0] != 0.75 || r.Sigma[1] != 0.5 || math.Abs(r.PixelPc[0]-0.2) > 1e-15 || math.Abs(r.PixelPc[1]-0.2) > 1e-15 {
		t.Fatalf("resampled to %d × %d, %v, pixel %v", r.Rows, r.Cols, r.Sigma[:2], r.PixelPc)
	}
	m.Sigma[0], m.Sigma[1], m.Sigma[12] = math.NaN(), math.NaN(), math.NaN() // 3 of the first box's 4
	r, _ = Resample(m, 0.2, 0)
	if !math.IsNaN(r.Sigma[0]) || r.Sigma[1] != 0.5 {
		t.Errorf("a box with 3/4 holes gave %g; its neighbour %g", r.Sigma[0], r.Sigma[1])
	}
	m.Sigma[1] = 0.5 // 2 of 4 holes: the mean of the valid two
	r, _ = Resample(m, 0.2, 0)
	if math.Abs(r.Sigma[0]-0.5) > 1e-15 {
		t.Errorf("a box with 2/4 holes gave %g, want 0.5", r.Sigma[0])
	}
	up, err := Resample(constMap(4, 4, 2, 1), 0.25, 0)
	if err != nil || up.Rows != 16 {
		t.Fatal(err, up.Rows)
	}
	for i, v := range up.Sigma {
		if math.Abs(v-2) > 1e-15 {
			t.Fatalf("enlarged constant map: pixel %d = %g", i, v)
		}
	}
	if same, _ := Resample(m, 0.1*(1+1e-9), 0); same != m {
		t.Error("a map on the same pixel size was resampled")
	}
	if _, err := Resample(constMap(100, 100, 1, 1), 0.01, 1000); err == nil {
		t.Error("a 10⁸-pixel resampling was not refused")
	}
}

// TestTiles: tiles with too many holes are skipped and counted, others
// filled with their mean log Σ; a map smaller than a tile is refused.
func TestTiles(t *testing.T) {
	m := constMap(9, 13, 100, 1) // log10 = 2; 2 × 3 tiles of 4, the rest left out
	m.Sigma[0] = math.NaN()      // tile 0: 1/16 holes
	for i := range 4 {
		for j := range 4 {
			if i+j < 3 {
				m.Sigma[i*13+4+j] = math.NaN() // tile 1: 6/16
			}
		}
	}
	tiles, skipped, err := Tiles(m, 4, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	if len(tiles) != 5 || skipped != 1 || tiles[0].Holes != 1.0/16 || tiles[1].Col != 8 || tiles[3].Row != 4 {
		t.Fatalf("%d tiles, %d skipped, first %+v", len(tiles), skipped, tiles[0])
	}
	for _, v := range tiles[0].Pix {
		if v != 2 {
			t.Fatalf("filled tile: %v", tiles[0].Pix)
		}
	}
	if _, _, err := Tiles(m, 10, 0.1); !errors.Is(err, ErrTooSmall) {
		t.Errorf("9 × 13 map, tile 10: %v", err)
	}
}

// TestSynthetic: the synthetic field has the asked power-spectrum slope
// (measured with the analysis' power spectrum of log Σ), spread and mean;
// point sources raise the maximum.
func TestSynthetic(t *testing.T) {
	for _, slope := range []float64{2.5, 3.5} {
		m, err := Synthetic(SyntheticOptions{Size: 128, PixelPc: 0.1, Slope: slope, SigmaDex: 0.3, MeanSig: 0.02, Seed: 4})
		if err != nil {
			t.Fatal(err)
		}
		l := make([]float32, len(m.Sigma))
		var mean, ss float64
		for i, v := range m.Sigma {
			l[i] = float32(math.Log10(v))
			mean += float64(l[i]) / float64(len(l))
		}
		for _, v := range l {
			ss += (float64(v) - mean) * (float64(v) - mean)
		}
		if sd := math.Sqrt(ss / float64(len(l))); math.Abs(sd-0.3) > 1e-4 || math.Abs(mean-math.Log10(0.02)) > 1e-4 {
			t.Errorf("slope %g: log Σ mean %.5f sd %.5f, want %.5f and 0.3", slope, mean, sd, math.Log10(0.02))
		}
		got, err := spectrum.Slope(l, 128, spectrum.Options{KMin: 2, KMax: 32})
		if err != nil || math.Abs(got+slope) > 0.3 {
			t.Errorf("slope %g: measured power-spectrum slope %.3f (%v)", slope, got, err)
		}
	}
	plain, _ := Synthetic(SyntheticOptions{Size: 64, PixelPc: 0.1, Slope: 3, SigmaDex: 0.1, MeanSig: 0.02, Seed: 4})
	src, _ := Synthetic(SyntheticOptions{Size: 64, PixelPc: 0.1, Slope: 3, SigmaDex: 0.1, MeanSig: 0.02, Seed: 4, Sources: 5, Contrast: 10})
	maxOf := func(m *Map) float64 { return slices.Max(m.Sigma) }
	if maxOf(src) < 3*maxOf(plain) {
		t.Errorf("sources of contrast 10 raise the maximum from %g to %g only", maxOf(plain), maxOf(src))
	}
}
