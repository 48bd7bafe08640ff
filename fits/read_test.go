package fits

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/turbindex/turbindex/internal/pyref"
	"github.com/turbindex/turbindex/sim/units"
)

// astropyFiles is run by Python: it writes, with astropy, one 2-D image per
// BITPIX (integers with BSCALE, BZERO and BLANK added to the header, floats
// with NaN holes), a multi-extension file and a header with long strings,
// HIERARCH cards and WCS matrices, and prints what astropy reads back.
const astropyFiles = `
import json, sys, warnings
import numpy as np
from astropy.io import fits
warnings.simplefilter("ignore")
d = sys.argv[1]
out = {}
rng = np.random.default_rng(3)
specs = {8: ("u1", 255, 0.25, -3.0), 16: (">i2", -32768, 0.5, 100.0), 32: (">i4", -7, 1e-3, 2.5),
         64: (">i8", 12345, 2.0, -1.0), -32: (">f4", None, None, None), -64: (">f8", None, None, None)}
for bp, (dt, blank, bscale, bzero) in specs.items():
    path = "%s/bitpix%d.fits" % (d, bp)
    if bp > 0:
        info = np.iinfo(dt)
        raw = rng.integers(info.min, info.max, size=(5, 7), endpoint=True).astype(dt)
        raw[0, 0], raw[4, 6], raw[2, 3] = info.min, info.max, blank
    else:
        raw = rng.normal(size=(5, 7)).astype(dt) * 1e3
        raw[1, 2] = np.nan
        raw[3, 0] = np.nan
    fits.PrimaryHDU(data=raw).writeto(path)
    if bp > 0:
        with fits.open(path, mode="update", do_not_scale_image_data=True) as f:
            f[0].header["BSCALE"] = bscale
            f[0].header["BZERO"] = bzero
            f[0].header["BLANK"] = blank
            f[0].header["BUNIT"] = "cm-2"
    with fits.open(path, do_not_scale_image_data=True) as f:
        r = f[0].data.astype(np.float64)
    with fits.open(path) as f:
        s = f[0].data.astype(np.float64)
    out[str(bp)] = {"path": path, "raw": [None if np.isnan(v) else float(v) for v in r.ravel()],
        "scaled": [None if np.isnan(v) else float(v) for v in s.ravel()], "shape": list(r.shape),
        "bscale": bscale, "bzero": bzero, "blank": blank}

# Multi-extension: an empty primary, a 2-D image, a table, a cube.
img = np.arange(6 * 4, dtype=">f4").reshape(6, 4)
cube = np.arange(3 * 4 * 5, dtype=">i2").reshape(3, 4, 5)
tab = fits.BinTableHDU.from_columns([fits.Column(name="a", format="E", array=np.arange(5.0))])
fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(img, name="SIGMA"), tab, fits.ImageHDU(cube, name="CUBE")]).writeto(d + "/mef.fits")

# Header cards: a long string, HIERARCH, and WCS of three kinds.
h = fits.Header()
h["LONGSTR"] = "a long string " * 12 + "with 'quotes'"
h["HIERARCH ESO DET CHIP NAME"] = "chip 'one'"
h["SHORT"] = ("it's", "a comment")
h["FLT"] = 1.5e-300
h["BIG"] = 2**62
h["NOVAL"] = None
h.add_history("made for a test")
h["CTYPE1"], h["CTYPE2"] = "RA---TAN", "DEC--TAN"
h["CD1_1"], h["CD1_2"], h["CD2_1"], h["CD2_2"] = -1e-3 * 0.8, 1e-3 * 0.6, 1e-3 * 0.6, 1e-3 * 0.8
fits.PrimaryHDU(np.zeros((4, 4), ">f4"), header=h).writeto(d + "/cards.fits")
g = fits.Header()
g["CTYPE1"], g["CTYPE2"], g["CUNIT1"], g["CUNIT2"] = "GLON-CAR", "GLAT-CAR", "arcsec", "arcsec"
g["CDELT1"], g["CDELT2"], g["PC1_1"], g["PC1_2"], g["PC2_1"], g["PC2_2"] = -6.0, 6.0, 0.0, 1.0, -1.0, 0.0
fits.PrimaryHDU(np.zeros((4, 4), ">f4"), header=g).writeto(d + "/pc.fits")
l = fits.Header()
l["CTYPE1"], l["CTYPE2"], l["CUNIT1"], l["CUNIT2"], l["CDELT1"], l["CDELT2"] = "X", "Y", "pc", "kpc", 0.05, 1e-4
fits.PrimaryHDU(np.zeros((4, 4), ">f4"), header=l).writeto(d + "/linear.fits")
with fits.open(d + "/cards.fits") as f:
    hh = f[0].header
    out["cards"] = {"LONGSTR": hh["LONGSTR"], "HIERARCH ESO DET CHIP NAME": hh["HIERARCH ESO DET CHIP NAME"],
        "SHORT": hh["SHORT"], "BIG": hh["BIG"], "continues": "CONTINUE" in repr(hh)}
print(json.dumps(out))
`

type astropyImage struct {
	Path          string
	Raw, Scaled   []*float64
	Shape         []int
	BScale, BZero *float64
	Blank         *int64
}

var (
	astropyOnce sync.Once
	astropyDir  string
	astropyOut  map[string]json.RawMessage
)

// writeAstropy writes the astropy files once for the package's tests (into
// a directory TestMain removes) and returns their directory and what
// astropy read back.
func writeAstropy(t *testing.T) (string, map[string]json.RawMessage) {
	t.Helper()
	py := pyref.Python(t, "astropy, numpy", "python3-astropy python3-numpy")
	astropyOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fits-astropy")
		if err != nil {
			t.Fatal(err)
		}
		astropyDir = dir
		if err := json.Unmarshal([]byte(pyref.Run(t, py, astropyFiles, dir)), &astropyOut); err != nil {
			t.Fatal(err)
		}
	})
	if astropyOut == nil {
		t.Fatal("the astropy files were not written")
	}
	return astropyDir, astropyOut
}

func TestMain(m *testing.M) {
	code := m.Run()
	if astropyDir != "" {
		os.RemoveAll(astropyDir)
	}
	os.Exit(code)
}

// TestReadAstropy reads astropy-written images of every BITPIX: the values
// must be BZERO + BSCALE · (astropy's raw integers) exactly in float64, NaN
// where astropy reads BLANK or NaN, and agree with astropy's own scaled
// values to float32 precision (astropy scales 8- and 16-bit data in
// float32).
func TestReadAstropy(t *testing.T) {
	dir, out := writeAstropy(t)
	for _, bp := range []string{"8", "16", "32", "64", "-32", "-64"} {
		var want astropyImage
		if err := json.Unmarshal(out[bp], &want); err != nil {
			t.Fatal(err)
		}
		f, err := ReadFile(want.Path)
		if err != nil {
			t.Fatalf("BITPIX %s: %v", bp, err)
		}
		im, err := f.Image(0, 0)
		if err != nil {
			t.Fatalf("BITPIX %s: %v", bp, err)
		}
		if f.HDUs[0].BITPIX != atoi(bp) || len(im.Shape) != 2 || im.Shape[0] != want.Shape[0] || im.Shape[1] != want.Shape[1] {
			t.Fatalf("BITPIX %s: read BITPIX %d shape %v, want %v", bp, f.HDUs[0].BITPIX, im.Shape, want.Shape)
		}
		nan := 0
		for k, v := range im.Data {
			raw, sc := want.Raw[k], want.Scaled[k]
			if sc == nil {
				if !math.IsNaN(v) {
					t.Errorf("BITPIX %s: value %d = %g, astropy reads NaN", bp, k, v)
				}
				nan++
				continue
			}
			exact := *raw
			if want.BScale != nil {
				exact = *want.BZero + *want.BScale**raw
			}
			if v != exact {
				t.Errorf("BITPIX %s: value %d = %.17g, want BZERO + BSCALE·%g = %.17g", bp, k, v, *raw, exact)
			}
			if d := math.Abs(v - *sc); d > 1e-6*math.Max(1, math.Abs(*sc)) {
				t.Errorf("BITPIX %s: value %d = %.17g, astropy %.17g", bp, k, v, *sc)
			}
		}
		if nan == 0 {
			t.Errorf("BITPIX %s: no BLANK or NaN value: the test does not test them", bp)
		}
		if atoi(bp) > 0 && im.BUNIT != "cm-2" {
			t.Errorf("BITPIX %s: BUNIT %q", bp, im.BUNIT)
		}
	}

	f, err := ReadFile(filepath.Join(dir, "mef.fits"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.HDUs) != 4 || f.HDUs[2].Type != "BINTABLE" || f.FirstImage() != 1 {
		t.Fatalf("mef.fits: %d HDUs, types %v, first image %d", len(f.HDUs), []string{f.HDUs[0].Type, f.HDUs[1].Type}, f.FirstImage())
	}
	im, err := f.Image(1, 0)
	if err != nil || im.Shape[0] != 6 || im.Shape[1] != 4 || im.Data[4*5+3] != 23 {
		t.Fatalf("mef.fits HDU 1: %v shape %v", err, im.Shape)
	}
	cube, err := f.Image(3, 0)
	if err != nil || len(cube.Shape) != 3 || cube.Shape[0] != 3 || cube.Shape[2] != 5 || cube.Data[59] != 59 {
		t.Fatalf("mef.fits HDU 3: %v shape %v", err, cube.Shape)
	}
	if _, err := f.Image(2, 0); err == nil || !strings.Contains(err.Error(), "BINTABLE") || !strings.Contains(err.Error(), "HDU 2") {
		t.Errorf("a table read as an image: %v", err)
	}
	if _, err := f.Image(1, 10); err == nil || !strings.Contains(err.Error(), "24 values") {
		t.Errorf("the value bound was not applied: %v", err)
	}
	if _, err := f.Image(4, 0); err == nil || !strings.Contains(err.Error(), "HDUs 0 to 3") {
		t.Errorf("HDU 4 of 4: %v", err)
	}
}

func atoi(s string) int {
	n := 0
	neg := strings.HasPrefix(s, "-")
	for _, r := range strings.TrimPrefix(s, "-") {
		n = 10*n + int(r-'0')
	}
	if neg {
		return -n
	}
	return n
}

// TestHeaderAstropy reads long strings (CONTINUE), HIERARCH cards and the
// three kinds of WCS astropy writes.
func TestHeaderAstropy(t *testing.T) {
	dir, out := writeAstropy(t)
	var want map[string]any
	if err := json.Unmarshal(out["cards"], &want); err != nil {
		t.Fatal(err)
	}
	if want["continues"] != true {
		t.Fatal("astropy did not write a CONTINUE card: the test does not test long strings")
	}
	f, err := ReadFile(filepath.Join(dir, "cards.fits"))
	if err != nil {
		t.Fatal(err)
	}
	h := &f.HDUs[0].Header
	for _, key := range []string{"LONGSTR", "HIERARCH ESO DET CHIP NAME", "SHORT"} {
		k := strings.TrimPrefix(key, "HIERARCH ")
		if got, _, err := h.String(k); err != nil || got != want[key] {
			t.Errorf("%s = %q (%v), astropy %q", key, got, err, want[key])
		}
	}
	if c, _ := h.Card("SHORT"); c.Comment != "a comment" {
		t.Errorf("SHORT comment %q", c.Comment)
	}
	if v, _, err := h.Int("BIG"); err != nil || float64(v) != want["BIG"].(float64) {
		t.Errorf("BIG = %d (%v)", v, err)
	}
	if v, _, err := h.Float("FLT"); err != nil || v != 1.5e-300 {
		t.Errorf("FLT = %g (%v)", v, err)
	}
	if h.Has("NOVAL") {
		t.Error("NOVAL has a value")
	}
	deg := math.Pi / 180
	for _, c := range []struct {
		file string
		kind string
		x, y float64
	}{
		{"cards.fits", Celestial, 1e-3 * deg, 1e-3 * deg}, // a rotated CD matrix of 1e-3° pixels
		{"pc.fits", Celestial, 6 * deg / 3600, 6 * deg / 3600},
		{"linear.fits", Linear, 0.05 * units.Parsec, 0.1 * units.Parsec},
	} {
		f, err := ReadFile(filepath.Join(dir, c.file))
		if err != nil {
			t.Fatal(err)
		}
		s, err := PixelScale(&f.HDUs[0].Header)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if s.Kind != c.kind || math.Abs(s.X/c.x-1) > 1e-12 || math.Abs(s.Y/c.y-1) > 1e-12 {
			t.Errorf("%s: %s %g × %g, want %s %g × %g", c.file, s.Kind, s.X, s.Y, c.kind, c.x, c.y)
		}
	}
	f, err = ReadFile(filepath.Join(dir, "mef.fits"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PixelScale(&f.HDUs[1].Header); !errors.Is(err, ErrNoWCS) {
		t.Errorf("an image without WCS: %v", err)
	}
}

// TestWriteRead writes a float32 image with Cards and reads it back.
func TestWriteRead(t *testing.T) {
	var c Cards
	c.Logical("SIMPLE", true, "")
	c.Integer("BITPIX", -32, "")
	c.Integer("NAXIS", 2, "")
	c.Integer("NAXIS1", 3, "")
	c.Integer("NAXIS2", 2, "")
	c.String("BUNIT", "g cm-2", "column density")
	c.String("NOTE", "it's", "")
	c.Real("CDELT1", 0.25, "")
	c.Integer("PARAM SEED", 7, "a HIERARCH card")
	data := []float32{1, 2, float32(math.NaN()), 4, 5, 6}
	f, err := Parse("mem.fits", Float32Image(&c, data))
	if err != nil {
		t.Fatal(err)
	}
	im, err := f.Image(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range data {
		if float32(im.Data[i]) != v && !(math.IsNaN(im.Data[i]) && v != v) {
			t.Errorf("value %d = %g, want %g", i, im.Data[i], v)
		}
	}
	h := &f.HDUs[0].Header
	if s, _, _ := h.String("NOTE"); s != "it's" || im.BUNIT != "g cm-2" {
		t.Errorf("NOTE %q BUNIT %q", s, im.BUNIT)
	}
	if v, _, _ := h.Int("PARAM SEED"); v != 7 {
		t.Errorf("HIERARCH PARAM SEED = %d", v)
	}
}

// TestParseErrors: broken files fail with errors naming the file, the HDU
// and the card.
func TestParseErrors(t *testing.T) {
	card := func(s string) string { return pad(s, CardSize) }
	block := func(cards ...string) []byte {
		s := strings.Join(cards, "")
		s += card("END")
		return []byte(pad(s, (len(s)+BlockSize-1)/BlockSize*BlockSize))
	}
	simple := card("SIMPLE  =                    T")
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"short", []byte("SIMPLE"), "shorter than one"},
		{"no end", []byte(pad(simple, BlockSize)), "no END card"},
		{"bitpix", block(simple, card("BITPIX  =                   12"), card("NAXIS   =                    0")), "card 2 (BITPIX): value 12"},
		{"naxis missing", block(simple, card("BITPIX  =                  -32"), card("NAXIS   =                    1")), "want the mandatory keyword NAXIS1"},
		{"truncated", block(simple, card("BITPIX  =                  -32"), card("NAXIS   =                    1"), card("NAXIS1  =                 1000")), "truncated"},
		{"huge", block(simple, card("BITPIX  =                  -64"), card("NAXIS   =                    2"), card("NAXIS1  =           2000000000"), card("NAXIS2  =           2000000000")), "more data than"},
		{"bad value", block(simple, card("BITPIX  =                  -32"), card("NAXIS   =                    0"), card("FOO     = 1.2.3")), "card 4 (FOO)"},
		{"quote", block(simple, card("BITPIX  =                  -32"), card("NAXIS   =                    0"), card("FOO     = 'abc")), "no closing quote"},
	} {
		_, err := Parse("x.fits", c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "x.fits") {
			t.Errorf("%s: %v, want an error with %q naming x.fits", c.name, err, c.want)
		}
	}
}

// FuzzParse: no input makes the reader panic, allocate beyond its input, or
// return an image whose shape disagrees with its data.
func FuzzParse(f *testing.F) {
	var c Cards
	c.Logical("SIMPLE", true, "")
	c.Integer("BITPIX", -32, "")
	c.Integer("NAXIS", 2, "")
	c.Integer("NAXIS1", 2, "")
	c.Integer("NAXIS2", 2, "")
	c.String("LONG", "abc&", "")
	c.Real("CDELT1", 1, "")
	f.Add(Float32Image(&c, []float32{1, 2, 3, 4}))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse("fuzz.fits", b)
		if err != nil {
			return
		}
		for i := range file.HDUs {
			im, err := file.Image(i, 1<<20)
			if err != nil {
				continue
			}
			n := 1
			for _, s := range im.Shape {
				n *= s
			}
			if n != len(im.Data) {
				t.Fatalf("HDU %d: shape %v, %d values", i, im.Shape, len(im.Data))
			}
			_, _ = PixelScale(&im.Header)
		}
	})
}
