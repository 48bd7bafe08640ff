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
