package export

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/turbindex/turbindex/fits"
	"github.com/turbindex/turbindex/sim/snapshot"
	"github.com/turbindex/turbindex/sim/units"
)

func TestFITSCards(t *testing.T) {
	h := snapshot.Header{
		CodeVersion: "v1 'quoted' é",
		Problem:     "turbulence",
		Params: json.RawMessage(`{"problem":"turbulence","seed":18446744073709551615,"index":4,"mach":5.5,
			"a_very_long_parameter_name":true,"naxis":3,"note":"` + strings.Repeat("it's ", 30) + `","list":[1,"a"],
			"obj":{"k":1},"nothing":null}`),
		Grid:  [3]int{4, 2, 3},
		BoxCm: [3]float64{4 * units.Parsec, 2 * units.Parsec, 6 * units.Parsec},
	}
	fi := snapshot.FieldInfo{Name: "sigma_y", Unit: "g cm^-2", Shape: []int{3, 4}, Axes: []string{"z", "x"}}
	data := make([]float32, 12)
	b, err := FITS(&h, &fi, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(b)%fits.BlockSize != 0 {
		t.Fatalf("%d bytes", len(b))
	}
	cards := map[string]string{}
	for i := 0; ; i += fits.CardSize {
		c := string(b[i : i+fits.CardSize])
		if strings.TrimSpace(c) == "END" {
			break
		}
		for _, r := range c {
			if r < 0x20 || r > 0x7e {
				t.Fatalf("card %q: non-printable", c)
			}
		}
		if k, v, ok := strings.Cut(c, "= "); ok {
			cards[strings.TrimSpace(k)] = strings.TrimSpace(strings.SplitN(v, " / ", 2)[0])
		}
	}
	for k, want := range map[string]string{
		"NAXIS1": "4", "NAXIS2": "3", "CTYPE1": "'X       '", "CTYPE2": "'Z       '", "CDELT1": "1.0E+00", "CDELT2": "2.0E+00",
		"CRVAL2": "1.0E+00", "BUNIT": "'g cm-2  '", "PROJ": "'y       '", "PROBLEM": "'turbulence'",
		"CODEVER": "'v1 ''quoted'' ?'", "SEED": "18446744073709551615", "INDEX": "4", "MACH": "5.5E+00",
		"HIERARCH PARAM A_VERY_LONG_PARAMETER_NAME": "T", "HIERARCH PARAM NAXIS": "3", "LIST": "'1,a     '", "OBJ": `'{"k":1} '`,
	} {
		if cards[k] != want {
			t.Errorf("%s = %s, want %s", k, cards[k], want)
		}
	}
	if n := cards["NOTE"]; len(n) != 70 || !strings.HasSuffix(n, "'") || strings.Count(n, "'")%2 != 0 {
		t.Errorf("long string card value %q (%d chars)", n, len(n))
	}
	if _, ok := cards["NOTHING"]; ok {
		t.Error("a null parameter was written")
	}
	if _, err := FITS(&h, &fi, data[:5]); err == nil {
		t.Error("FITS accepted 5 values for a 3×4 field")
	}
}

func TestNPYHeader(t *testing.T) {
	for _, c := range []struct {
		shape []int
		text  string
	}{{[]int{5}, "(5,)"}, {[]int{2, 3}, "(2, 3)"}, {[]int{2, 3, 4}, "(2, 3, 4)"}} {
		n := 1
		for _, s := range c.shape {
			n *= s
		}
		b, err := NPY(c.shape, make([]float32, n))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("\x93NUMPY")) || !bytes.Contains(b, []byte("'<f4'")) ||
			!bytes.Contains(b, []byte("'shape': "+c.text)) || !bytes.Contains(b, []byte("'fortran_order': False")) {
			t.Errorf("shape %v: header %q", c.shape, b[:min(len(b), 128)])
		}
	}
	if _, err := NPY([]int{2, 2}, make([]float32, 3)); err == nil {
		t.Error("NPY accepted 3 values for a 2×2 array")
	}
}

func TestPNGRange(t *testing.T) {
	lo, hi, err := LogRange([]float32{1, 10, 0, -1}, []float32{100})
	if err != nil || lo != 0 || hi != 2 {
		t.Errorf("LogRange = %g, %g, %v; want 0, 2", lo, hi, err)
	}
	if _, _, err := LogRange([]float32{0, -1}); err == nil {
		t.Error("LogRange of no positive values succeeded")
	}
	if g := []uint8{Gray(1, 0, 2), Gray(10, 0, 2), Gray(100, 0, 2), Gray(0, 0, 2), Gray(1e9, 0, 2)}; !bytes.Equal(g, []uint8{0, 128, 255, 0, 255}) {
		t.Errorf("gray levels %v", g)
	}
	if _, err := PNG([]int{2, 2, 2}, make([]float32, 8), 0, 1, nil); err == nil {
		t.Error("PNG of a cube succeeded")
	}
}
