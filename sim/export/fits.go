package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/turbindex/turbindex/fits"
	"github.com/turbindex/turbindex/sim/snapshot"
	"github.com/turbindex/turbindex/sim/units"
)

// FITSUnit converts a tsnap unit string ("g cm^-2", "cm s^-1") to the FITS
// form of the FITS standard 4.0, §4.3 ("g cm-2", "cm s-1"): the power of a
// unit is written directly after it, without "^".
func FITSUnit(u string) string { return strings.ReplaceAll(u, "^", "") }

// FITS returns a FITS file (a primary HDU only) holding data, the values of
// the field fi of the snapshot with header h, as big-endian IEEE float32
// (BITPIX = -32). FITS lists axes fastest first, so a C-order field of shape
// [s0, ..., sk] has NAXIS1 = sk, ..., NAXISk+1 = s0. Axes named x, y or z
// get a linear world coordinate in pc (CTYPE, CUNIT, CDELT = the cell size,
// CRPIX = 1, CRVAL = the centre of the first cell, the box starting at 0).
// The header also carries the field, the projection of a Σ map, the run's
// time and the producer's parameters (h.Params) as cards.
func FITS(h *snapshot.Header, fi *snapshot.FieldInfo, data []float32) ([]byte, error) {
	n := 1
	for _, s := range fi.Shape {
		n *= s
	}
	if len(fi.Shape) == 0 || len(fi.Shape) > 999 || len(fi.Axes) != len(fi.Shape) || n != len(data) {
		return nil, fmt.Errorf("fits: field %q: shape %v, axes %v and %d values do not agree", fi.Name, fi.Shape, fi.Axes, len(data))
	}
	var c fitsCards
	k := len(fi.Shape)
	c.Logical("SIMPLE", true, "conforms to the FITS standard")
	c.Integer("BITPIX", -32, "IEEE 754 single-precision floating point")
	c.Integer("NAXIS", int64(k), "number of data axes")
	for i := 1; i <= k; i++ {
		ax := fi.Axes[k-i]
		c.Integer(fmt.Sprintf("NAXIS%d", i), int64(fi.Shape[k-i]), "cells along "+ax)
	}
	c.Logical("EXTEND", true, "extensions may follow")
	c.String("BUNIT", FITSUnit(fi.Unit), quantity(fi.Name))
	for i := 1; i <= k; i++ {
		ax := fi.Axes[k-i]
		c.String(fmt.Sprintf("CTYPE%d", i), strings.ToUpper(ax), "axis "+ax+" of the box (linear)")
		a := strings.Index("xyz", ax)
		if len(ax) != 1 || a < 0 || h.Grid[a] < 1 || !(h.BoxCm[a] > 0) {
			continue
		}
		cell := h.BoxCm[a] / float64(h.Grid[a]) / units.Parsec
		c.String(fmt.Sprintf("CUNIT%d", i), "pc", "unit of CDELT and CRVAL")
		c.Real(fmt.Sprintf("CDELT%d", i), cell, "cell size along "+ax+" [pc]")
		c.Real(fmt.Sprintf("CRPIX%d", i), 1, "reference pixel: the first cell")
		c.Real(fmt.Sprintf("CRVAL%d", i), cell/2, "centre of the first cell [pc], box from 0")
	}
	c.String("ORIGIN", "turbindex", "sim export")
	c.String("FIELD", fi.Name, "tsnap field name")
	if p, ok := strings.CutPrefix(fi.Name, "sigma_"); ok && len(p) == 1 && strings.Contains("xyz", p) {
		c.String("PROJ", p, "line of sight of the column density")
	}
	c.String("PROBLEM", h.Problem, "simulated problem")
	c.String("CODEVER", h.CodeVersion, "version of the producing code")
	c.Real("TIMEMYR", h.TimeMyr, "[Myr] simulated time of the snapshot")
	c.Integer("STEPS", int64(h.Steps), "time steps taken")
	c.Integer("RANKS", int64(h.Ranks), "MPI ranks of the run")
	c.Real("LX", h.BoxCm[0]/units.Parsec, "[pc] box edge along x")
	c.Real("LY", h.BoxCm[1]/units.Parsec, "[pc] box edge along y")
	c.Real("LZ", h.BoxCm[2]/units.Parsec, "[pc] box edge along z")
	if err := c.params(h.Params); err != nil {
		return nil, fmt.Errorf("fits: field %q: params: %w", fi.Name, err)
	}
	return fits.Float32Image(&c.Cards, data), nil
}

// quantity describes a field for the BUNIT comment.
func quantity(name string) string {
	switch {
	case strings.HasPrefix(name, "sigma_"):
		return "column density"
	case name == "density":
		return "mass density"
	case strings.HasPrefix(name, "velocity_"):
		return "velocity component"
	}
	return name
}

// paramKeys names the FITS keyword and comment of the known run parameters;
// others get a keyword made from their name (HIERARCH if it is long).
var paramKeys = map[string][2]string{
	"problem":   {"PROBLEM", "simulated problem"},
	"grid":      {"GRID", "cells along each axis"},
	"index":     {"INDEX", "spectral index n of P(k) ~ k^-n"},
	"seed":      {"SEED", "random seed of the initial velocities"},
	"mach":      {"MACH", "initial 3-D rms Mach number"},
	"tend_myr":  {"TEND", "[Myr] simulated end time"},
	"box_pc":    {"BOXPC", "[pc] box edge"},
	"temp_k":    {"TEMPK", "[K] gas temperature"},
	"mu":        {"MU", "mean molecular weight"},
	"rho0_cgs":  {"RHO0", "[g cm-3] mean density"},
	"cfl":       {"CFL", "Courant number"},
	"order":     {"ORDER", "order of the hydro scheme"},
	"fields":    {"CUBES", "cubes stored in the snapshot"},
	"kmin":      {"KMIN", "[2pi/L] smallest driven |k|"},
	"kmax":      {"KMAX", "[2pi/L] largest driven |k| (0: N/2)"},
	"amp":       {"AMP", "soundwave: relative amplitude"},
	"wave":      {"WAVE", "soundwave: wave vector"},
	"direction": {"DIRECTN", "soundwave: direction"},
	"axis":      {"AXIS", "shocktube: axis"},
	"rho_left":  {"RHOLEFT", "shocktube: left density [rho0]"},
	"rho_right": {"RHORIGHT", "shocktube: right density [rho0]"},
	"vel_left":  {"VELLEFT", "shocktube: left velocity [c_s]"},
	"vel_right": {"VELRIGHT", "shocktube: right velocity [c_s]"},
}

// reserved keywords a parameter must not take over.
var reserved = map[string]bool{
	"SIMPLE": true, "BITPIX": true, "EXTEND": true, "END": true, "BSCALE": true, "BZERO": true,
	"BLANK": true, "BUNIT": true, "BTYPE": true, "COMMENT": true, "HISTORY": true, "DATE": true,
	"OBJECT": true, "EQUINOX": true, "EPOCH": true, "DATAMAX": true, "DATAMIN": true, "XTENSION": true,
	"GROUPS": true, "PCOUNT": true, "GCOUNT": true, "TELESCOP": true, "INSTRUME": true, "EXTNAME": true,
}

// fitsCards adds the run parameters to fits.Cards.
type fitsCards struct{ fits.Cards }

// params writes the producer's parameters, in their order in the JSON.
func (c *fitsCards) params(raw json.RawMessage) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("not a JSON object")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := t.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return err
		}
		key, comment := c.paramKey(name)
		if key == "" {
			continue
		}
		switch v := v.(type) {
		case json.Number:
			if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
				c.Integer(key, i, comment)
			} else if u, err := strconv.ParseUint(string(v), 10, 64); err == nil {
				c.Unsigned(key, u, comment)
			} else if f, err := v.Float64(); err == nil {
				c.Real(key, f, comment)
			} else {
				c.String(key, string(v), comment)
			}
		case string:
			c.String(key, v, comment)
		case bool:
			c.Logical(key, v, comment)
		case nil:
			continue // FITS has an undefined value, but readers handle it poorly
		case []any:
			parts := make([]string, len(v))
			for i, e := range v {
				if s, ok := e.(string); ok {
					parts[i] = s
				} else {
					b, _ := json.Marshal(e)
					parts[i] = string(b)
				}
			}
			c.String(key, strings.Join(parts, ","), comment)
		default:
			b, _ := json.Marshal(v)
			c.String(key, string(b), comment)
		}
	}
	return nil
}

// paramKey returns the keyword and comment of a parameter, or "" if its
// keyword is taken (e.g. "problem", already written from the header).
func (c *fitsCards) paramKey(name string) (key, comment string) {
	if k, ok := paramKeys[name]; ok {
		key, comment = k[0], k[1]
	} else {
		key = strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z':
				return r - 'a' + 'A'
			case r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
				return r
			}
			return '_'
		}, name)
		if key == "" {
			return "", ""
		}
		comment = "run parameter " + name
		if len(key) > 8 || reserved[key] || strings.HasPrefix(key, "NAXIS") || isWCS(key) {
			key = "PARAM " + key // HIERARCH PARAM KEY
		}
	}
	if c.Has(key) || len(key) > 60 {
		return "", ""
	}
	return key, comment
}

func isWCS(key string) bool {
	for _, p := range []string{"CTYPE", "CUNIT", "CDELT", "CRPIX", "CRVAL", "CROTA", "PC", "CD"} {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}
