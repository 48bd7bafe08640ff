// Package clitest runs the project's binaries in tests, as a user would.
package clitest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Build compiles the main packages pkgs (import paths or directories, as
// `go build` takes them) into a new temporary directory and returns it; the
// binaries are named after the packages' directories. Remove the directory
// when done.
func Build(pkgs ...string) (string, error) {
	dir, err := os.MkdirTemp("", "turbindex-bin")
	if err != nil {
		return "", err
	}
	args := append([]string{"build", "-o", dir + string(filepath.Separator)}, pkgs...)
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("go build %v: %v\n%s", pkgs, err, out)
	}
	return dir, nil
}

// Run runs the binary bin with args and returns its standard output, its
// standard error and its exit status. It fails t if bin cannot be started.
func Run(t testing.TB, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), errb.String(), 0
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	}
	t.Fatal(err)
	return "", "", 0
}

// FullDisk returns a new directory in which writing more than about size
// bytes fails, and the command prefix to run a binary under so that it
// meets the limit. As root it mounts a tmpfs of that size there (writes
// fail with ENOSPC, as on a full disk; unmounted when t ends) and the
// prefix is empty; otherwise the prefix runs the binary under prlimit
// --fsize (writes beyond the size fail with EFBIG). It skips t when neither
// is possible, naming what is missing.
func FullDisk(t testing.TB, size int) (dir string, prefix []string) {
	t.Helper()
	dir = t.TempDir()
	if os.Geteuid() == 0 {
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput(); err == nil {
			t.Cleanup(func() {
				if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
					t.Errorf("umount %s: %v: %s", dir, err, out)
				}
			})
			return dir, nil
		} else {
			t.Logf("mount tmpfs: %v: %s; using prlimit --fsize instead", err, bytes.TrimSpace(out))
		}
	}
	p, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("neither a tmpfs mount (needs root) nor prlimit (package util-linux) to fill a disk")
	}
	return dir, []string{p, fmt.Sprintf("--fsize=%d", size), "--"}
}
