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
	fields := fs.String("fields", strings.Join(export.DefaultFields, ","), "comma-separated `fields` to export (cubes such as density too, except as png)")
	force := fs.Bool("force", false, "replace existing output files")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	switch {
	case *snap == "":
		return cli.Usage(errors.New("--snapshot is required"))
	case *format == "":
		return cli.Usage(fmt.Errorf("--format is required (%s)", strings.Join(export.Formats, ", ")))
	case *out == "":
		return cli.Usage(errors.New("--out is required (an output directory)"))
	}
	var names []string
	for _, s := range strings.Split(*fields, ",") {
		if s = strings.TrimSpace(s); s != "" {
			names = append(names, s)
		}
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
