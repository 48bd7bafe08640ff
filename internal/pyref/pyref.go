// Package pyref runs the Python reference implementations tests compare
// with (astropy, numpy, scikit-image): Debian's /usr/bin/python3 first,
// then the python3 on the PATH.
package pyref

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// Python returns a Python 3 interpreter that can import modules (a
// comma-separated list, as after Python's import), or skips the test
// naming the Debian packages debs that provide them.
func Python(t testing.TB, modules, debs string) string {
	t.Helper()
	var tried []string
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		p, err := exec.LookPath(py)
		if err != nil {
			continue
		}
		tried = append(tried, p)
		if exec.Command(p, "-c", "import "+modules).Run() == nil {
			return p
		}
	}
	t.Skipf("no Python 3 with %s (tried %v): install %s", modules, tried, debs)
	return ""
}

// Run runs the Python script with args and returns its standard output; it
// fails the test with Python's standard error if the script fails.
func Run(t testing.TB, py, script string, args ...string) string {
	t.Helper()
	return RunInput(t, py, script, "", args...)
}

// RunInput is Run with stdin as the script's standard input, for data too
// large for the command line.
func RunInput(t testing.TB, py, script, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(py, append([]string{"-c", script}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("python: %v\n%s", err, errb.String())
	}
	return out.String()
}
