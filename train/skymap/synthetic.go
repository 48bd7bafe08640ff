package skymap

import (
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"os"

	"gonum.org/v1/gonum/dsp/fourier"

	"github.com/turbindex/turbindex/fits"
	"github.com/turbindex/turbindex/internal/atomicfile"
)

// SyntheticOptions describe a synthetic column-density map, for checking
// that predict notices a map unlike the simulations.
type SyntheticOptions struct {
	Size     int     // side in pixels (even)
	PixelPc  float64 // pixel size in pc
	Slope    float64 // power spectrum of log Σ: P(k) ∝ k^−Slope
	SigmaDex float64 // standard deviation of log10 Σ of the field
	MeanSig  float64 // geometric mean Σ, g cm⁻²
	Sources  int     // point sources: Gaussian blobs of 1.5-pixel width
	Contrast float64 // peak Σ of a source over the local Σ (multiplicative)
	Seed     uint64
}

// Synthetic returns a periodic Gaussian random field in log10 Σ with power
// spectrum k^−Slope (random phases, Rayleigh amplitudes), scaled to
// SigmaDex around log10 MeanSig, times point sources at random positions.
func Synthetic(o SyntheticOptions) (*Map, error) {
	n := o.Size
	if n < 4 || n%2 != 0 || n > 8192 || !(o.PixelPc > 0) || !(o.MeanSig > 0) || !(o.SigmaDex >= 0) || o.Sources < 0 {
		return nil, fmt.Errorf("synthetic map: size %d (even, 4–8192), pixel %g pc, mean Σ %g, σ %g dex, %d sources: out of range", n, o.PixelPc, o.MeanSig, o.SigmaDex, o.Sources)
	}
	r := rand.New(rand.NewPCG(o.Seed, 0x73796e7468))
	// Hermitian spectrum via a real field: fill every mode, transform, keep
	// the real part (its spectrum is the same up to a factor).
	spec := make([]complex128, n*n)
	for i := range n {
		ky := float64(i)
		if i > n/2 {
			ky -= float64(n)
		}
		for j := range n {
			kx := float64(j)
			if j > n/2 {
				kx -= float64(n)
			}
			k := math.Hypot(kx, ky)
			if k == 0 {
				continue
			}
			amp := math.Pow(k, -o.Slope/2) * math.Sqrt(-math.Log(1-r.Float64()))
			spec[i*n+j] = cmplx.Rect(amp, 2*math.Pi*r.Float64())
		}
	}
	fft := fourier.NewCmplxFFT(n)
	row := make([]complex128, n)
	for i := range n { // rows
		copy(row, spec[i*n:(i+1)*n])
		fft.Sequence(spec[i*n:(i+1)*n], row)
	}
	for j := range n { // columns
		for i := range n {
			row[i] = spec[i*n+j]
		}
		out := fft.Sequence(nil, row)
		for i := range n {
			spec[i*n+j] = out[i]
		}
	}
	field := make([]float64, n*n)
	var mean, ss float64
	for i, c := range spec {
		field[i] = real(c)
		mean += field[i]
	}
	mean /= float64(n * n)
	for _, v := range field {
		ss += (v - mean) * (v - mean)
	}
	sd := math.Sqrt(ss / float64(n*n))
	m := &Map{Rows: n, Cols: n, PixelPc: [2]float64{o.PixelPc, o.PixelPc}, Sigma: make([]float64, n*n), Unit: GramsPerCm2, Source: "synthetic"}
	for i, v := range field {
		l := math.Log10(o.MeanSig)
		if sd > 0 {
			l += o.SigmaDex * (v - mean) / sd
		}
		m.Sigma[i] = math.Pow(10, l)
	}
	for range o.Sources {
		y0, x0 := r.Float64()*float64(n), r.Float64()*float64(n)
		for y := int(y0) - 5; y <= int(y0)+5; y++ {
			for x := int(x0) - 5; x <= int(x0)+5; x++ {
				yy, xx := (y+n)%n, (x+n)%n
				d2 := (float64(y)-y0)*(float64(y)-y0) + (float64(x)-x0)*(float64(x)-x0)
				m.Sigma[yy*n+xx] *= 1 + (o.Contrast-1)*math.Exp(-d2/(2*1.5*1.5))
			}
		}
	}
	return m, nil
}

// WriteFITS writes m as a float32 FITS image in g cm⁻² with a linear WCS
// in pc (the form `sim export` writes), atomically.
func WriteFITS(path string, m *Map, origin string) error {
	var c fits.Cards
	c.Logical("SIMPLE", true, "conforms to the FITS standard")
	c.Integer("BITPIX", -32, "IEEE 754 single-precision floating point")
	c.Integer("NAXIS", 2, "number of data axes")
	c.Integer("NAXIS1", int64(m.Cols), "columns")
	c.Integer("NAXIS2", int64(m.Rows), "rows")
	c.String("BUNIT", "g cm-2", "column density")
	for i, ax := range []string{"X", "Y"} {
		k := fmt.Sprint(i + 1)
		c.String("CTYPE"+k, ax, "linear")
		c.String("CUNIT"+k, "pc", "")
		c.Real("CDELT"+k, m.PixelPc[i], "pixel size [pc]")
		c.Real("CRPIX"+k, 1, "")
		c.Real("CRVAL"+k, m.PixelPc[i]/2, "")
	}
	c.String("ORIGIN", origin, "")
	data := make([]float32, len(m.Sigma))
	for i, v := range m.Sigma {
		data[i] = float32(v) // Σ is in g cm⁻² whatever the file's unit was
	}
	return atomicfile.Write(path, false, func(w *os.File) error {
		_, err := w.Write(fits.Float32Image(&c, data))
		return err
	})
}
