package cli

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"
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
