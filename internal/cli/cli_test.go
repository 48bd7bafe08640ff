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

func TestRequired(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // "" for no error
	}{
		{[]string{"--a", "x", "--b", "y"}, ""},
		{[]string{"--a", "x"}, "--b is required: the b file"},
		{nil, "--a and --b are required"},
	} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.String("a", "", "")
		fs.String("b", "", "the b `file`")
		if err := Parse(fs, tc.args); err != nil {
			t.Fatal(err)
		}
		err := Required(fs, "a", "b")
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.args, err)
		case tc.want != "" && (err == nil || err.Error() != tc.want || !IsUsage(err)):
			t.Errorf("%v: error %v, want the usage error %q", tc.args, err, tc.want)
		}
	}
}

func TestLists(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	ints := Ints{1, 2}
	floats := Floats{0.5}
	names := Strings{"a"}
	fs.Var(&ints, "ints", "")
	fs.Var(&floats, "floats", "")
	fs.Var(&names, "names", "")
	if err := Parse(fs, []string{"--ints", "3, 4", "--floats", "1e-3,2", "--names", " b ,,c"}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ints, floats, names) != "[3 4] [0.001 2] [b c]" {
		t.Errorf("parsed %v %v %v, want [3 4] [0.001 2] [b c]", ints, floats, names)
	}
	for _, args := range [][]string{{"--ints", "4,x"}, {"--ints", "0"}, {"--floats", "-1"}, {"--floats", "NaN"}, {"--ints", ""}} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.Var(&Ints{}, "ints", "")
		fs.Var(&Floats{}, "floats", "")
		err := Parse(fs, args)
		if !IsUsage(err) || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("%v: error %v, want a usage error naming %s", args, err, args[0])
		}
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
