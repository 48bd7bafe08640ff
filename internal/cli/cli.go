// Package cli holds the command-line conventions shared by the sim, train
// and analysis binaries: subcommands, flags that reject stray arguments,
// required flags (Required), comma-separated list flags (Strings, Ints,
// Floats), the signal context of long jobs, the batch logger, one-line
// errors naming the command, and exit statuses (0 success, ExitFailure,
// ExitUsage for a bad command line or work too big, ExitCheckpointed).
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strings"

	"github.com/turbindex/turbindex/internal/resources"
)

// usageError marks an error in the command line.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// Usage marks err as an error in the command line (exit status ExitUsage).
func Usage(err error) error { return usageError{err} }

// IsUsage reports whether err is (or wraps) a command-line error.
func IsUsage(err error) bool {
	var ue usageError
	return errors.As(err, &ue)
}

// Parse parses args with fs and rejects positional arguments. With -h it
// prints the flags to standard output and returns flag.ErrHelp.
func Parse(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stdout)
			fs.PrintDefaults()
			return err
		}
		return Usage(errors.New(dashes.Replace(err.Error())))
	}
	if fs.NArg() > 0 {
		return Usage(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	return nil
}

// dashes rewrites the flag package's errors, which name flags with one
// dash, to the two dashes of our usage texts.
var dashes = strings.NewReplacer(
	"for flag -", "for flag --",
	"flag provided but not defined: -", "flag provided but not defined: --",
	"flag needs an argument: -", "flag needs an argument: --",
)

// Command runs a subcommand with its arguments.
type Command func(args []string) error

// Main runs the subcommand of prog named by os.Args[1] and exits: usage
// (to standard error, status 2) without one or for an unknown one, usage to
// standard output for help; on an error it prints "prog cmd: error" and
// exits 2 for command-line errors and work refused for want of memory
// (resources.TooBigError), else with status(err) when status is
// not nil, else 1.
func Main(prog, usage string, cmds map[string]Command, status func(error) int) {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(ExitUsage)
	}
	name := os.Args[1]
	var err error
	switch cmd, ok := cmds[name]; {
	case ok:
		err = cmd(os.Args[2:])
	case name == "-h" || name == "--help" || name == "help":
		fmt.Print(usage)
		return
	default:
		err = Usage(fmt.Errorf("unknown command %q", name))
	}
	switch {
	case err == nil:
		return
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	}
	fmt.Fprintf(os.Stderr, "%s %s: %v\n", prog, name, err)
	switch {
	case IsUsage(err), resources.IsTooBig(err):
		os.Exit(ExitUsage)
	case status != nil:
		os.Exit(status(err))
	}
	os.Exit(ExitFailure)
}

// Resources holds the --memory flag that sim, train and analysis share: the
// memory budget that overrides the detected one.
type Resources struct {
	memory int64 // bytes; 0 when not given
}

// AddResources registers --memory on fs.
func AddResources(fs *flag.FlagSet) *Resources {
	r := &Resources{}
	fs.Func("memory", "memory this process may use, e.g. `4G` or 512MiB (default: the cgroup or SLURM limit, else the memory available now)", func(s string) error {
		b, err := resources.ParseBytes(s)
		r.memory = b
		return err
	})
	return r
}

// Limits returns what this process may use: the detected limits, with the
// memory of --memory when it was given. Where no memory limit can be read
// at all (no cgroup, no SLURM variable, no /proc/meminfo: not Linux), the
// memory is unbounded and its source says why, so that the commands still
// run there; --memory then sets a budget.
//
// It also bounds the Go scheduler by the CPUs found: Go follows the
// affinity mask and a cgroup quota by itself, but not SLURM_CPUS_PER_TASK,
// and every parallel part (the solver's FFTs, snapshot compression, the
// CNN) sizes its workers from GOMAXPROCS.
func (r *Resources) Limits() (resources.Limits, error) {
	l, err := resources.Detect()
	if l.CPUs > 0 && l.CPUs < runtime.GOMAXPROCS(0) {
		runtime.GOMAXPROCS(l.CPUs)
	}
	switch {
	case r != nil && r.memory > 0:
		l.Memory, l.MemorySource = r.memory, "--memory"
	case err != nil:
		l.Memory, l.MemorySource = math.MaxInt64, "no limit found: "+err.Error()
	}
	return l, nil
}
