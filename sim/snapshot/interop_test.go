package snapshot

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestReferenceZstd cross-checks the chunk encoding against the reference
// zstd command: it must decode every chunk this package writes, and this
// package must read chunks it compressed, with and without the frame
// content size (zstd omits it when compressing a pipe) and with its frame
// checksum.
func TestReferenceZstd(t *testing.T) {
	zstdCmd, err := exec.LookPath("zstd")
	if err != nil {
		t.Skip("the zstd command is not installed; this cross-check needs it")
	}
	fields := standardFields()
	data := encodeBytes(t, testHeader(), arrays(fields))
	f, err := decodeBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	d := dataStart(data)
	dir := t.TempDir()
	var restored [][]byte
	k := 0
	for i, fi := range f.Header.Fields {
		for j, c := range fi.Chunks {
			block := fields[i].array.Chunks[j].Data
			want := make([]byte, 4*len(block))
			shuffle(want, block)

			stored := data[d+int(c.Offset) : d+int(c.Offset+c.StoredBytes)]
			got := runZstd(t, zstdCmd, stored, "-d", "-c")
			if !bytes.Equal(got, want) {
				t.Fatalf("field %q chunk %d: zstd -d gives different bytes", fi.Name, j)
			}

			// Alternate between a pipe (no content size) and a file.
			if k++; k%2 == 0 {
				restored = append(restored, runZstd(t, zstdCmd, want, "-q", "-c", "-19"))
			} else {
				in := filepath.Join(dir, "chunk")
				if err := os.WriteFile(in, want, 0o644); err != nil {
					t.Fatal(err)
				}
				restored = append(restored, runZstd(t, zstdCmd, nil, "-q", "-c", "-3", in))
			}
		}
	}
	rf, err := decodeBytes(withChunks(t, f.Header, restored))
	if err != nil {
		t.Fatal(err)
	}
	if err := rf.Verify(); err != nil {
		t.Fatal(err)
	}
	for _, tf := range fields {
		got, err := rf.Read(tf.array.Name)
		if err != nil {
			t.Fatal(err)
		}
		if i, ok := sameBits(got, tf.full); !ok {
			t.Fatalf("field %q differs at %d", tf.array.Name, i)
		}
	}
}

// runZstd runs the zstd command with stdin and returns its output.
func runZstd(t *testing.T, zstdCmd string, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(zstdCmd, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("zstd %v: %v: %s", args, err, stderr.Bytes())
	}
	return out
}

// withChunks builds a file with header h and the given stored bytes for its
// chunks, in field-table order, laid out contiguously.
func withChunks(t *testing.T, h Header, stored [][]byte) []byte {
	t.Helper()
	js, _ := json.Marshal(h)
	if err := json.Unmarshal(js, &h); err != nil { // deep copy
		t.Fatal(err)
	}
	var body []byte
	k := 0
	for i := range h.Fields {
		for j := range h.Fields[i].Chunks {
			c := &h.Fields[i].Chunks[j]
			c.Offset, c.StoredBytes = uint64(len(body)), uint64(len(stored[k]))
			body = append(body, stored[k]...)
			k++
		}
	}
	js, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	return append(preamble(js, len(js)), body...)
}
