package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/internal/cli"
)

// incompleteError is statusCmd's answer when some simulation is not done;
// main prints it and exits with status 1.
type incompleteError struct{ notDone, total int }

func (e incompleteError) Error() string {
	return fmt.Sprintf("campaign incomplete: %d of %d simulations not done", e.notDone, e.total)
}

// statusCmd counts the campaign's simulations by state, lists the rows
// that are not done with --verbose, and prints the --array list of the
// tasks to resubmit. It returns nil only when every simulation is done.
func statusCmd(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	manifest := fs.String("manifest", "", "campaign manifest `path` (from sim plan)")
	outdir := fs.String("outdir", "", "`directory` of the campaign's snapshots")
	perTask := fs.Int("per-task", 1, "simulations per array task, as submitted")
	verbose := fs.Bool("verbose", false, "print one line per simulation that is not done: id, state, detail")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := cli.Required(fs, "manifest", "outdir"); err != nil {
		return err
	}
	if *perTask < 1 {
		return cli.Usage(fmt.Errorf("--per-task %d: must be at least 1", *perTask))
	}
	if err := checkFlagPath("--manifest", *manifest, false); err != nil {
		return err
	}
	if err := checkFlagPath("--outdir", *outdir, true); err != nil {
		return err
	}
	m, err := campaign.ReadFile(*manifest)
	if err != nil {
		return err
	}
	st, err := campaign.Status(m, *outdir, time.Now())
	if err != nil {
		return err
	}
	var n [5]int
	for _, s := range st {
		n[s.State]++
	}
	fmt.Fprintf(w, "%s: %d done, %d running, %d interrupted, %d missing, %d corrupt, %d total\n", *outdir,
		n[campaign.Done], n[campaign.Running], n[campaign.Interrupted], n[campaign.Missing], n[campaign.Corrupt], len(st))
	if *verbose {
		width := 0
		for _, s := range st {
			width = max(width, len(s.Row.ID))
		}
		for _, s := range st {
			if s.State != campaign.Done {
				fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("%-*s  %-11s  %s", width, s.Row.ID, s.State, s.Detail), " "))
			}
		}
	}
	if tasks := campaign.Tasks(st, *perTask); len(tasks) > 0 {
		fmt.Fprintf(w, "resubmit: --array=%s\n", campaign.ArrayList(tasks))
	}
	if notDone := len(st) - n[campaign.Done]; notDone > 0 {
		return incompleteError{notDone, len(st)}
	}
	return nil
}

// checkFlagPath reports a path flag that names nothing, or the wrong kind
// of file, as a usage error.
func checkFlagPath(flagName, path string, wantDir bool) error {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return cli.Usage(fmt.Errorf("%s %s: no such file or directory", flagName, path))
	case err != nil:
		return fmt.Errorf("%s %s: %w", flagName, path, err)
	case wantDir && !st.IsDir():
		return cli.Usage(fmt.Errorf("%s %s: not a directory", flagName, path))
	case !wantDir && st.IsDir():
		return cli.Usage(fmt.Errorf("%s %s: is a directory, want a manifest file", flagName, path))
	}
	return nil
}
