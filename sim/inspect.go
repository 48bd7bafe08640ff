package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/turbindex/turbindex/internal/cli"
	"github.com/turbindex/turbindex/sim/snapshot"
)

// inspectCmd prints a snapshot's header and, with --verify, decodes every
// chunk and checks its checksum.
func inspectCmd(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the header as JSON (field table and chunk checksums)")
	verify := fs.Bool("verify", false, "decode every chunk and check its checksum")
	// The flags are all boolean, so the file may come before or after them.
	var flags, files []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			flags = append(flags, a)
		} else {
			files = append(files, a)
		}
	}
	if err := cli.Parse(fs, flags); err != nil {
		return err
	}
	if len(files) != 1 {
		return cli.Usage(fmt.Errorf("want exactly one snapshot file, got %d", len(files)))
	}
	path := files[0]
	f, err := snapshot.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if *asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(f.Header); err != nil {
			return err
		}
	} else if err := snapshot.WriteSummary(w, f); err != nil {
		return err
	}
	if *verify {
		if err := f.Verify(); err != nil {
			return err
		}
		fmt.Fprintf(w, "%s: every chunk verified\n", path)
	}
	return nil
}
