package snapshot

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"
)

// xxhashSum is the reference checksum of raw bytes.
func xxhashSum(raw []byte) uint64 { return xxhash.Sum64(raw) }

// specialBits are float32 bit patterns a byte-level codec must carry
// unchanged: quiet and signalling NaNs with payloads, ±Inf, denormals, ±0
// and the extremes of the normal range.
var specialBits = []uint32{
	0x7fc00000, 0xffc00001, 0x7f800001, 0x7fffffff, 0x7fa5a5a5, // NaNs
	0x7f800000, 0xff800000, // ±Inf
	0x00000001, 0x807fffff, 0x00400000, // denormals
	0x80000000, 0x00000000, // -0, +0
	0x7f7fffff, 0x00800000, 0xff7fffff, // max, min normal, -max
}

// testField is a whole field and the blocks it is written in.
type testField struct {
	array Array
	full  []float32 // C order, the expected result of Read
}

// smoothValues returns n values 1 + small variation, with the special bit
// patterns sprinkled in, so that a field has both realistic data and edge
// cases.
func smoothValues(n int, seed int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 1 + 0.02*float32(math.Sin(0.37*float64(i)+float64(seed)))
	}
	for k, b := range specialBits {
		if n > 0 {
			v[(k*37+seed)%n] = math.Float32frombits(b)
		}
	}
	return v
}

// gather extracts the block at start/bshape from a C-order array of shape
// shape. It works element by element, independently of scatter.
func gather(full []float32, shape, start, bshape []int) []float32 {
	n := 1
	for _, s := range bshape {
		n *= s
	}
	out := make([]float32, n)
	idx := make([]int, len(shape))
	for k := range out {
		rem := k
		for d := len(bshape) - 1; d >= 0; d-- {
			idx[d] = start[d] + rem%bshape[d]
			rem /= bshape[d]
		}
		flat := 0
		for d := range shape {
			flat = flat*shape[d] + idx[d]
		}
		out[k] = full[flat]
	}
	return out
}

// splitField builds an Array whose chunks are the blocks of full given by
// starts/shapes.
func splitField(name, unit string, shape []int, axes []string, full []float32, starts, shapes [][]int) testField {
	a := Array{Name: name, Unit: unit, Shape: shape, Axes: axes}
	for i := range starts {
		a.Chunks = append(a.Chunks, Block{Start: starts[i], Shape: shapes[i], Data: gather(full, shape, starts[i], shapes[i])})
	}
	return testField{array: a, full: full}
}

// cubeIn8 splits an [nz, ny, nx] cube at (cz, cy, cx) into 8 uneven
// blocks, listed in reverse order so that the file order differs from the
// spatial order.
func cubeIn8(name, unit string, shape [3]int, cuts [3]int, seed int) testField {
	full := smoothValues(shape[0]*shape[1]*shape[2], seed)
	var starts, shapes [][]int
	for _, z := range [][2]int{{0, cuts[0]}, {cuts[0], shape[0] - cuts[0]}} {
		for _, y := range [][2]int{{0, cuts[1]}, {cuts[1], shape[1] - cuts[1]}} {
			for _, x := range [][2]int{{0, cuts[2]}, {cuts[2], shape[2] - cuts[2]}} {
				starts = append([][]int{{z[0], y[0], x[0]}}, starts...)
				shapes = append([][]int{{z[1], y[1], x[1]}}, shapes...)
			}
		}
	}
	return splitField(name, unit, shape[:], []string{"z", "y", "x"}, full, starts, shapes)
}

// oneBlock makes a field stored as a single chunk.
func oneBlock(name, unit string, shape []int, axes []string, seed int) testField {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return splitField(name, unit, shape, axes, smoothValues(n, seed), [][]int{make([]int, len(shape))}, [][]int{shape})
}

// standardFields is the producer's layout on a 9 × 10 × 13 grid: the three
// column-density maps as single chunks and a density cube in 8 blocks.
func standardFields() []testField {
	const nx, ny, nz = 9, 10, 13
	return []testField{
		oneBlock("sigma_x", "g cm^-2", []int{nz, ny}, []string{"z", "y"}, 1),
		oneBlock("sigma_y", "g cm^-2", []int{nz, nx}, []string{"z", "x"}, 2),
		oneBlock("sigma_z", "g cm^-2", []int{ny, nx}, []string{"y", "x"}, 3),
		cubeIn8("density", "g cm^-3", [3]int{nz, ny, nx}, [3]int{5, 3, 7}, 4),
	}
}

// arrays returns the Arrays of fields.
func arrays(fields []testField) []Array {
	out := make([]Array, len(fields))
	for i, f := range fields {
		out[i] = f.array
	}
	return out
}

// testHeader returns a plausible producer header.
func testHeader() Header {
	return Header{
		CodeVersion: "v0.1.0-test",
		Problem:     "turbulence",
		Params:      json.RawMessage(`{"n":3.6666666666666665,"seed":42,"note":"a<b & c>d"}`),
		Units: map[string]string{"length": "cm", "density": "g cm^-3", "velocity": "cm s^-1",
			"column_density": "g cm^-2", "time": "s"},
		Grid:          [3]int{9, 10, 13},
		BoxCm:         [3]float64{3.0856775814913673e19, 3.0856775814913673e19, 3.0856775814913673e19},
		TimeS:         1.57788e13,
		TimeMyr:       0.5,
		Steps:         1234,
		WallSeconds:   3725.25,
		Ranks:         8,
		Decomposition: [3]int{2, 2, 2},
	}
}

// encodeBytes encodes a file in memory.
func encodeBytes(t testing.TB, h Header, fields []Array) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, h, fields); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decodeBytes decodes an in-memory file named "run.tsnap".
func decodeBytes(data []byte) (*File, error) {
	return Decode(bytes.NewReader(data), int64(len(data)), "run.tsnap")
}

// dataStart returns D for a valid file.
func dataStart(data []byte) int {
	return preambleSize + int(binary.LittleEndian.Uint64(data[16:]))
}

// replaceHeaderJSON rebuilds data with its header bytes replaced by
// edit(header); the data section is kept, so offsets stay valid.
func replaceHeaderJSON(data []byte, edit func([]byte) []byte) []byte {
	d := dataStart(data)
	js := edit(bytes.Clone(data[preambleSize:d]))
	out := append([]byte(nil), data[:preambleSize]...)
	binary.LittleEndian.PutUint64(out[16:], uint64(len(js)))
	out = append(out, js...)
	return append(out, data[d:]...)
}

// replaceHeader rebuilds data with its parsed header changed by edit.
func replaceHeader(t testing.TB, data []byte, edit func(*Header)) []byte {
	t.Helper()
	f, err := decodeBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	h := f.Header
	// Deep-copy the field table so edits do not alias the original.
	js, _ := json.Marshal(h)
	h = Header{}
	if err := json.Unmarshal(js, &h); err != nil {
		t.Fatal(err)
	}
	edit(&h)
	js, err = json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	return replaceHeaderJSON(data, func([]byte) []byte { return js })
}

// tempFiles lists the temporary files Write would leave in dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") && strings.HasSuffix(e.Name(), ".tmp") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out
}

// sameBits reports the first index where got and want differ bitwise.
func sameBits(got, want []float32) (int, bool) {
	if len(got) != len(want) {
		return -1, false
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			return i, false
		}
	}
	return 0, true
}
