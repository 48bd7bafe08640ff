package kernels

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestPTXMatchesSources fails when kernels.ptx exists but was compiled from
// other sources: the PTX must be rebuilt whenever kernels.cu or kernels.h
// change.
func TestPTXMatchesSources(t *testing.T) {
	b, err := os.ReadFile(PTXFile)
	if errors.Is(err, os.ErrNotExist) {
		if _, err := PTX(); !errors.Is(err, ErrNoPTX) {
			t.Fatalf("no %s on disk, PTX() = %v, want ErrNoPTX", PTXFile, err)
		}
		t.Skipf("no %s in this tree (it is generated on a machine with nvcc: scripts/build-ptx.sh)", PTXFile)
	}
	if err != nil {
		t.Fatal(err)
	}
	got, err := RecordedHash(b)
	if err != nil {
		t.Fatal(err)
	}
	if want := SourceHash(); got != want {
		t.Fatalf("%s records source hash %s, the sources hash to %s: rebuild it with scripts/build-ptx.sh", PTXFile, got, want)
	}
	if _, err := PTX(); err != nil {
		t.Fatal(err)
	}
}

// TestSourceHash checks that the hash covers every source byte.
func TestSourceHash(t *testing.T) {
	h := SourceHash()
	if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		t.Fatalf("SourceHash() = %q, want 64 hex digits", h)
	}
	for _, name := range Sources {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		e, _ := files.ReadFile(name)
		if string(b) != string(e) {
			t.Fatalf("embedded %s differs from the file on disk", name)
		}
	}
	if _, err := RecordedHash([]byte("//ptx\n.version 8.0\n")); err == nil {
		t.Fatal("RecordedHash accepted a PTX without the hash line")
	}
	if got, err := RecordedHash([]byte(HashLine() + "\n.version 8.0\n")); err != nil || got != h {
		t.Fatalf("RecordedHash(HashLine()) = %q, %v; want %q", got, err, h)
	}
}

// TestBuildScriptHash checks that scripts/build-ptx.sh records the same
// hash as SourceHash, so a PTX it builds passes PTX's check.
func TestBuildScriptHash(t *testing.T) {
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("sha256sum not found (coreutils)")
	}
	out, err := exec.Command("bash", "../../../../scripts/build-ptx.sh", "--hash").Output()
	if err != nil {
		t.Fatalf("build-ptx.sh --hash: %v", err)
	}
	if got, want := strings.TrimSpace(string(out)), SourceHash(); got != want {
		t.Fatalf("build-ptx.sh records %s, SourceHash is %s", got, want)
	}
}
