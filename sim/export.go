package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/turbindex/turbindex/internal/cli"
	"github.com/turbindex/turbindex/sim/export"
)

// exportCmd writes a snapshot's column-density maps (or other fields) as
// FITS, .npy or PNG files and prints their paths.
func exportCmd(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	snap := fs.String("snapshot", "", "snapshot `file` (.tsnap) to export")
	format := fs.String("format", "", "output format: "+strings.Join(export.Formats, ", "))
	out := fs.String("out", "", "output `directory` (created if missing); files are <snapshot>_<field>.<format>")
	names := cli.Strings(export.DefaultFields)
	fs.Var(&names, "fields", "comma-separated `fields` to export (cubes such as density too, except as png)")
	force := fs.Bool("force", false, "replace existing output files")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := cli.Required(fs, "snapshot", "format", "out"); err != nil {
		return err
	}
	if len(names) == 0 {
		return cli.Usage(errors.New("--fields names no field"))
	}
	paths, err := export.Snapshot(*snap, *out, export.Options{Format: *format, Fields: names, Force: *force})
	for _, p := range paths {
		fmt.Fprintln(w, p)
	}
	if errors.Is(err, export.ErrUnknownFormat) || errors.Is(err, export.ErrUnknownField) || errors.Is(err, export.ErrExists) ||
		errors.Is(err, export.ErrNotMap) {
		return cli.Usage(err)
	}
	return err
}
