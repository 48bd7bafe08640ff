package snapshot

import (
	"encoding/json"
	"flag"
	"math"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/v1_small.tsnap")

// goldenPath is a small version-1 file kept in the repository; it is the
// worked example of docs/FORMAT.md. Every future reader must read it.
var goldenPath = filepath.Join("testdata", "v1_small.tsnap")

// goldenFields are the contents of the golden file: the three column
// density maps of a 2³ grid and a density cube in two chunks split along z.
func goldenFields() []testField {
	sigma := []float32{0.25, 0.5, 1, 2} // g cm^-2
	rho := make([]float32, 8)           // g cm^-3, about 1e-21
	for i := range rho {
		rho[i] = float32(1e-21 * (1 + float64(i)/8))
	}
	nan := []float32{float32(math.Inf(1)), float32(math.NaN()), float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32}
	maps := func(name string, axes []string, v []float32) testField {
		return splitField(name, "g cm^-2", []int{2, 2}, axes, v, [][]int{{0, 0}}, [][]int{{2, 2}})
	}
	return []testField{
		maps("sigma_x", []string{"z", "y"}, nan),
		maps("sigma_y", []string{"z", "x"}, sigma),
		maps("sigma_z", []string{"y", "x"}, sigma),
		splitField("density", "g cm^-3", []int{2, 2, 2}, []string{"z", "y", "x"}, rho,
			[][]int{{0, 0, 0}, {1, 0, 0}}, [][]int{{1, 2, 2}, {1, 2, 2}}),
	}
}

// goldenHeader is the header of the golden file.
func goldenHeader() Header {
	const pc = 3.0856775814913673e18
	return Header{
		CodeVersion: "v1.0.0",
		Problem:     "turbulence",
		Params:      json.RawMessage(`{"n":4,"seed":1,"mach":5}`),
		Units: map[string]string{"length": "cm", "density": "g cm^-3", "velocity": "cm s^-1",
			"column_density": "g cm^-2", "time": "s"},
		Grid:          [3]int{2, 2, 2},
		BoxCm:         [3]float64{10 * pc, 10 * pc, 10 * pc},
		TimeS:         1.57788e13,
		TimeMyr:       0.5,
		Steps:         10,
		WallSeconds:   1.5,
		Ranks:         2,
		Decomposition: [3]int{1, 1, 2},
	}
}

// TestGoldenV1 reads the committed version-1 file, so that a change that
// breaks reading existing snapshots cannot pass unnoticed. Regenerate it
// (only for a deliberate format change) with go test -run TestGoldenV1 -update.
func TestGoldenV1(t *testing.T) {
	fields := goldenFields()
	if *update {
		if err := Write(goldenPath, goldenHeader(), arrays(fields), true); err != nil {
			t.Fatal(err)
		}
	}
	f, err := Open(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Verify(); err != nil {
		t.Fatal(err)
	}
	for _, tf := range fields {
		got, err := f.Read(tf.array.Name)
		if err != nil {
			t.Fatal(err)
		}
		if i, ok := sameBits(got, tf.full); !ok {
			t.Errorf("field %q differs at %d", tf.array.Name, i)
		}
	}
	if f.Header.Problem != "turbulence" || f.Header.TimeMyr != 0.5 || string(f.Header.Params) != `{"n":4,"seed":1,"mach":5}` {
		t.Errorf("header %+v", f.Header)
	}
}
