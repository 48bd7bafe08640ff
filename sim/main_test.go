package main

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/turbindex/turbindex/internal/cli/clitest"
	"github.com/turbindex/turbindex/sim/snapshot"
)

var simBin string

// TestMain builds the sim binary once; the tests run it as a user would.
func TestMain(m *testing.M) {
	dir, err := clitest.Build(".")
	if err != nil {
		panic(err)
	}
	simBin = filepath.Join(dir, "sim")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// sim runs the binary and returns stdout, stderr and the exit code.
func sim(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return clitest.Run(t, simBin, args...)
}

func TestRunInspectVerify(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.tsnap")
	stdout, stderr, code := sim(t, "run", "--grid", "16", "--ranks", "2", "--fields", "density", "--out", path, "--log-every", "0s")
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, path) || strings.Count(stdout, "\n") != 1 {
		t.Errorf("run printed %q, want one line naming %s", stdout, path)
	}
	if !strings.Contains(stderr, "msg=progress") || !strings.Contains(stderr, "t_myr=") {
		t.Errorf("no progress log lines in a non-terminal stderr: %q", stderr)
	}
	// Refuses to overwrite.
	if _, stderr, code := sim(t, "run", "--grid", "16", "--out", path); code != 2 || !strings.Contains(stderr, "exists") {
		t.Errorf("overwrite without --force: exit %d, %q", code, stderr)
	}
	stdout, stderr, code = sim(t, "inspect", path, "--json")
	if code != 0 {
		t.Fatalf("inspect --json: exit %d: %s", code, stderr)
	}
	var h snapshot.Header
	if err := json.Unmarshal([]byte(stdout), &h); err != nil {
		t.Fatalf("inspect --json output: %v", err)
	}
	if h.Grid != [3]int{16, 16, 16} || h.Problem != "turbulence" || len(h.Fields) != 4 {
		t.Errorf("header: grid %v problem %q %d fields", h.Grid, h.Problem, len(h.Fields))
	}
	for _, f := range h.Fields {
		for _, c := range f.Chunks {
			if len(c.XXHash64) != 16 {
				t.Errorf("%s: chunk checksum %q", f.Name, c.XXHash64)
			}
		}
	}
	if stdout, stderr, code := sim(t, "inspect", "--verify", path); code != 0 || !strings.Contains(stdout, "verified") {
		t.Fatalf("inspect --verify: exit %d: %s%s", code, stdout, stderr)
	}

	// Flip one byte in the middle of the density's second chunk.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data := 24 + int64(binary.LittleEndian.Uint64(raw[16:24]))
	var dens *snapshot.FieldInfo
	for i := range h.Fields {
		if h.Fields[i].Name == "density" {
			dens = &h.Fields[i]
		}
	}
	c := dens.Chunks[1]
	raw[data+int64(c.Offset)+int64(c.StoredBytes)/2] ^= 0x40
	bad := filepath.Join(dir, "bad.tsnap")
	if err := os.WriteFile(bad, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = sim(t, "inspect", bad, "--verify")
	if code != 1 || !strings.Contains(stderr, "bad.tsnap") || !strings.Contains(stderr, `"density"`) || !strings.Contains(stderr, "chunk 1") {
		t.Errorf("inspect --verify of a corrupt chunk: exit %d, %q; want exit 1 naming the file, field and chunk", code, stderr)
	}
	if strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("error is not one line: %q", stderr)
	}
}

func TestBadCommandLines(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.tsnap")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{}, 2, "usage"},
		{[]string{"fly"}, 2, `unknown command "fly"`},
		{[]string{"run", "--grid", "8", "--out", out}, 2, "--grid 8"},
		{[]string{"run", "--grid", "sixteen"}, 2, "sixteen"},
		{[]string{"run", "--bogus"}, 2, "bogus"},
		{[]string{"run", "--problem", "vortex", "--out", out}, 2, "vortex"},
		{[]string{"run", "--fields", "density,pressure", "--out", out}, 2, "pressure"},
		{[]string{"run", "--out", out, "stray"}, 2, "stray"},
		{[]string{"inspect"}, 2, "one snapshot"},
		{[]string{"inspect", "/nonexistent/a.tsnap"}, 1, "/nonexistent/a.tsnap"},
		{[]string{"inspect", "main.go"}, 1, "main.go"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, stderr, code := sim(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, tc.code, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s written", out)
			}
		})
	}
}
