package cli

import (
	"errors"
	"flag"
	"fmt"
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
