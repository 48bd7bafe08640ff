package atomicfile

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	put := func(s string) func(*os.File) error {
		return func(f *os.File) error { _, err := f.WriteString(s); return err }
	}
	if err := Write(path, false, put("one")); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, false, put("two")); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("overwrite without force: %v", err)
	}
	if err := Write(path, true, func(*os.File) error { return errors.New("disk full") }); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("failing writer: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "one" {
		t.Errorf("content %q after a failed overwrite, want the old one", b)
	}
	if err := Write(path, true, put("three")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "three" {
		t.Errorf("content %q, want three", b)
	}
	if err := Write(filepath.Join(dir, "no", "f"), false, put("x")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing directory: %v", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 1 {
		t.Errorf("left in the directory: %v", left)
	}
}

func TestUndoMkdir(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "a", "b", "run")
	undo := UndoMkdir(dir)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "config.json"), []byte("{}"), 0o666)
	if err := undo(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(base); len(left) != 0 {
		t.Errorf("left after undo: %v", left)
	}
	// An existing directory is left alone, content included.
	os.WriteFile(filepath.Join(base, "keep"), []byte("x"), 0o666)
	if err := UndoMkdir(base)(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(base, "keep")); err != nil {
		t.Errorf("undo of an existing directory removed its content: %v", err)
	}
}

// TestWriteFullDisk writes more than a small tmpfs holds: the write fails
// with ENOSPC and leaves nothing. It needs root (to mount the tmpfs).
func TestWriteFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs (the failing-writer case is in TestWrite)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	err := WriteBytes(filepath.Join(dir, "big.bin"), make([]byte, 1<<20))
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("write of 1 MiB into 200 KiB: %v, want ENOSPC", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}
