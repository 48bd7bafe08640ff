// Package export converts the fields of a snapshot (.tsnap) to the formats
// astronomers and notebooks read: FITS images (astropy, DS9), NumPy .npy
// arrays and grayscale PNGs of log10 Σ.
//
// Every file is written atomically (internal/atomicfile). File names are
// <snapshot base name>_<field>.<format extension> in the output directory.
package export

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/turbindex/turbindex/internal/atomicfile"
	"github.com/turbindex/turbindex/sim/snapshot"
)

// Formats lists the output formats, as named on the command line.
var Formats = []string{"fits", "npy", "png"}

// DefaultFields are the fields exported when none are named: the three
// column-density maps.
var DefaultFields = []string{"sigma_x", "sigma_y", "sigma_z"}

// Errors that callers may want to tell apart (errors.Is): a request naming
// something that does not exist is a usage error; an existing output is
// not replaced without Force.
var (
	ErrUnknownFormat = errors.New("unknown format")
	ErrUnknownField  = errors.New("unknown field")
	ErrExists        = errors.New("already exists")
	ErrNotMap        = errors.New("not a 2-D map")
)

// Options select what Snapshot exports.
type Options struct {
	// Format is one of Formats.
	Format string
	// Fields are the fields to export; empty means DefaultFields.
	Fields []string
	// Force replaces existing output files.
	Force bool
}

// Path returns the output file of field of the snapshot snap in dir.
func Path(dir, snap, field, format string) string {
	base := strings.TrimSuffix(filepath.Base(snap), ".tsnap")
	return filepath.Join(dir, base+"_"+field+"."+format)
}

// Snapshot exports the chosen fields of the snapshot at path into dir
// (created if missing) and returns the files written. It checks the format,
// the fields and every output path before writing anything. PNG exports
// 2-D maps only, on one log10 range over all of them.
func Snapshot(path, dir string, opt Options) ([]string, error) {
	if !slices.Contains(Formats, opt.Format) {
		return nil, fmt.Errorf("%w %q (want %s)", ErrUnknownFormat, opt.Format, strings.Join(Formats, ", "))
	}
	names := opt.Fields
	if len(names) == 0 {
		names = DefaultFields
	}
	f, err := snapshot.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var infos []*snapshot.FieldInfo
	var outs []string
	for _, name := range names {
		if slices.ContainsFunc(infos, func(fi *snapshot.FieldInfo) bool { return fi.Name == name }) {
			continue
		}
		fi, err := f.Field(name)
		if err != nil {
			have := make([]string, len(f.Header.Fields))
			for i, fi := range f.Header.Fields {
				have[i] = fi.Name
			}
			return nil, fmt.Errorf("%w %q in %s (it has %s)", ErrUnknownField, name, path, strings.Join(have, ", "))
		}
		if opt.Format == "png" && len(fi.Shape) != 2 {
			return nil, fmt.Errorf("png: field %q is %w (shape %v); export cubes as fits or npy", name, ErrNotMap, fi.Shape)
		}
		out := Path(dir, path, name, opt.Format)
		if !opt.Force {
			if _, err := os.Lstat(out); err == nil {
				return nil, fmt.Errorf("%s %w (use --force to replace it)", out, ErrExists)
			}
		}
		infos = append(infos, fi)
		outs = append(outs, out)
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	data := make([][]float32, len(infos))
	for i, fi := range infos {
		if data[i], err = f.Read(fi.Name); err != nil {
			return nil, err
		}
	}
	var lo, hi float64
	if opt.Format == "png" {
		if lo, hi, err = LogRange(data...); err != nil {
			return nil, fmt.Errorf("png %s: %w", path, err)
		}
	}
	for i, fi := range infos {
		var b []byte
		switch opt.Format {
		case "fits":
			b, err = FITS(&f.Header, fi, data[i])
		case "npy":
			b, err = NPY(fi.Shape, data[i])
		case "png":
			b, err = PNG(fi.Shape, data[i], lo, hi, [][2]string{
				{"field", fi.Name},
				{"rows", fi.Axes[0] + " (first row at the top)"},
				{"columns", fi.Axes[1]},
				{"snapshot", filepath.Base(path)},
				{"Software", "turbindex sim export"},
			})
		}
		if err != nil {
			return outs[:i], fmt.Errorf("export %s: %w", outs[i], err)
		}
		err = atomicfile.Write(outs[i], opt.Force, func(w *os.File) error {
			_, err := w.Write(b)
			return err
		})
		if err != nil {
			return outs[:i], err
		}
	}
	return outs, nil
}
