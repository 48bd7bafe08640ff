package snapshot

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTsnapPyAgrees checks that scripts/tsnap.py and this package accept
// and reject the same headers in the corners docs/FORMAT.md settles and
// where JSON decoders differ by default: whitespace around the object,
// NaN and Infinity, duplicate keys, keys differing only in case, and the
// zstd window limit.
func TestTsnapPyAgrees(t *testing.T) {
	py := "/usr/bin/python3"
	if exec.Command(py, "-c", "import numpy, zstandard").Run() != nil {
		t.Skip("tsnap.py needs Python 3 with numpy and zstandard (Debian: python3-numpy python3-zstandard)")
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "tsnap.py"))
	if err != nil {
		t.Fatal(err)
	}
	good := encodeBytes(t, testHeader(), arrays(standardFields()))
	js := func(edit func([]byte) []byte) []byte { return replaceHeaderJSON(good, edit) }
	repl := func(old, new string) []byte {
		return js(func(b []byte) []byte { return bytes.Replace(b, []byte(old), []byte(new), 1) })
	}
	// The first chunk's frame with its window descriptor raised to 2^28
	// bytes (the writer's frames are not single-segment above 256 bytes).
	bigWindow := bytes.Clone(good)
	f, err := decodeBytes(good)
	if err != nil {
		t.Fatal(err)
	}
	frame := bigWindow[dataStart(good)+int(f.Header.Fields[0].Chunks[0].Offset):]
	if frame[4]&0x20 != 0 {
		t.Fatal("the first chunk's frame is single-segment: no window descriptor to raise")
	}
	frame[5] = 0x90
	for _, tc := range []struct {
		name  string
		data  []byte
		valid bool
	}{
		{"as written", good, true},
		{"JSON whitespace around the object", js(func(b []byte) []byte { return append(append([]byte("\n\t\r "), b...), "\r\n\t"...) }), true},
		{"form feed after the object", js(func(b []byte) []byte { return append(b, '\f') }), false},
		{"no-break space before the object", js(func(b []byte) []byte { return append([]byte("\u00a0"), b...) }), false},
		{"NaN", repl(`"wall_seconds":`, `"wall_seconds":NaN,"w":`), false},
		{"-Infinity", repl(`"wall_seconds":`, `"wall_seconds":-Infinity,"w":`), false},
		{"duplicate header key", repl(`{`, `{"steps":1,`), false},
		{"duplicate key in params", repl(`"params":{`, `"params":{"x":1,"x":2,`), false},
		{"unknown key", repl(`{`, `{"comment":"hello",`), true},
		{"key in another case", repl(`{`, `{"Steps":1,`), false},
		{"zstd window of 256 MiB", bigWindow, false},
	} {
		p := filepath.Join(t.TempDir(), "x.tsnap")
		if err := os.WriteFile(p, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		gf, goErr := decodeBytes(tc.data)
		if goErr == nil {
			goErr = gf.Verify()
		}
		out, pyErr := exec.Command(py, script, p).CombinedOutput()
		if (goErr == nil) != tc.valid || (pyErr == nil) != tc.valid || strings.Contains(string(out), "Traceback") {
			t.Errorf("%s: Go %v; tsnap.py %v %q; want valid = %v from both", tc.name, goErr, pyErr, out, tc.valid)
		}
	}
}
