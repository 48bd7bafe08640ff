package snapshot

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	line := func(n int) []float32 { return smoothValues(n, 7) }
	tests := []struct {
		name   string
		fields func() []testField
	}{
		{"maps and cube in 8 uneven blocks", standardFields},
		{"no fields", func() []testField { return nil }},
		{"1-D field in 3 chunks", func() []testField {
			return []testField{splitField("profile", "cm s^-1", []int{50}, []string{"r"}, line(50),
				[][]int{{30}, {0}, {12}}, [][]int{{20}, {12}, {18}})}
		}},
		{"4-D field in 2 chunks", func() []testField {
			return []testField{splitField("stack", "1", []int{2, 3, 4, 5}, []string{"t", "z", "y", "x"}, line(120),
				[][]int{{0, 0, 0, 0}, {0, 2, 0, 0}}, [][]int{{2, 2, 4, 5}, {2, 1, 4, 5}})}
		}},
		{"single element", func() []testField {
			return []testField{oneBlock("one", "K", []int{1, 1, 1}, []string{"z", "y", "x"}, 3)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields := tt.fields()
			dir := t.TempDir()
			path := filepath.Join(dir, "run.tsnap")
			if err := Write(path, testHeader(), arrays(fields), false); err != nil {
				t.Fatal(err)
			}
			f, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			for _, tf := range fields {
				got, err := f.Read(tf.array.Name)
				if err != nil {
					t.Fatal(err)
				}
				if i, ok := sameBits(got, tf.full); !ok {
					t.Fatalf("field %q differs at element %d (len %d, want %d)", tf.array.Name, i, len(got), len(tf.full))
				}
			}
			if err := f.Verify(); err != nil {
				t.Fatal(err)
			}
			checkHeader(t, f.Header, fields)
			checkDeterministic(t, path, fields)
		})
	}
}

// checkHeader compares a read header with what was written and checks that
// it survives a JSON round trip, as `sim inspect --json` needs.
func checkHeader(t *testing.T, got Header, fields []testField) {
	t.Helper()
	want := testHeader()
	want.Format, want.Version = FormatName, FormatVersion
	want.Fields = got.Fields
	if !reflect.DeepEqual(got, want) {
		t.Errorf("header\n got %+v\nwant %+v", got, want)
	}
	if len(got.Fields) != len(fields) {
		t.Fatalf("%d fields, want %d", len(got.Fields), len(fields))
	}
	for i, fi := range got.Fields {
		a := fields[i].array
		if fi.Name != a.Name || fi.Unit != a.Unit || fi.DType != "float32" ||
			!reflect.DeepEqual(fi.Shape, a.Shape) || !reflect.DeepEqual(fi.Axes, a.Axes) || len(fi.Chunks) != len(a.Chunks) {
			t.Errorf("field %d: got %+v", i, fi)
			continue
		}
		for j, c := range fi.Chunks {
			b := a.Chunks[j]
			if !reflect.DeepEqual(c.Start, b.Start) || !reflect.DeepEqual(c.Shape, b.Shape) ||
				c.RawBytes != uint64(4*len(b.Data)) || c.XXHash64 != formatSum(rawHash(b.Data)) {
				t.Errorf("field %q chunk %d: got %+v", a.Name, j, c)
			}
		}
	}
	js, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var back Header
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	// Re-encoding may re-format and HTML-escape params; only its meaning
	// has to survive.
	var p0, p1 any
	if err := json.Unmarshal(got.Params, &p0); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(back.Params, &p1); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p0, p1) {
		t.Errorf("params changed in a JSON round trip: %s -> %s", got.Params, back.Params)
	}
	back.Params = got.Params
	if !reflect.DeepEqual(back, got) {
		t.Errorf("header changed in a JSON round trip:\n%s", js)
	}
}

// checkDeterministic writes the same inputs again, in memory and with one
// CPU, and expects the bytes of the file at path every time.
func checkDeterministic(t *testing.T, path string, fields []testField) {
	t.Helper()
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	again := filepath.Join(filepath.Dir(path), "again.tsnap")
	if err := Write(again, testHeader(), arrays(fields), false); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(again)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("second Write gave different bytes")
	}
	if got := encodeBytes(t, testHeader(), arrays(fields)); !bytes.Equal(got, want) {
		t.Error("Encode and Write gave different bytes")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	if got := encodeBytes(t, testHeader(), arrays(fields)); !bytes.Equal(got, want) {
		t.Error("Encode with GOMAXPROCS=1 gave different bytes")
	}
}

func TestShuffle(t *testing.T) {
	in := []float32{
		math.Float32frombits(0x04030201),
		math.Float32frombits(0x14131211),
		math.Float32frombits(0x24232221),
	}
	want := []byte{
		0x01, 0x11, 0x21, // byte 0 (least significant) of each value
		0x02, 0x12, 0x22,
		0x03, 0x13, 0x23,
		0x04, 0x14, 0x24, // byte 3: sign and exponent
	}
	got := make([]byte, 12)
	shuffle(got, in)
	if !bytes.Equal(got, want) {
		t.Fatalf("shuffle = % x, want % x", got, want)
	}
	back := make([]float32, 3)
	unshuffle(back, got)
	if i, ok := sameBits(back, in); !ok {
		t.Fatalf("unshuffle differs at %d", i)
	}
}

func TestRawHash(t *testing.T) {
	// rawHash converts in batches; it must equal hashing all bytes at once,
	// including across a batch boundary.
	for _, n := range []int{0, 1, 1023, 1024, 1025, 5000} {
		v := smoothValues(n, n)
		raw := make([]byte, 4*n)
		for i, x := range v {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
		}
		stored, sum, err := EncodeChunk(v)
		if n == 0 {
			if err == nil {
				t.Error("EncodeChunk accepted an empty block")
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if want := xxhashSum(raw); rawHash(v) != want || sum != want {
			t.Errorf("n=%d: rawHash %x, EncodeChunk %x, want %x", n, rawHash(v), sum, want)
		}
		c := ChunkInfo{RawBytes: uint64(4 * n), XXHash64: formatSum(sum)}
		back, err := decodeChunk(stored, &c)
		if err != nil {
			t.Fatal(err)
		}
		if i, ok := sameBits(back, v); !ok {
			t.Errorf("n=%d: decoded chunk differs at %d", n, i)
		}
	}
}

func TestCorruptChunk(t *testing.T) {
	data := encodeBytes(t, testHeader(), arrays(standardFields()))
	f, err := decodeBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	d := dataStart(data)
	for _, fi := range f.Header.Fields {
		for j, c := range fi.Chunks {
			t.Run(fmt.Sprintf("%s/%d", fi.Name, j), func(t *testing.T) {
				bad := bytes.Clone(data)
				bad[d+int(c.Offset+c.StoredBytes/2)] ^= 0x5a
				bf, err := decodeBytes(bad)
				if err != nil {
					t.Fatalf("header should still be valid: %v", err)
				}
				want := fmt.Sprintf("read run.tsnap: field %q chunk %d: ", fi.Name, j)
				for what, err := range map[string]error{"Verify": bf.Verify(), "Read": readErr(bf, fi.Name)} {
					if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.Is(err, ErrCorrupt) {
						t.Errorf("%s: error %v, want prefix %q matching ErrCorrupt", what, err, want)
					}
				}
			})
		}
	}
}

func readErr(f *File, name string) error {
	_, err := f.Read(name)
	return err
}

func TestChecksumMismatch(t *testing.T) {
	data := encodeBytes(t, testHeader(), arrays(standardFields()))
	var stored string
	bad := replaceHeader(t, data, func(h *Header) {
		c := &h.Fields[3].Chunks[2]
		stored = c.XXHash64
		c.XXHash64 = formatSum(^mustParseSum(t, stored))
	})
	f, err := decodeBytes(bad)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`read run.tsnap: field "density" chunk 2: checksum mismatch (stored %016x, computed %s)`,
		^mustParseSum(t, stored), stored)
	if err := f.Verify(); err == nil || err.Error() != want {
		t.Errorf("Verify: %v\nwant %s", err, want)
	}
	if err := readErr(f, "density"); err == nil || err.Error() != want {
		t.Errorf("Read: %v\nwant %s", err, want)
	}
	if _, err := f.Read("sigma_x"); err != nil {
		t.Errorf("an intact field should still read: %v", err)
	}
}

func mustParseSum(t *testing.T, s string) uint64 {
	v, ok := parseSum(s)
	if !ok {
		t.Fatalf("bad checksum %q", s)
	}
	return v
}

func TestDecodeRejects(t *testing.T) {
	good := encodeBytes(t, testHeader(), arrays(standardFields()))
	d := dataStart(good)
	setU32 := func(at int, v uint32) []byte {
		b := bytes.Clone(good)
		binary.LittleEndian.PutUint32(b[at:], v)
		return b
	}
	header := func(edit func(*Header)) []byte { return replaceHeader(t, good, edit) }
	headerJSON := func(edit func([]byte) []byte) []byte { return replaceHeaderJSON(good, edit) }
	chunk := func(h *Header, field, j int) *ChunkInfo { return &h.Fields[field].Chunks[j] }
	tests := []struct {
		name string
		data []byte
		want string // substring of the error; "" means the file is valid
	}{
		{"valid", good, ""},
		{"extra header padding", headerJSON(func(b []byte) []byte { return append(b, "          "...) }), ""},
		{"empty file", nil, "file is 0 bytes, shorter than the 24-byte preamble"},
		{"truncated in magic", good[:5], "shorter than the 24-byte preamble"},
		{"truncated in preamble", good[:23], "shorter than the 24-byte preamble"},
		{"truncated in header", good[:40], "runs past the end of the file"},
		{"truncated after header", good[:d], "run past the end of the data section"},
		{"truncated in data", good[:len(good)-1], "run past the end of the data section"},
		{"wrong magic", append([]byte("GIF89a\r\n"), good[8:]...), "not a tsnap file"},
		{"text-mode magic", append([]byte("\x89TSNAP\n"), good[8:]...), "mangled"},
		{"version 2", setU32(8, 2), "unsupported format version 2"},
		{"reserved word", setU32(12, 1), "reserved preamble word"},
		{"absurd header length", func() []byte {
			b := bytes.Clone(good)
			binary.LittleEndian.PutUint64(b[16:], 1<<60)
			return b
		}(), "header length 1152921504606846976 exceeds the limit"},
		{"header garbage", headerJSON(func(b []byte) []byte { return bytes.Repeat([]byte("#"), len(b)) }), "header JSON"},
		{"header not an object", headerJSON(func([]byte) []byte { return []byte("[1,2,3]") }), "header JSON"},
		{"header trailing junk", headerJSON(func(b []byte) []byte { return append(b, "  x"...) }), "header JSON"},
		{"header not UTF-8", headerJSON(func(b []byte) []byte { return bytes.Replace(b, []byte("turbulence"), []byte("turb\xffulence"), 1) }), "not valid UTF-8"},
		{"empty header", headerJSON(func([]byte) []byte { return nil }), "header JSON"},
		{"wrong format name", header(func(h *Header) { h.Format = "tsnip" }), `header format is "tsnip"`},
		{"header version", header(func(h *Header) { h.Version = 2 }), "header version is 2"},
		{"dtype", header(func(h *Header) { h.Fields[1].DType = "float64" }), `field "sigma_y": dtype is "float64"`},
		{"empty name", header(func(h *Header) { h.Fields[1].Name = "" }), "field 1: empty name"},
		{"duplicate name", header(func(h *Header) { h.Fields[1].Name = "sigma_x" }), `field "sigma_x": duplicate name`},
		{"zero shape", header(func(h *Header) { h.Fields[0].Shape[1] = 0 }), `field "sigma_x": bad shape`},
		{"no axes", header(func(h *Header) { h.Fields[0].Shape, h.Fields[0].Axes = []int{}, []string{} }), `field "sigma_x": bad shape`},
		{"too many elements", header(func(h *Header) { h.Fields[0].Shape = []int{1 << 20, 1 << 15} }), "bad shape"},
		{"axes mismatch", header(func(h *Header) { h.Fields[0].Axes = []string{"z"} }), "1 axis names for 2 axes"},
		{"chunk rank", header(func(h *Header) { chunk(h, 3, 0).Start = []int{0, 0} }), `field "density" chunk 0: start [0 0]`},
		{"chunk outside", header(func(h *Header) { chunk(h, 3, 0).Start[2] = 8 }), `field "density" chunk 0: start [5 3 8] shape [8 7 2] is not inside field shape [13 10 9]`},
		{"negative start", header(func(h *Header) { chunk(h, 3, 0).Start[0] = -1 }), "is not inside"},
		{"overlapping chunks", header(func(h *Header) {
			// Grow chunk 7 ([0,0,0] 5×3×7) into chunk 6's x range and
			// shrink nothing: they overlap.
			c := chunk(h, 3, 7)
			c.Shape[2], c.RawBytes = 9, 4*5*3*9
		}), `field "density": chunks 6 and 7 overlap`},
		{"gap", header(func(h *Header) {
			fi := &h.Fields[3]
			fi.Chunks = fi.Chunks[1:]
		}), `field "density": chunks cover 1058 of its 1170 elements`},
		{"no chunks", header(func(h *Header) { h.Fields[0].Chunks = []ChunkInfo{} }), "chunks cover 0 of its 130 elements"},
		{"missing header key", headerJSON(func(b []byte) []byte { return bytes.Replace(b, []byte(`"time_s"`), []byte(`"time_x"`), 1) }), `header: missing key "time_s"`},
		{"missing chunk key", headerJSON(func(b []byte) []byte { return bytes.Replace(b, []byte(`"offset":0`), []byte(`"offsett":0`), 1) }), `field 0 chunk 0: missing key "offset"`},
		{"missing field key", headerJSON(func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"unit":"g cm^-3"`), []byte(`"units":"g cm^-3"`), 1)
		}), `field 3: missing key "unit"`},
		{"params not an object", header(func(h *Header) { h.Params = json.RawMessage(`[1,2]`) }), `header: "params" must be a JSON object, got [1,2]`},
		{"null key", header(func(h *Header) { h.Units = nil }), `header: key "units" is null`},
		{"short grid", headerJSON(func(b []byte) []byte { return bytes.Replace(b, []byte(`"grid":[9,10,13]`), []byte(`"grid":[9,10]`), 1) }), `header: "grid" must be an array of 3 numbers, got [9,10]`},
		{"long box", headerJSON(func(b []byte) []byte { return bytes.Replace(b, []byte(`"box_cm":[`), []byte(`"box_cm":[1,`), 1) }), `header: "box_cm" must be an array of 3 numbers`},
		{"field not an object", headerJSON(func(b []byte) []byte { return bytes.Replace(b, []byte(`"fields":[`), []byte(`"fields":[7,`), 1) }), "header JSON"},
		{"raw_bytes", header(func(h *Header) { chunk(h, 0, 0).RawBytes += 4 }), `field "sigma_x" chunk 0: raw_bytes is 524, want 4 × 130 elements = 520`},
		{"offset beyond EOF", header(func(h *Header) { chunk(h, 2, 0).Offset = 1 << 40 }), `field "sigma_z" chunk 0: stored bytes [1099511627776, +`},
		{"offset overflow", header(func(h *Header) { chunk(h, 2, 0).Offset = math.MaxUint64 }), "run past the end"},
		{"stored overflow", header(func(h *Header) { chunk(h, 2, 0).StoredBytes = math.MaxUint64 - 3 }), "run past the end"},
		{"stored ranges overlap", header(func(h *Header) { chunk(h, 2, 0).Offset = chunk(h, 1, 0).Offset + 1 }), "stored byte ranges overlap"},
		{"implausible ratio", header(func(h *Header) { chunk(h, 0, 0).StoredBytes = 0 }), "stored_bytes 0 cannot hold raw_bytes 520"},
		{"bad checksum string", header(func(h *Header) { chunk(h, 0, 0).XXHash64 = "ABCDEF0123456789" }), "is not 16 lowercase hex digits"},
		{"short checksum string", header(func(h *Header) { chunk(h, 0, 0).XXHash64 = "abc" }), "is not 16 lowercase hex digits"},
		{"negative offset in JSON", headerJSON(func(b []byte) []byte { return bytes.Replace(b, []byte(`"offset":0`), []byte(`"offset":-1`), 1) }), "header JSON"},
		{"JSON whitespace around the header", headerJSON(func(b []byte) []byte { return append(append([]byte("\n\t\r "), b...), "\r\n\t"...) }), ""},
		{"form feed after the header", headerJSON(func(b []byte) []byte { return append(b, '\f') }), "header JSON"},
		{"no-break space after the header", headerJSON(func(b []byte) []byte { return append(b, "\u00a0"...) }), "header JSON"},
		{"NaN", headerJSON(func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"wall_seconds":`), []byte(`"wall_seconds":NaN,"w":`), 1)
		}), "header JSON"},
		{"Infinity", headerJSON(func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"wall_seconds":`), []byte(`"wall_seconds":Infinity,"w":`), 1)
		}), "header JSON"},
		{"duplicate header key", headerJSON(func(b []byte) []byte { return bytes.Replace(b, []byte(`{`), []byte(`{"steps":1,`), 1) }), `duplicate key "steps"`},
		{"duplicate chunk key", headerJSON(func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"offset":0`), []byte(`"offset":0,"offset":0`), 1)
		}), `duplicate key "offset"`},
		{"duplicate params key", header(func(h *Header) { h.Params = json.RawMessage(`{"seed":1,"n":[{"a":1}],"seed":2}`) }), `duplicate key "seed"`},
		{"same key in two objects", header(func(h *Header) { h.Params = json.RawMessage(`{"a":{"a":1},"b":[{"a":2},{"a":3}]}`) }), ""},
		{"header key in another case", headerJSON(func(b []byte) []byte { return bytes.Replace(b, []byte(`{`), []byte(`{"Steps":1,`), 1) }), `key "Steps" differs from "steps" only in case`},
		{"chunk key in another case", headerJSON(func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"offset":0`), []byte(`"offset":0,"OFFSET":9`), 1)
		}), `key "OFFSET" differs from "offset" only in case`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := decodeBytes(tt.data)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if err := f.Verify(); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted; want error containing %q", tt.want)
			}
			if !strings.HasPrefix(err.Error(), "read run.tsnap: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\nwant prefix %q and substring %q", err, "read run.tsnap: ", tt.want)
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("error %q does not match ErrCorrupt", err)
			}
		})
	}
}

// failingReader serves data but fails every read past failAt.
type failingReader struct {
	data   []byte
	failAt int64
}

var errDisk = errors.New("disk on fire")

func (r failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > r.failAt {
		return 0, errDisk
	}
	return bytes.NewReader(r.data).ReadAt(p, off)
}

func TestReaderErrors(t *testing.T) {
	data := encodeBytes(t, testHeader(), arrays(standardFields()))
	d := int64(dataStart(data))
	tests := []struct {
		name    string
		r       io.ReaderAt
		corrupt bool   // whether the error must match ErrCorrupt
		want    string // substring of the Verify error
	}{
		{"file shrank after open", bytes.NewReader(data[:len(data)-10]), true, `field "density" chunk 7: file ended at byte`},
		{"I/O error", failingReader{data, d + 100}, false, `field "sigma_x" chunk 0: disk on fire`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Decode(tt.r, int64(len(data)), "run.tsnap")
			if err != nil {
				t.Fatal(err)
			}
			err = f.Verify()
			if err == nil || !strings.Contains(err.Error(), tt.want) || errors.Is(err, ErrCorrupt) != tt.corrupt {
				t.Errorf("error %v, want substring %q and ErrCorrupt match %v", err, tt.want, tt.corrupt)
			}
		})
	}
	if _, err := Decode(failingReader{data, 10}, int64(len(data)), "run.tsnap"); !errors.Is(err, errDisk) || errors.Is(err, ErrCorrupt) {
		t.Errorf("preamble I/O error: %v", err)
	}
}

func TestEncodeRejects(t *testing.T) {
	tests := []struct {
		name string
		edit func(h *Header, a []Array)
		want string
	}{
		{"data length", func(_ *Header, a []Array) { a[3].Chunks[2].Data = a[3].Chunks[2].Data[1:] }, `field "density" chunk 2: 47 values for shape [8 3 2] (48 elements)`},
		{"overlap", func(_ *Header, a []Array) { a[3].Chunks[1] = a[3].Chunks[0] }, `field "density": chunks 0 and 1 overlap`},
		{"gap", func(_ *Header, a []Array) { a[3].Chunks = a[3].Chunks[:7] }, `field "density": chunks cover`},
		{"outside", func(_ *Header, a []Array) { a[0].Chunks[0].Start = []int{1, 0} }, `field "sigma_x" chunk 0: start [1 0] shape [13 10] is not inside`},
		{"bad block shape", func(_ *Header, a []Array) { a[0].Chunks[0].Shape = []int{13, -10} }, `field "sigma_x" chunk 0`},
		{"empty name", func(_ *Header, a []Array) { a[1].Name = "" }, `field 1: name "" is empty or used twice`},
		{"duplicate name", func(_ *Header, a []Array) { a[1].Name = "sigma_x" }, `field 1: name "sigma_x" is empty or used twice`},
		{"axes", func(_ *Header, a []Array) { a[2].Axes = nil }, `field "sigma_z": 0 axis names for 2 axes`},
		{"params not an object", func(h *Header, _ []Array) { h.Params = json.RawMessage(`[1]`) }, "params must be a JSON object"},
		{"params invalid", func(h *Header, _ []Array) { h.Params = json.RawMessage(`{"a":`) }, "params must be a JSON object"},
		{"NaN time", func(h *Header, _ []Array) { h.TimeS = math.NaN() }, "header: json: unsupported value: NaN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, a := testHeader(), arrays(standardFields())
			tt.edit(&h, a)
			err := Encode(&bytes.Buffer{}, h, a)
			if err == nil || !strings.HasPrefix(err.Error(), "encode snapshot: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v\nwant substring %q", err, tt.want)
			}
			if errors.Is(err, ErrCorrupt) {
				t.Errorf("bad input is not a corrupt file, but %q matches ErrCorrupt", err)
			}
		})
	}
}

func TestEncodeZeroHeader(t *testing.T) {
	// A zero Header must still give a valid file: nil params and units are
	// written as {} because readers reject null.
	f, err := decodeBytes(encodeBytes(t, Header{}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if string(f.Header.Params) != "{}" || f.Header.Units == nil || len(f.Header.Units) != 0 {
		t.Errorf("params = %s, units = %#v; want {} and an empty map", f.Header.Params, f.Header.Units)
	}
}

func TestWriteAtomic(t *testing.T) {
	fields := arrays(standardFields())
	t.Run("refuses to overwrite", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "run.tsnap")
		writeFile(t, path, "old")
		err := Write(path, testHeader(), fields, false)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "already exists") {
			t.Fatalf("error %v, want one naming %s and saying it exists", err, path)
		}
		checkContent(t, path, "old")
		checkNoTemps(t, dir)
	})
	t.Run("overwrites with force", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "run.tsnap")
		writeFile(t, path, "old")
		if err := Write(path, testHeader(), fields, true); err != nil {
			t.Fatal(err)
		}
		f, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Verify(); err != nil {
			t.Fatal(err)
		}
		checkNoTemps(t, dir)
	})
	t.Run("missing directory", func(t *testing.T) {
		dir := t.TempDir()
		missing := filepath.Join(dir, "nonexistent")
		err := Write(filepath.Join(missing, "run.tsnap"), testHeader(), fields, true)
		if err == nil || !strings.Contains(err.Error(), "directory "+missing+" does not exist") {
			t.Fatalf("error %v, want one naming %s", err, missing)
		}
		checkNoTemps(t, dir)
	})
	t.Run("failed encode keeps old file", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "run.tsnap")
		writeFile(t, path, "old")
		bad := arrays(standardFields())
		bad[3].Chunks = bad[3].Chunks[:7]
		err := Write(path, testHeader(), bad, true)
		if err == nil || !strings.HasPrefix(err.Error(), "write "+path+": ") {
			t.Fatalf("error %v, want one starting with write %s", err, path)
		}
		checkContent(t, path, "old")
		checkNoTemps(t, dir)
	})
	t.Run("path is a directory", func(t *testing.T) {
		dir := t.TempDir()
		err := Write(dir, testHeader(), fields, true)
		if err == nil || !strings.Contains(err.Error(), "is a directory") {
			t.Fatalf("error %v, want 'is a directory'", err)
		}
	})
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func checkContent(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s was changed", path)
	}
}

func checkNoTemps(t *testing.T, dir string) {
	t.Helper()
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "old.tsnap")
	writeFile(t, existing, "old")
	missing := filepath.Join(dir, "nonexistent")
	tests := []struct {
		name  string
		path  string
		force bool
		want  string // error substring; "" means writable
	}{
		{"new file", filepath.Join(dir, "new.tsnap"), false, ""},
		{"existing with force", existing, true, ""},
		{"existing without force", existing, false, "write " + existing + ": file already exists"},
		{"nonexistent dir", filepath.Join(missing, "run.tsnap"), true, "directory " + missing + " does not exist"},
		{"dir is a file", filepath.Join(existing, "run.tsnap"), true, existing + " is not a directory"},
		{"path is a dir", dir, true, "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckWritable(tt.path, tt.force)
			switch {
			case tt.want == "" && err != nil:
				t.Fatal(err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want substring %q", err, tt.want)
			}
		})
	}
	t.Run("read-only dir", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("running as root, which can write to read-only directories, so there is nothing to detect")
		}
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		err := CheckWritable(filepath.Join(ro, "run.tsnap"), false)
		if err == nil || !strings.Contains(err.Error(), "directory "+ro+" is not writable") {
			t.Fatalf("error %v, want one saying %s is not writable", err, ro)
		}
	})
	checkNoTemps(t, dir)
	if _, err := os.Stat(filepath.Join(dir, "new.tsnap")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("CheckWritable left the target behind: %v", err)
	}
}

func TestField(t *testing.T) {
	f, err := decodeBytes(encodeBytes(t, testHeader(), arrays(standardFields())))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := f.Field("density")
	if err != nil || fi.Unit != "g cm^-3" || len(fi.Chunks) != 8 {
		t.Errorf("Field(density) = %+v, %v", fi, err)
	}
	const want = `read run.tsnap: no field "velocity_x" (fields: sigma_x, sigma_y, sigma_z, density)`
	if _, err := f.Field("velocity_x"); err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
	if _, err := f.Read("velocity_x"); err == nil || err.Error() != want {
		t.Errorf("Read: error %v, want %s", err, want)
	}
}

func TestWriteSummary(t *testing.T) {
	f, err := decodeBytes(encodeBytes(t, testHeader(), arrays(standardFields())))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteSummary(&buf, f); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"problem       turbulence",
		"grid          9 x 10 x 13 cells",
		"box           10 x 10 x 10 pc",
		"time          0.5 Myr (1.57788e+13 s)",
		"steps         1234",
		"wall time     1h2m5s (3725.2 s)",
		"ranks         8 (2 x 2 x 2)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	for _, want := range [][]string{
		{"sigma_x", "g cm^-2", "13x10", " 1 "},
		{"density", "g cm^-3", "13x10x9", " 8 "},
		{"total"},
	} {
		if !hasLineWith(out, want) {
			t.Errorf("summary has no line with %q:\n%s", want, out)
		}
	}
}

// hasLineWith reports whether some line of s contains all of parts, in order.
func hasLineWith(s string, parts []string) bool {
	for _, line := range strings.Split(s, "\n") {
		rest, ok := line, true
		for _, p := range parts {
			i := strings.Index(rest, p)
			if i < 0 {
				ok = false
				break
			}
			rest = rest[i+len(p):]
		}
		if ok {
			return true
		}
	}
	return false
}

func TestRunOrdered(t *testing.T) {
	// The error of the smallest failing index wins, however the work is
	// scheduled, and the sink sees results in order.
	for range 20 {
		var seen []int
		err := runOrdered(50, func(i int) (int, error) {
			if i == 13 || i == 31 {
				return 0, fmt.Errorf("fail %d", i)
			}
			return i, nil
		}, func(i, v int) error {
			seen = append(seen, v)
			return nil
		})
		if err == nil || err.Error() != "fail 13" {
			t.Fatalf("error %v, want fail 13", err)
		}
		for i, v := range seen {
			if i != v {
				t.Fatalf("sink saw %v", seen)
			}
		}
		if len(seen) != 13 {
			t.Fatalf("sink saw %d results, want 13", len(seen))
		}
	}
}

// TestWindowLimit checks that a chunk whose zstd frame asks for a window
// above MaxWindowBytes (libzstd's default limit) is refused before it is
// decoded, and one at the limit is not: a frame of one raw block holding
// the 16 shuffled bytes of [0.25, 0.5, 1, 2] (docs/FORMAT.md, worked
// example), with window descriptor byte wd: window 2^(10 + wd>>3).
func TestWindowLimit(t *testing.T) {
	payload := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0x80, 0, 0x3e, 0x3f, 0x3f, 0x40}
	c := &ChunkInfo{RawBytes: 16, XXHash64: "e9670c1b8900a372"}
	for _, tc := range []struct {
		wd   byte
		want string // "" for success
	}{
		{0x00, ""},                    // 1 KiB
		{0x88, ""},                    // 2^27 = 128 MiB
		{0x89, "window of 150994944"}, // 2^27 + 2^24
		{0x90, "window of 268435456"}, // 2^28
	} {
		frame := append([]byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, tc.wd, 0x81, 0x00, 0x00}, payload...)
		vals, err := decodeChunk(frame, c)
		switch {
		case tc.want == "" && (err != nil || len(vals) != 4 || vals[3] != 2):
			t.Errorf("window byte %#x: %v, %v", tc.wd, vals, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrCorrupt)):
			t.Errorf("window byte %#x: error %v, want one containing %q", tc.wd, err, tc.want)
		}
	}
}
