// Package pyref runs reference computations in Python (numpy, scipy,
// astropy) for tests that check our results against an independent
// implementation.
package pyref

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// Python returns a Python 3 interpreter that can import modules (comma
// separated, as in an import statement), or skips the test naming the
// Debian packages debs to install. /usr/bin/python3 comes first: a pyenv
// python3 on PATH lacks Debian's modules.
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

// Run runs script with py, stdin as its standard input, and returns its
// standard output; the test fails on a Python error.
func Run(t testing.TB, py, script, stdin string) string {
	t.Helper()
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("python: %v\n%s", err, errb.String())
	}
	return out.String()
}
