package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/turbindex/turbindex/internal/resources"
)

func TestParseAndUsage(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	n := fs.Int("n", 1, "")
	if err := Parse(fs, []string{"--n", "3"}); err != nil || *n != 3 {
		t.Fatalf("parse: %v, n = %d", err, *n)
	}
	for _, args := range [][]string{{"--n", "x"}, {"--bogus"}, {"stray"}} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.Int("n", 1, "")
		if err := Parse(fs, args); !IsUsage(err) {
			t.Errorf("%v: %v is not a usage error", args, err)
		}
	}
	wrapped := fmt.Errorf("context: %w", Usage(errors.New("bad")))
	if !IsUsage(wrapped) || IsUsage(errors.New("plain")) {
		t.Error("IsUsage does not see through wrapping, or sees usage everywhere")
	}
}

func TestResources(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	r := AddResources(fs)
	if err := Parse(fs, []string{"--memory", "1.5G"}); err != nil {
		t.Fatal(err)
	}
	l, err := r.Limits()
	if err != nil || l.Memory != 3<<29 || l.MemorySource != "--memory" || l.CPUs < 1 {
		t.Errorf("Limits() = %+v, %v", l, err)
	}
	for _, bad := range []string{"-1G", "lots", "0"} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		AddResources(fs)
		if err := Parse(fs, []string{"--memory", bad}); !IsUsage(err) {
			t.Errorf("--memory %s: %v is not a usage error", bad, err)
		}
	}
	fs = flag.NewFlagSet("x", flag.ContinueOnError)
	r = AddResources(fs)
	if err := Parse(fs, nil); err != nil {
		t.Fatal(err)
	}
	if l, err := r.Limits(); err == nil && (l.Memory <= 0 || l.MemorySource == "--memory") {
		t.Errorf("detected limits without --memory: %+v", l)
	}
}

// TestMainExitStatus runs Main in a child process (this test binary) and
// checks the exit statuses: 2 for a usage error and for work too big for
// the memory, 1 for other failures.
func TestMainExitStatus(t *testing.T) {
	if which := os.Getenv("CLI_TEST_MAIN"); which != "" {
		os.Args = []string{"prog", which}
		Main("prog", "usage\n", map[string]Command{
			"usage": func([]string) error { return Usage(errors.New("bad flag")) },
			"big": func([]string) error {
				return fmt.Errorf("ctx: %w", resources.Limits{Memory: 1 << 30, MemorySource: "--memory"}.Fit("job", 2<<30, "smaller"))
			},
			"fail": func([]string) error { return errors.New("broken") },
		}, nil)
		os.Exit(0)
	}
	for cmd, want := range map[string]int{"usage": 2, "big": 2, "fail": 1} {
		c := exec.Command(os.Args[0], "-test.run=^TestMainExitStatus$")
		c.Env = append(os.Environ(), "CLI_TEST_MAIN="+cmd)
		out, err := c.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != want {
			t.Errorf("%s: %v, want exit status %d; output %q", cmd, err, want, out)
		}
		if cmd == "big" && !strings.Contains(string(out), "prog big: ctx: job needs 2.0 GiB, this process may use 1.0 GiB (--memory); smaller") {
			t.Errorf("big: output %q", out)
		}
	}
}
