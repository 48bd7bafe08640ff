package export

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"math"
	"strconv"
)

// PixelUnit is the quantity a PNG's gray levels encode.
const PixelUnit = "log10(g cm^-2)"

// LogRange returns the range [lo, hi] of log10 of the positive finite
// values of all maps, for one gray scale over them. A constant map gets a
// range one dex wide around its value.
func LogRange(maps ...[]float32) (lo, hi float64, err error) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, m := range maps {
		for _, v := range m {
			if !(v > 0) || math.IsInf(float64(v), 0) {
				continue
			}
			l := math.Log10(float64(v))
			lo, hi = min(lo, l), max(hi, l)
		}
	}
	if lo > hi {
		return 0, 0, errors.New("no positive finite values to scale")
	}
	if lo == hi {
		lo, hi = lo-0.5, hi+0.5
	}
	return lo, hi, nil
}

// Gray returns the 8-bit gray level of the value v (g cm^-2) on the log10
// range [lo, hi]: round(255·(log10 v − lo)/(hi − lo)) clamped to [0, 255];
// values that are not positive, and NaN, give 0.
func Gray(v, lo, hi float64) uint8 {
	if !(v > 0) {
		return 0
	}
	return Level(math.Log10(v), lo, hi)
}

// Level returns the 8-bit gray level of x on the range [lo, hi]:
// round(255·(x − lo)/(hi − lo)) clamped to [0, 255]; NaN gives 0.
func Level(x, lo, hi float64) uint8 {
	t := math.Round(255 * (x - lo) / (hi - lo))
	switch {
	case !(t > 0):
		return 0
	case t >= 255:
		return 255
	}
	return uint8(t)
}

// PNG returns an 8-bit grayscale PNG of the 2-D C-order map data of shape
// [rows, cols] (row 0 at the top), gray levels mapping log10 of the values
// on [lo, hi] (Gray). tEXt chunks record lo, hi and unit, then text.
func PNG(shape []int, data []float32, lo, hi float64, text [][2]string) ([]byte, error) {
	if len(shape) != 2 || shape[0] < 1 || shape[1] < 1 || shape[0]*shape[1] != len(data) {
		return nil, fmt.Errorf("png: want a 2-D map, got shape %v with %d values", shape, len(data))
	}
	if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) || !(lo < hi) {
		return nil, fmt.Errorf("png: log range [%g, %g]: want finite lo < hi", lo, hi)
	}
	g := image.NewGray(image.Rect(0, 0, shape[1], shape[0]))
	for i, v := range data {
		g.Pix[i] = Gray(float64(v), lo, hi)
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	return EncodePNG(g, append([][2]string{{"lo", f(lo)}, {"hi", f(hi)}, {"unit", PixelUnit}}, text...))
}

// EncodePNG encodes g as a PNG with one tEXt chunk per key/value pair
// (Latin-1 keywords of 1–79 characters), inserted before IEND.
func EncodePNG(g *image.Gray, text [][2]string) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, g); err != nil {
		return nil, fmt.Errorf("png: %w", err)
	}
	return insertText(buf.Bytes(), text)
}

// insertText inserts one tEXt chunk per key/value pair before IEND.
func insertText(p []byte, kv [][2]string) ([]byte, error) {
	const iendLen = 12 // length, "IEND", CRC
	if len(p) < 8+iendLen || string(p[len(p)-8:len(p)-4]) != "IEND" {
		return nil, errors.New("png: encoder output does not end in IEND")
	}
	out := append([]byte(nil), p[:len(p)-iendLen]...)
	for _, e := range kv {
		if !latin1Key(e[0]) {
			return nil, fmt.Errorf("png: bad tEXt keyword %q", e[0])
		}
		data := append([]byte(e[0]), 0)
		for _, r := range e[1] { // tEXt is Latin-1: replace the rest
			if r > 0xff || r == 0 {
				r = '?'
			}
			data = append(data, byte(r))
		}
		out = appendChunk(out, "tEXt", data)
	}
	return append(out, p[len(p)-iendLen:]...), nil
}

func latin1Key(k string) bool {
	if len(k) < 1 || len(k) > 79 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

func appendChunk(b []byte, typ string, data []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	start := len(b)
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
}
