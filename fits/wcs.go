package fits

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/turbindex/turbindex/sim/units"
)

// Kinds of world coordinates of an image's two first axes.
const (
	Celestial = "celestial" // angles on the sky (RA/Dec, Galactic, ecliptic, ...)
	Linear    = "linear"    // lengths
)

// Scale is the size of a pixel in world coordinates.
type Scale struct {
	// Kind is Celestial or Linear.
	Kind string
	// X and Y are the sizes of a pixel along NAXIS1 (a row) and NAXIS2 (a
	// column): radians on the sky (Celestial) or centimetres (Linear).
	X, Y float64
	// Axes names the two world axes, as CTYPE1 and CTYPE2 say.
	Axes [2]string
}

// ErrNoWCS marks a header without a usable pixel scale (errors.Is).
var ErrNoWCS = errors.New("no celestial or linear world coordinate system")

// angleUnits are CUNIT values for celestial axes, in radians.
var angleUnits = map[string]float64{
	"deg": math.Pi / 180, "arcmin": math.Pi / 180 / 60, "arcsec": math.Pi / 180 / 3600,
	"mas": math.Pi / 180 / 3.6e6, "rad": 1,
}

// lengthUnits are CUNIT values for linear axes, in centimetres.
var lengthUnits = map[string]float64{
	"cm": 1, "m": 100, "km": 1e5, "au": 1.495978707e13, "AU": 1.495978707e13, "lyr": 9.4607304725808e17,
	"pc": units.Parsec, "kpc": 1e3 * units.Parsec, "Mpc": 1e6 * units.Parsec,
}

// celestial reports whether CTYPE names a celestial longitude or latitude
// (FITS WCS paper II: RA/DEC, xLON/xLAT, xyLN/xyLT).
func celestial(ctype string) bool {
	a := strings.ToUpper(ctype)
	if len(a) > 4 {
		a = a[:4]
	}
	a = strings.TrimRight(a, "-")
	switch {
	case a == "RA" || a == "DEC":
		return true
	case len(a) == 4 && (a[1:] == "LON" || a[1:] == "LAT"):
		return true
	case len(a) == 4 && (a[2:] == "LN" || a[2:] == "LT"):
		return true
	}
	return false
}

// PixelScale returns the size of a pixel along the first two axes of the
// HDU whose header is h, from its world coordinate system: the CD matrix
// if it has one, else CDELT times the PC matrix (identity if absent). Both
// axes must be celestial (CUNIT deg by default, or arcmin, arcsec, mas,
// rad) or both linear with a length CUNIT (cm, m, km, au, lyr, pc, kpc,
// Mpc). Errors wrap ErrNoWCS and name the card at fault.
func PixelScale(h *Header) (Scale, error) {
	var s Scale
	var kinds [2]string
	var unit [2]float64
	for i := range 2 {
		key := fmt.Sprintf("CTYPE%d", i+1)
		ct, ok, err := h.String(key)
		if err != nil {
			return s, err
		}
		s.Axes[i] = ct
		cu, _, err := h.String(fmt.Sprintf("CUNIT%d", i+1))
		if err != nil {
			return s, err
		}
		cu = strings.TrimSpace(cu)
		switch {
		case ok && celestial(ct):
			kinds[i] = Celestial
			if cu == "" {
				cu = "deg"
			}
			f, known := angleUnits[cu]
			if !known {
				return s, fmt.Errorf("%w: CUNIT%d = %q is not an angle unit (deg, arcmin, arcsec, mas, rad)", ErrNoWCS, i+1, cu)
			}
			unit[i] = f
		case cu != "":
			f, known := lengthUnits[cu]
			if !known {
				return s, fmt.Errorf("%w: CTYPE%d = %q with CUNIT%d = %q: not celestial, and not a length (cm, m, km, au, lyr, pc, kpc, Mpc)", ErrNoWCS, i+1, ct, i+1, cu)
			}
			kinds[i] = Linear
			unit[i] = f
		case !ok:
			return s, fmt.Errorf("%w: no CTYPE%d and no CUNIT%d", ErrNoWCS, i+1, i+1)
		default:
			return s, fmt.Errorf("%w: CTYPE%d = %q is not celestial and has no length CUNIT%d", ErrNoWCS, i+1, ct, i+1)
		}
	}
	if kinds[0] != kinds[1] {
		return s, fmt.Errorf("%w: axis 1 is %s (CTYPE1 = %q), axis 2 %s (CTYPE2 = %q)", ErrNoWCS, kinds[0], s.Axes[0], kinds[1], s.Axes[1])
	}
	s.Kind = kinds[0]
	var m [2][2]float64 // world axis i per pixel along axis j
	hasCD := false
	for i := range 2 {
		for j := range 2 {
			v, ok, err := h.Float(fmt.Sprintf("CD%d_%d", i+1, j+1))
			if err != nil {
				return s, err
			}
			hasCD = hasCD || ok
			m[i][j] = v
		}
	}
	if !hasCD {
		for i := range 2 {
			d, ok, err := h.Float(fmt.Sprintf("CDELT%d", i+1))
			if err != nil {
				return s, err
			}
			if !ok {
				return s, fmt.Errorf("%w: neither CD%d_j nor CDELT%d: the pixel size is not given", ErrNoWCS, i+1, i+1)
			}
			for j := range 2 {
				pc, ok, err := h.Float(fmt.Sprintf("PC%d_%d", i+1, j+1))
				if err != nil {
					return s, err
				}
				if !ok && i == j {
					pc = 1
				}
				m[i][j] = d * pc
			}
		}
	}
	for i := range 2 {
		for j := range 2 {
			m[i][j] *= unit[i]
		}
	}
	s.X = math.Hypot(m[0][0], m[1][0])
	s.Y = math.Hypot(m[0][1], m[1][1])
	if !(s.X > 0) || !(s.Y > 0) || math.IsInf(s.X, 0) || math.IsInf(s.Y, 0) {
		return s, fmt.Errorf("%w: pixel size %g × %g: must be positive and finite", ErrNoWCS, s.X, s.Y)
	}
	return s, nil
}
