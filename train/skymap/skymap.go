// Package skymap turns an observed column-density map (a FITS image from
// Herschel, dust extinction, or our own `sim export`) into what the CNN
// reads: Σ in g cm⁻² on the training images' pixel scale, cut into tiles
// of the training images' size, each pixel log10(Σ / (g cm⁻²)).
//
// Units. Σ is mass per area. A map in N(H₂) (cm⁻²) becomes
// Σ = μ_H₂ m_H N(H₂) with μ_H₂ = units.MuH2 = 2.8 (Kauffmann et al. 2008);
// M☉ pc⁻² uses units.SolarMass and units.Parsec; a visual extinction A_V
// (mag) becomes N(H) = 1.87 × 10²¹ cm⁻² mag⁻¹ · A_V (Bohlin, Savage &
// Drake 1978, ApJ 224, 132: N(H)/E(B−V) = 5.8 × 10²¹ cm⁻² mag⁻¹ with
// R_V = 3.1), all hydrogen molecular, so Σ = (μ_H₂/2) m_H N(H).
//
// Geometry. Row 0 of a map is the first row of the FITS image (FITS
// y = 1), as row 0 of a training image is the first row of its snapshot
// map; the network saw every image in four flips, so orientation does not
// matter to it. The pixel size comes from the FITS world coordinates
// (celestial: angle × distance; linear: length) or is given.
package skymap

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/turbindex/turbindex/fits"
	"github.com/turbindex/turbindex/sim/units"
)

// Unit names, as on the command line.
const (
	GramsPerCm2     = "g cm-2"    // Σ, mass column density
	PerCm2          = "cm-2"      // N(H₂), molecular hydrogen column density
	SolarMassPerPc2 = "Msun pc-2" // Σ in M☉ pc⁻²
	Magnitudes      = "mag"       // visual extinction A_V
)

// Units lists the units a map may be in.
var Units = []string{PerCm2, GramsPerCm2, SolarMassPerPc2, Magnitudes}

// NHPerAV is N(H)/A_V in cm⁻² mag⁻¹ (Bohlin, Savage & Drake 1978 with
// R_V = 3.1).
const NHPerAV = 1.87e21

// GramsPerCm2Per returns the factor that converts a value in unit to Σ in
// g cm⁻².
func GramsPerCm2Per(unit string) (float64, error) {
	switch unit {
	case GramsPerCm2:
		return 1, nil
	case PerCm2:
		return units.MuH2 * units.HydrogenMass, nil
	case SolarMassPerPc2:
		return units.SolarMass / (units.Parsec * units.Parsec), nil
	case Magnitudes:
		return units.MuH2 / 2 * units.HydrogenMass * NHPerAV, nil
	}
	return 0, fmt.Errorf("unit %q: want one of %s", unit, strings.Join(Units, ", "))
}

// ParseUnit maps a FITS BUNIT to one of Units, accepting the usual
// spellings ("cm-2", "cm^-2", "1/cm2", "g/cm2", "Msun/pc2",
// "solMass / pc2", "mag"); ok is false if it is none of them.
func ParseUnit(bunit string) (unit string, ok bool) {
	s := strings.ToLower(bunit)
	for _, r := range []string{" ", "^", "**", "(", ")", "[", "]", "."} {
		s = strings.ReplaceAll(s, r, "")
	}
	s = strings.ReplaceAll(s, "/cm2", "cm-2")
	s = strings.ReplaceAll(s, "/pc2", "pc-2")
	switch s {
	case "cm-2", "1cm-2", "h2cm-2", "nh2", "nh2cm-2", "molcm-2":
		return PerCm2, true
	case "gcm-2":
		return GramsPerCm2, true
	case "msunpc-2", "solmasspc-2", "m_sunpc-2", "msolpc-2":
		return SolarMassPerPc2, true
	case "mag", "magav", "av", "magnitude", "magnitudes":
		return Magnitudes, true
	}
	return "", false
}

// Options say how to read a map.
type Options struct {
	// HDU is the FITS HDU (0: primary); −1 picks the first with image data.
	HDU int
	// Slice is the plane of a 3-D image to take (from 0); −1 for none.
	Slice int
	// PixelPc, if positive, is the pixel size in pc, overriding the WCS.
	PixelPc float64
	// DistancePc is the distance to the cloud in pc, for celestial WCS.
	DistancePc float64
	// Unit, if not empty, overrides BUNIT (one of Units).
	Unit string
	// MaxValues bounds the values read (8 bytes of memory each); 0: none.
	MaxValues int
}

// Map is a column-density map.
type Map struct {
	// Rows and Cols are its size in pixels.
	Rows, Cols int
	// Sigma holds Rows × Cols values of Σ in g cm⁻², row-major, row 0 the
	// first FITS row; NaN marks holes (blank, NaN, or not positive).
	Sigma []float64
	// PixelPc is the pixel size in pc along a row (X) and a column (Y).
	PixelPc [2]float64
	// Unit is the unit the file's values were in, and Source what set it
	// ("BUNIT" or "flag").
	Unit, Source string
	// HDU is the HDU read; ScaleFrom says where the pixel size came from.
	HDU       int
	ScaleFrom string
	// NonPositive counts finite values ≤ 0 turned into holes (log Σ needs
	// Σ > 0; noisy maps have some).
	NonPositive int
}

// Errors a caller may tell apart (errors.Is).
var (
	ErrNoScale = errors.New("no pixel scale")
	ErrNot2D   = errors.New("not a 2-D image")
	ErrNoUnit  = errors.New("unknown unit")
	ErrEmpty   = errors.New("no valid pixel")
)

// Read reads the FITS map at path as opt says.
func Read(path string, opt Options) (*Map, error) {
	if opt.MaxValues > 0 {
		// The whole file is read into memory: bound it before reading.
		st, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		if limit := 8*int64(opt.MaxValues) + 64<<20; st.Size() > limit {
			return nil, fmt.Errorf("%s: %d MB, more than the %d MB this reads (%d values of 8 bytes and 64 MB of other HDUs): crop the map or extract its HDU", path, st.Size()>>20, limit>>20, opt.MaxValues)
		}
	}
	f, err := fits.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return FromFITS(f, opt)
}

// FromFITS reads a map from a parsed FITS file.
func FromFITS(f *fits.File, opt Options) (*Map, error) {
	hdu := opt.HDU
	if hdu < 0 {
		if hdu = f.FirstImage(); hdu < 0 {
			return nil, fmt.Errorf("%s: %w: no HDU holds image data", f.Name, ErrNot2D)
		}
	}
	im, err := f.Image(hdu, opt.MaxValues)
	if err != nil {
		return nil, err
	}
	where := fmt.Sprintf("%s: HDU %d", f.Name, hdu)
	shape := im.Shape
	for len(shape) > 2 && shape[0] == 1 { // degenerate axes (NAXIS3 = 1, Stokes, ...)
		shape = shape[1:]
	}
	data := im.Data
	switch {
	case len(shape) == 2 && opt.Slice > 0:
		return nil, fmt.Errorf("%s: --slice %d: the image is 2-D (%v)", where, opt.Slice, im.Shape)
	case len(shape) == 3 && opt.Slice >= 0:
		if opt.Slice >= shape[0] {
			return nil, fmt.Errorf("%s: --slice %d: the cube has planes 0 to %d", where, opt.Slice, shape[0]-1)
		}
		n := shape[1] * shape[2]
		data = data[opt.Slice*n : (opt.Slice+1)*n]
		shape = shape[1:]
	case len(shape) != 2:
		return nil, fmt.Errorf("%s: %w: shape %v (NAXIS = %d): choose a 2-D HDU with --hdu N%s", where, ErrNot2D, im.Shape, len(im.Shape), map[bool]string{true: " or a plane with --slice K", false: ""}[len(shape) == 3])
	}
	m := &Map{Rows: shape[0], Cols: shape[1], HDU: hdu}
	m.Unit, m.Source = opt.Unit, "flag"
	if m.Unit == "" {
		u, ok := ParseUnit(im.BUNIT)
		switch {
		case im.BUNIT == "":
			return nil, fmt.Errorf("%s: %w: no BUNIT card: give --units (%s)", where, ErrNoUnit, strings.Join(Units, ", "))
		case !ok:
			return nil, fmt.Errorf("%s: %w: BUNIT = %q is none of %s: give --units", where, ErrNoUnit, im.BUNIT, strings.Join(Units, ", "))
		}
		m.Unit, m.Source = u, "BUNIT"
	}
	factor, err := GramsPerCm2Per(m.Unit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if m.PixelPc, m.ScaleFrom, err = pixelScale(&im.Header, opt); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	m.Sigma = make([]float64, len(data))
	valid := 0
	for i, v := range data {
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			m.Sigma[i] = math.NaN()
		case v <= 0:
			m.Sigma[i] = math.NaN()
			m.NonPositive++
		default:
			m.Sigma[i] = v * factor
			valid++
		}
	}
	if valid == 0 {
		return nil, fmt.Errorf("%s: %w: all %d × %d values are NaN, blank or ≤ 0", where, ErrEmpty, m.Rows, m.Cols)
	}
	return m, nil
}

// pixelScale returns the pixel size in pc and where it came from.
func pixelScale(h *fits.Header, opt Options) ([2]float64, string, error) {
	if opt.PixelPc > 0 {
		if math.IsInf(opt.PixelPc, 0) {
			return [2]float64{}, "", fmt.Errorf("--pixel-scale %g: must be finite", opt.PixelPc)
		}
		return [2]float64{opt.PixelPc, opt.PixelPc}, "--pixel-scale", nil
	}
	s, err := fits.PixelScale(h)
	if err != nil {
		return [2]float64{}, "", fmt.Errorf("%w: %w; give --pixel-scale PC", ErrNoScale, err)
	}
	if s.Kind == fits.Linear {
		return [2]float64{s.X / units.Parsec, s.Y / units.Parsec}, fmt.Sprintf("WCS (linear %s, %s)", s.Axes[0], s.Axes[1]), nil
	}
	if !(opt.DistancePc > 0) || math.IsInf(opt.DistancePc, 0) {
		return [2]float64{}, "", fmt.Errorf("%w: the WCS is celestial (%s, %s): give the cloud's --distance PC (or --pixel-scale PC)", ErrNoScale, s.Axes[0], s.Axes[1])
	}
	// Small angles: a pixel of θ radians at distance d spans θ·d.
	return [2]float64{s.X * opt.DistancePc, s.Y * opt.DistancePc},
		fmt.Sprintf("WCS (celestial %s, %s; %.4g″ × %.4g″ at %g pc)", s.Axes[0], s.Axes[1], s.X*180/math.Pi*3600, s.Y*180/math.Pi*3600, opt.DistancePc), nil
}
