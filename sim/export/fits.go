package export

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/turbindex/turbindex/sim/snapshot"
	"github.com/turbindex/turbindex/sim/units"
)

// FITS sizes: a header is a sequence of 80-character cards, and both the
// header and the data are padded to whole 2880-byte blocks.
const (
	CardSize  = 80
	BlockSize = 2880
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
	var c cards
	k := len(fi.Shape)
	c.logical("SIMPLE", true, "conforms to the FITS standard")
	c.integer("BITPIX", -32, "IEEE 754 single-precision floating point")
	c.integer("NAXIS", int64(k), "number of data axes")
	for i := 1; i <= k; i++ {
		ax := fi.Axes[k-i]
		c.integer(fmt.Sprintf("NAXIS%d", i), int64(fi.Shape[k-i]), "cells along "+ax)
	}
	c.logical("EXTEND", true, "extensions may follow")
	c.str("BUNIT", FITSUnit(fi.Unit), quantity(fi.Name))
	for i := 1; i <= k; i++ {
		ax := fi.Axes[k-i]
		c.str(fmt.Sprintf("CTYPE%d", i), strings.ToUpper(ax), "axis "+ax+" of the box (linear)")
		a := strings.Index("xyz", ax)
		if len(ax) != 1 || a < 0 || h.Grid[a] < 1 || !(h.BoxCm[a] > 0) {
			continue
		}
		cell := h.BoxCm[a] / float64(h.Grid[a]) / units.Parsec
		c.str(fmt.Sprintf("CUNIT%d", i), "pc", "unit of CDELT and CRVAL")
		c.real(fmt.Sprintf("CDELT%d", i), cell, "cell size along "+ax+" [pc]")
		c.real(fmt.Sprintf("CRPIX%d", i), 1, "reference pixel: the first cell")
		c.real(fmt.Sprintf("CRVAL%d", i), cell/2, "centre of the first cell [pc], box from 0")
	}
	c.str("ORIGIN", "turbindex", "sim export")
	c.str("FIELD", fi.Name, "tsnap field name")
	if p, ok := strings.CutPrefix(fi.Name, "sigma_"); ok && len(p) == 1 && strings.Contains("xyz", p) {
		c.str("PROJ", p, "line of sight of the column density")
	}
	c.str("PROBLEM", h.Problem, "simulated problem")
	c.str("CODEVER", h.CodeVersion, "version of the producing code")
	c.real("TIMEMYR", h.TimeMyr, "[Myr] simulated time of the snapshot")
	c.integer("STEPS", int64(h.Steps), "time steps taken")
	c.integer("RANKS", int64(h.Ranks), "MPI ranks of the run")
	c.real("LX", h.BoxCm[0]/units.Parsec, "[pc] box edge along x")
	c.real("LY", h.BoxCm[1]/units.Parsec, "[pc] box edge along y")
	c.real("LZ", h.BoxCm[2]/units.Parsec, "[pc] box edge along z")
	if err := c.params(h.Params); err != nil {
		return nil, fmt.Errorf("fits: field %q: params: %w", fi.Name, err)
	}
	c.buf.WriteString(pad("END", CardSize))
	head := c.buf.Bytes()
	if r := len(head) % BlockSize; r != 0 {
		head = append(head, bytes.Repeat([]byte{' '}, BlockSize-r)...)
	}
	size := len(head) + 4*n
	if r := size % BlockSize; r != 0 {
		size += BlockSize - r
	}
	out := make([]byte, size) // the data padding stays zero
	copy(out, head)
	d := out[len(head):]
	for i, v := range data {
		binary.BigEndian.PutUint32(d[4*i:], math.Float32bits(v))
	}
	return out, nil
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

// cards accumulates 80-character header cards.
type cards struct {
	buf  bytes.Buffer
	used map[string]bool
}

func (c *cards) add(key, value, comment string) { c.card(key, value, comment, true) }

// card writes one card. Numbers and logicals are right-justified to end in
// column 30 (the fixed format); strings start in column 11.
func (c *cards) card(key, value, comment string, right bool) {
	if c.used == nil {
		c.used = map[string]bool{}
	}
	c.used[key] = true
	var s string
	if len(key) <= 8 && !strings.Contains(key, " ") {
		s = pad(key, 8) + "= "
		if right && len(value) < 20 {
			value = strings.Repeat(" ", 20-len(value)) + value // fixed format: ends in column 30
		}
	} else {
		s = "HIERARCH " + key + " = "
	}
	s += value
	if comment != "" && len(s)+3 < CardSize {
		s += " / " + ascii(comment)
	}
	if len(s) > CardSize {
		s = s[:CardSize]
	}
	c.buf.WriteString(pad(s, CardSize))
}

func (c *cards) logical(key string, v bool, comment string) {
	c.add(key, map[bool]string{true: "T", false: "F"}[v], comment)
}

func (c *cards) integer(key string, v int64, comment string) {
	c.add(key, strconv.FormatInt(v, 10), comment)
}

func (c *cards) real(key string, v float64, comment string) { c.add(key, fitsReal(v), comment) }

// str writes a string value: quoted, quotes doubled, at least 8 characters
// between the quotes, truncated to fit the card.
func (c *cards) str(key, v, comment string) {
	room := CardSize - 10 - 2
	if len(key) > 8 {
		room = CardSize - len("HIERARCH ") - len(key) - 3 - 2
	}
	v = ascii(v)
	for len(v)+strings.Count(v, "'") > room {
		v = v[:len(v)-1]
	}
	v = strings.ReplaceAll(v, "'", "''")
	c.card(key, "'"+pad(v, 8)+"'", comment, false)
}

// params writes the producer's parameters, in their order in the JSON.
func (c *cards) params(raw json.RawMessage) error {
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
				c.integer(key, i, comment)
			} else if u, err := strconv.ParseUint(string(v), 10, 64); err == nil {
				c.add(key, strconv.FormatUint(u, 10), comment)
			} else if f, err := v.Float64(); err == nil {
				c.real(key, f, comment)
			} else {
				c.str(key, string(v), comment)
			}
		case string:
			c.str(key, v, comment)
		case bool:
			c.logical(key, v, comment)
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
			c.str(key, strings.Join(parts, ","), comment)
		default:
			b, _ := json.Marshal(v)
			c.str(key, string(b), comment)
		}
	}
	return nil
}

// paramKey returns the keyword and comment of a parameter, or "" if its
// keyword is taken (e.g. "problem", already written from the header).
func (c *cards) paramKey(name string) (key, comment string) {
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
	if c.used[key] || len(key) > 60 {
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

// fitsReal formats v as a FITS real: shortest round-trip digits, with a
// decimal point and an upper-case exponent. NaN and infinities, which FITS
// header values cannot hold, become 0 (they do not occur in valid headers).
func fitsReal(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	s := strconv.FormatFloat(v, 'E', -1, 64)
	if !strings.Contains(s, ".") {
		m, e, _ := strings.Cut(s, "E")
		s = m + ".0E" + e
	}
	return s
}

// ascii replaces characters outside printable ASCII, which FITS headers
// cannot hold, with '?'.
func ascii(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

func pad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}
