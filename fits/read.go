package fits

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"os"
	"strings"
)

// HDU is one header-data unit of a file.
type HDU struct {
	// Index is the HDU's position in the file: 0 for the primary HDU.
	Index int
	// Header holds its cards.
	Header Header
	// Type is "PRIMARY" or the extension's XTENSION value ("IMAGE",
	// "BINTABLE", ...).
	Type string
	// BITPIX is the type of a data value: 8 (unsigned byte), 16, 32, 64
	// (signed big-endian integers), −32, −64 (IEEE floats).
	BITPIX int
	// Axes are NAXIS1, NAXIS2, ...: fastest axis first, as FITS lists them.
	Axes []int
	// data is the HDU's data, without padding.
	data []byte
}

// File is a parsed FITS file held in memory.
type File struct {
	// Name names the file in errors.
	Name string
	// HDUs are the header-data units, the primary one first.
	HDUs []HDU
}

// ErrFormat marks input that is not valid FITS (errors.Is).
var ErrFormat = errors.New("not a valid FITS file")

// ReadFile reads and parses the FITS file at path.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

// Parse splits b, the bytes of the FITS file called name, into its HDUs.
// It checks the mandatory cards of each and that its data lies within b;
// the data are decoded only by Image. A file may end without the padding
// of its last data block (some writers omit it) but not inside the data.
func Parse(name string, b []byte) (*File, error) {
	f := &File{Name: name}
	fail := func(hdu int, format string, a ...any) error {
		return fmt.Errorf("%s: HDU %d: %w: %s", name, hdu, ErrFormat, fmt.Sprintf(format, a...))
	}
	if len(b) < BlockSize {
		return nil, fmt.Errorf("%s: %w: %d bytes, shorter than one 2880-byte header block", name, ErrFormat, len(b))
	}
	for off := 0; off < len(b); {
		i := len(f.HDUs)
		if i > 0 && strings.Trim(string(b[off:]), "\x00 ") == "" {
			break // trailing zero or blank padding
		}
		var raw []string
		end := -1
		for p := off; p+CardSize <= len(b); p += CardSize {
			card := string(b[p : p+CardSize])
			if strings.TrimRight(card, " ") == "END" {
				end = p
				break
			}
			raw = append(raw, card)
		}
		if end < 0 {
			return nil, fail(i, "the header starting at byte %d has no END card", off)
		}
		h, err := parseHeader(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: HDU %d: %w: %w", name, i, ErrFormat, err)
		}
		hdu := HDU{Index: i, Header: h}
		if err := hdu.check(); err != nil {
			return nil, fmt.Errorf("%s: HDU %d: %w: %w", name, i, ErrFormat, err)
		}
		n, err := hdu.dataSize()
		if err != nil {
			return nil, fmt.Errorf("%s: HDU %d: %w: %w", name, i, ErrFormat, err)
		}
		start := (end/BlockSize + 1) * BlockSize
		if n > uint64(len(b)) || start+int(n) > len(b) {
			if start > len(b) && n == 0 {
				start = len(b) // a final header without padding
			} else {
				return nil, fail(i, "the header says %d data bytes from byte %d, but the file has %d bytes (truncated?)", n, start, len(b))
			}
		}
		hdu.data = b[start : start+int(n)]
		f.HDUs = append(f.HDUs, hdu)
		off = start + int((n+BlockSize-1)/BlockSize*BlockSize)
	}
	return f, nil
}

// check reads the mandatory cards: SIMPLE (primary) or XTENSION, BITPIX,
// NAXIS and NAXISn, in that order at the start of the header.
func (h *HDU) check() error {
	cards := h.Header.Cards
	first := "SIMPLE"
	if h.Index > 0 {
		first = "XTENSION"
	}
	if len(cards) < 3 || cards[0].Key != first {
		return fmt.Errorf("the header does not start with %s", first)
	}
	if h.Index == 0 {
		h.Type = "PRIMARY"
		if v, isBool := cards[0].Value.(bool); !isBool || !v {
			return fmt.Errorf("card 1 (SIMPLE): value %v, want T", cards[0].Value)
		}
	} else {
		s, isStr := cards[0].Value.(string)
		if !isStr || s == "" {
			return fmt.Errorf("card 1 (XTENSION): value %v is not an extension name", cards[0].Value)
		}
		h.Type = strings.ToUpper(strings.TrimSpace(s))
	}
	intCard := func(i int, key string, lo, hi int64) (int64, error) {
		if i >= len(cards) || cards[i].Key != key {
			return 0, fmt.Errorf("card %d: want the mandatory keyword %s", i+1, key)
		}
		v, isInt := cards[i].Value.(int64)
		if !isInt || v < lo || v > hi {
			return 0, fmt.Errorf("card %d (%s): value %v, want an integer in [%d, %d]", i+1, key, cards[i].Value, lo, hi)
		}
		return v, nil
	}
	bp, err := intCard(1, "BITPIX", -64, 64)
	if err != nil {
		return err
	}
	switch bp {
	case 8, 16, 32, 64, -32, -64:
	default:
		return fmt.Errorf("card 2 (BITPIX): value %d, want 8, 16, 32, 64, -32 or -64", bp)
	}
	h.BITPIX = int(bp)
	naxis, err := intCard(2, "NAXIS", 0, 999)
	if err != nil {
		return err
	}
	h.Axes = make([]int, naxis)
	for j := range h.Axes {
		v, err := intCard(3+j, fmt.Sprintf("NAXIS%d", j+1), 0, math.MaxInt32)
		if err != nil {
			return err
		}
		h.Axes[j] = int(v)
	}
	return nil
}

// dataSize returns the size in bytes of the data, without padding:
// |BITPIX|/8 · GCOUNT · (PCOUNT + NAXIS1 · NAXIS2 · ...), where a primary
// HDU with random groups (NAXIS1 = 0, GROUPS = T) leaves NAXIS1 out.
func (h *HDU) dataSize() (uint64, error) {
	if len(h.Axes) == 0 {
		return 0, nil
	}
	axes := h.Axes
	pcount, gcount := int64(0), int64(1)
	groups, _, _ := h.Header.Bool("GROUPS")
	if h.Index > 0 || groups {
		var ok bool
		var err error
		if pcount, ok, err = h.Header.Int("PCOUNT"); err != nil || (!ok && h.Index > 0) || pcount < 0 {
			return 0, fmt.Errorf("PCOUNT: %v", orMissing(err, ok, pcount))
		}
		if gcount, ok, err = h.Header.Int("GCOUNT"); err != nil || (!ok && h.Index > 0) || gcount < 0 {
			return 0, fmt.Errorf("GCOUNT: %v", orMissing(err, ok, gcount))
		}
		if !ok {
			gcount = 1
		}
	}
	if h.Index == 0 && groups && axes[0] == 0 {
		axes = axes[1:]
	}
	n := uint64(1)
	for _, a := range axes {
		hi, lo := bits.Mul64(n, uint64(a))
		if hi != 0 || lo > 1<<50 {
			return 0, fmt.Errorf("NAXISn %v: more data than any file holds", h.Axes)
		}
		n = lo
	}
	n = (n + uint64(pcount)) * uint64(gcount) * uint64(abs(h.BITPIX)/8)
	if n > 1<<53 {
		return 0, fmt.Errorf("NAXISn %v, PCOUNT %d, GCOUNT %d: more data than any file holds", h.Axes, pcount, gcount)
	}
	return n, nil
}

func orMissing(err error, ok bool, v int64) any {
	switch {
	case err != nil:
		return err
	case !ok:
		return "missing in an extension"
	}
	return fmt.Sprintf("%d is negative", v)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Image is the decoded data of an image HDU.
type Image struct {
	// HDU is the index of the HDU it comes from.
	HDU int
	// Header is the HDU's header.
	Header Header
	// Shape is the shape in C order, slowest axis first: [NAXISn, ...,
	// NAXIS2, NAXIS1]. A 2-D image is Shape[0] rows of Shape[1] values;
	// row 0 is the first row in the file (FITS y = 1).
	Shape []int
	// Data holds the physical values BZERO + BSCALE · stored value; NaN
	// where a float was NaN or an integer equalled BLANK.
	Data []float64
	// BUNIT is the unit of the values, as written ("" if none).
	BUNIT string
}

// Image decodes HDU i, which must be the primary HDU or an IMAGE extension
// with data. maxValues bounds the number of values (memory: 8 bytes each);
// 0 means no bound.
func (f *File) Image(i, maxValues int) (*Image, error) {
	if i < 0 || i >= len(f.HDUs) {
		return nil, fmt.Errorf("%s: HDU %d: the file has HDUs 0 to %d", f.Name, i, len(f.HDUs)-1)
	}
	h := &f.HDUs[i]
	fail := func(format string, a ...any) error {
		return fmt.Errorf("%s: HDU %d: %s", f.Name, i, fmt.Sprintf(format, a...))
	}
	if h.Type != "PRIMARY" && h.Type != "IMAGE" {
		return nil, fail("a %s extension, not an image", h.Type)
	}
	if g, _, _ := h.Header.Bool("GROUPS"); g && h.Index == 0 {
		return nil, fail("random groups, not an image")
	}
	if len(h.Axes) == 0 || len(h.data) == 0 {
		return nil, fail("no data (NAXIS = %d)", len(h.Axes))
	}
	n := len(h.data) / (abs(h.BITPIX) / 8)
	if maxValues > 0 && n > maxValues {
		return nil, fail("%d values (%v), more than the %d allowed (%d MB as float64)", n, h.Axes, maxValues, maxValues/(1<<17))
	}
	im := &Image{HDU: i, Header: h.Header, Shape: make([]int, len(h.Axes))}
	for j, a := range h.Axes {
		im.Shape[len(h.Axes)-1-j] = a
	}
	scale, zero := 1.0, 0.0
	var err error
	var ok bool
	if scale, ok, err = h.Header.Float("BSCALE"); err != nil {
		return nil, fail("%v", err)
	} else if !ok {
		scale = 1
	}
	if zero, _, err = h.Header.Float("BZERO"); err != nil {
		return nil, fail("%v", err)
	}
	if math.IsNaN(scale) || math.IsInf(scale, 0) || math.IsInf(zero, 0) || math.IsNaN(zero) {
		return nil, fail("BSCALE %g, BZERO %g: not finite", scale, zero)
	}
	blank, hasBlank, err := h.Header.Int("BLANK")
	if err != nil {
		return nil, fail("%v", err)
	}
	if hasBlank && h.BITPIX < 0 {
		hasBlank = false // BLANK applies to integer data only; floats use NaN
	}
	if im.BUNIT, _, err = h.Header.String("BUNIT"); err != nil {
		return nil, fail("%v", err)
	}
	im.Data = make([]float64, n)
	d := h.data
	phys := func(k int, raw int64) {
		if hasBlank && raw == blank {
			im.Data[k] = math.NaN()
			return
		}
		im.Data[k] = zero + scale*float64(raw)
	}
	for k := range im.Data {
		switch h.BITPIX {
		case 8:
			phys(k, int64(d[k]))
		case 16:
			phys(k, int64(int16(binary.BigEndian.Uint16(d[2*k:]))))
		case 32:
			phys(k, int64(int32(binary.BigEndian.Uint32(d[4*k:]))))
		case 64:
			phys(k, int64(binary.BigEndian.Uint64(d[8*k:])))
		case -32:
			im.Data[k] = zero + scale*float64(math.Float32frombits(binary.BigEndian.Uint32(d[4*k:])))
		case -64:
			im.Data[k] = zero + scale*math.Float64frombits(binary.BigEndian.Uint64(d[8*k:]))
		}
	}
	return im, nil
}

// FirstImage returns the index of the first HDU with image data: the
// primary HDU if it has data, else the first IMAGE extension with data;
// −1 if there is none.
func (f *File) FirstImage() int {
	for _, h := range f.HDUs {
		if (h.Type == "PRIMARY" || h.Type == "IMAGE") && len(h.data) > 0 {
			if g, _, _ := h.Header.Bool("GROUPS"); g && h.Index == 0 {
				continue
			}
			return h.Index
		}
	}
	return -1
}
