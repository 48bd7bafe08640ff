package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Exit statuses of the three binaries.
const (
	ExitFailure = 1 // the command failed
	ExitUsage   = 2 // the command line is wrong; nothing was done
	// ExitCheckpointed: a signal stopped the command after it saved its
	// state; running it again resumes.
	ExitCheckpointed = 3
)

// Required returns a command-line error naming the flags among names
// (without dashes) that were left empty, or nil when all are set. A single
// missing flag is explained by its usage text.
func Required(fs *flag.FlagSet, names ...string) error {
	var missing []string
	var first *flag.Flag
	for _, n := range names {
		f := fs.Lookup(n)
		if f == nil {
			panic("cli.Required: no flag " + n)
		}
		if f.Value.String() == "" {
			missing = append(missing, "--"+n)
			if first == nil {
				first = f
			}
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		_, usage := flag.UnquoteUsage(first)
		return Usage(fmt.Errorf("%s is required: %s", missing[0], usage))
	}
	last := len(missing) - 1
	return Usage(fmt.Errorf("%s and %s are required", strings.Join(missing[:last], ", "), missing[last]))
}

// SignalContext returns a context cancelled by SIGINT, SIGTERM (SLURM's
// time limit, scancel) and SIGUSR1 (sbatch --signal=USR1@seconds).
func SignalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGUSR1)
}

// Logger returns the batch log of a command: log/slog text lines on w
// (usually standard error).
func Logger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, nil))
}

// Strings is a flag holding a comma-separated list of names; spaces around
// a name and empty names are dropped.
type Strings []string

// String returns the list as given on the command line.
func (s *Strings) String() string { return strings.Join(*s, ",") }

// Set parses a comma-separated list, replacing the default.
func (s *Strings) Set(v string) error {
	*s = nil
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			*s = append(*s, f)
		}
	}
	return nil
}

// Ints is a flag holding a comma-separated list of positive integers.
type Ints []int

// String returns the list as given on the command line.
func (s *Ints) String() string { return join(*s, strconv.Itoa) }

// Set parses a comma-separated list, replacing the default.
func (s *Ints) Set(v string) error {
	out, err := parseList(v, func(f string) (int, error) {
		x, err := strconv.Atoi(f)
		if err != nil || x < 1 {
			return 0, fmt.Errorf("%q is not a positive integer", f)
		}
		return x, nil
	})
	*s = out
	return err
}

// Floats is a flag holding a comma-separated list of positive numbers.
type Floats []float64

// String returns the list as given on the command line.
func (s *Floats) String() string {
	return join(*s, func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) })
}

// Set parses a comma-separated list, replacing the default.
func (s *Floats) Set(v string) error {
	out, err := parseList(v, func(f string) (float64, error) {
		x, err := strconv.ParseFloat(f, 64)
		if err != nil || !(x > 0) {
			return 0, fmt.Errorf("%q is not a positive number", f)
		}
		return x, nil
	})
	*s = out
	return err
}

// parseList parses each comma-separated element of v, spaces trimmed.
func parseList[T any](v string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, f := range strings.Split(v, ",") {
		x, err := parse(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

func join[T any](xs []T, format func(T) string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = format(x)
	}
	return strings.Join(parts, ",")
}

// UndoOnSignal is for commands that write a result directory and cannot
// stop part-way and resume: when SIGINT or SIGTERM (SLURM's time limit,
// scancel) arrives before the returned function is called, it runs undo
// (atomicfile.UndoMkdir's: remove what the command created, here the path
// what), says so on standard error as "name: <signal>: stopped, <what>
// removed" (or that what, there before, is left incomplete) and exits with
// ExitFailure. Call the returned function once the result is
// complete: a later signal then leaves it alone.
func UndoOnSignal(name, what string, undo func() error) (complete func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	var mu sync.Mutex
	done := false
	go func() {
		s, ok := <-sig
		mu.Lock() // held until exit: complete cannot run after undo
		if !ok || done {
			mu.Unlock()
			return
		}
		msg := fmt.Sprintf("%s: %v: stopped, %s removed", name, s, what)
		if err := undo(); err != nil {
			msg = fmt.Sprintf("%s: %v: stopped; removing %s: %v", name, s, what, err)
		} else if _, err := os.Stat(what); err == nil {
			// undo leaves a directory that was there before the command.
			msg = fmt.Sprintf("%s: %v: stopped; %s, there before it started, is left incomplete", name, s, what)
		}
		fmt.Fprintln(os.Stderr, msg)
		os.Exit(ExitFailure)
	}()
	return func() {
		mu.Lock()
		done = true
		mu.Unlock()
		signal.Stop(sig)
		close(sig)
	}
}
