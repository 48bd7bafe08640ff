package fits

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"
	"strings"
)

// FITS sizes: a header is a sequence of 80-character cards, and both the
// header and the data are padded to whole 2880-byte blocks.
const (
	CardSize  = 80
	BlockSize = 2880
)

// Cards accumulates the 80-character cards of a header, in the fixed
// format: numbers and logicals right-justified to end in column 30,
// strings starting in column 11. Keywords longer than 8 characters or
// holding a space are written with the HIERARCH convention. The zero value
// is an empty header.
type Cards struct {
	buf  bytes.Buffer
	used map[string]bool
}

// Has reports whether a card with keyword key was written.
func (c *Cards) Has(key string) bool { return c.used[key] }

// Logical writes a card with the logical value v (T or F).
func (c *Cards) Logical(key string, v bool, comment string) {
	c.card(key, map[bool]string{true: "T", false: "F"}[v], comment, true)
}

// Integer writes a card with the integer value v.
func (c *Cards) Integer(key string, v int64, comment string) {
	c.card(key, strconv.FormatInt(v, 10), comment, true)
}

// Unsigned writes a card with the integer value v.
func (c *Cards) Unsigned(key string, v uint64, comment string) {
	c.card(key, strconv.FormatUint(v, 10), comment, true)
}

// Real writes a card with the real value v: the shortest digits that round
// trip, with a decimal point and an upper-case exponent. NaN and infinities,
// which header values cannot hold, become 0.
func (c *Cards) Real(key string, v float64, comment string) { c.card(key, Real(v), comment, true) }

// String writes a card with the string value v: quoted, quotes doubled, at
// least 8 characters between the quotes, characters outside printable ASCII
// replaced by '?', truncated to fit the card.
func (c *Cards) String(key, v, comment string) {
	room := CardSize - 10 - 2
	if len(key) > 8 {
		room = CardSize - len("HIERARCH ") - len(key) - 3 - 2
	}
	v = ASCII(v)
	for len(v)+strings.Count(v, "'") > room {
		v = v[:len(v)-1]
	}
	v = strings.ReplaceAll(v, "'", "''")
	c.card(key, "'"+pad(v, 8)+"'", comment, false)
}

// card writes one card. Numbers and logicals are right-justified to end in
// column 30 (the fixed format); strings start in column 11.
func (c *Cards) card(key, value, comment string, right bool) {
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
		s += " / " + ASCII(comment)
	}
	if len(s) > CardSize {
		s = s[:CardSize]
	}
	c.buf.WriteString(pad(s, CardSize))
}

// Float32Image returns a whole HDU: the cards c, the END card, blank
// padding to a whole block, then data as big-endian IEEE float32, padded
// with zeros to a whole block. The caller writes the mandatory cards
// (SIMPLE or XTENSION, BITPIX = −32, NAXIS, NAXISn) first; data holds the
// product of the NAXISn values, fastest axis (NAXIS1) first.
func Float32Image(c *Cards, data []float32) []byte {
	head := append(bytes.Clone(c.buf.Bytes()), pad("END", CardSize)...)
	if r := len(head) % BlockSize; r != 0 {
		head = append(head, bytes.Repeat([]byte{' '}, BlockSize-r)...)
	}
	size := len(head) + 4*len(data)
	if r := size % BlockSize; r != 0 {
		size += BlockSize - r
	}
	out := make([]byte, size) // the data padding stays zero
	copy(out, head)
	d := out[len(head):]
	for i, v := range data {
		binary.BigEndian.PutUint32(d[4*i:], math.Float32bits(v))
	}
	return out
}

// Real formats v as a FITS real: shortest round-trip digits, with a decimal
// point and an upper-case exponent. NaN and infinities, which FITS header
// values cannot hold, become 0 (they do not occur in valid headers).
func Real(v float64) string {
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

// ASCII replaces characters outside printable ASCII, which FITS headers
// cannot hold, with '?'.
func ASCII(s string) string {
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
