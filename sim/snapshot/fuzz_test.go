package snapshot

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to Decode, Verify, Read and
// WriteSummary. None may panic, every error must name the file, and a file
// that verifies must read. Allocation is bounded by design: Decode
// allocates at most the validated header length, and Read/Verify at most
// 32768 × the file size (see maxExpansion), which a fuzz input keeps small.
func FuzzDecode(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz.tsnap"
		file, err := Decode(bytes.NewReader(data), int64(len(data)), name)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "read "+name+": ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		verifyErr := file.Verify()
		for _, fi := range file.Header.Fields {
			vals, err := file.Read(fi.Name)
			if err != nil {
				if verifyErr == nil {
					t.Fatalf("Verify passed but Read(%q) failed: %v", fi.Name, err)
				}
				continue
			}
			if n, _ := elements(fi.Shape); uint64(len(vals)) != n {
				t.Fatalf("Read(%q) returned %d values for shape %v", fi.Name, len(vals), fi.Shape)
			}
		}
		if err := WriteSummary(io.Discard, file); err != nil {
			t.Fatal(err)
		}
		if _, err := json.Marshal(file.Header); err != nil {
			t.Fatalf("a decoded header must re-encode: %v", err)
		}
	})
}

// fuzzSeeds returns small valid files and damaged variants of them.
func fuzzSeeds(tb testing.TB) [][]byte {
	small := []testField{
		oneBlock("sigma_z", "g cm^-2", []int{3, 2}, []string{"y", "x"}, 1),
		cubeIn8("density", "g cm^-3", [3]int{3, 3, 2}, [3]int{1, 2, 1}, 2),
	}
	valid := [][]byte{
		encodeBytes(tb, testHeader(), arrays(small)),
		encodeBytes(tb, testHeader(), nil),
		encodeBytes(tb, Header{}, arrays(small[:1])),
	}
	seeds := append([][]byte(nil), valid...)
	for _, v := range valid {
		for _, n := range []int{0, 8, 23, 24, 60, dataStart(v), len(v) - 1} {
			if n <= len(v) {
				seeds = append(seeds, v[:n])
			}
		}
		for _, at := range []int{0, 6, 8, 12, 16, 23, 30, dataStart(v) - 5, dataStart(v) + 3, len(v) - 2} {
			if at >= 0 && at < len(v) {
				b := bytes.Clone(v)
				b[at] ^= 0x41
				seeds = append(seeds, b)
			}
		}
		b := bytes.Clone(v)
		binary.LittleEndian.PutUint64(b[16:], 1<<60)
		seeds = append(seeds, b)
	}
	v := valid[0]
	seeds = append(seeds,
		replaceHeaderJSON(v, func(b []byte) []byte { return bytes.Replace(b, []byte(`"shape":[3,2]`), []byte(`"shape":[3,9]`), 1) }),
		replaceHeaderJSON(v, func(b []byte) []byte { return bytes.ReplaceAll(b, []byte(`"offset":`), []byte(`"offset":1`)) }),
		replaceHeader(tb, v, func(h *Header) { h.Fields[1].Chunks[0].Shape[0] = 3 }),
		replaceHeader(tb, v, func(h *Header) { h.Fields[1].Chunks[3].StoredBytes = 1 }),
		replaceHeader(tb, v, func(h *Header) { h.Fields[0].Chunks[0].XXHash64 = formatSum(1) }),
	)
	return seeds
}
