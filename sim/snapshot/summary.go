package snapshot

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// parsecCm is one parsec in cm (IAU 2015 B2).
const parsecCm = 3.0856775814913673e18

// WriteSummary writes a human-readable summary of f's header to w, for
// `sim inspect`: problem, code version, grid (cells), box (pc), time (Myr),
// steps, wall time, ranks and decomposition, then one line per field with
// its name, unit, shape, number of chunks, stored size (MB = 10^6 bytes)
// and compression ratio (raw bytes / stored bytes). It reads no chunk data.
func WriteSummary(w io.Writer, f *File) error {
	h := &f.Header
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "file\t%s\n", f.Path)
	fmt.Fprintf(tw, "problem\t%s\n", h.Problem)
	fmt.Fprintf(tw, "code version\t%s\n", h.CodeVersion)
	fmt.Fprintf(tw, "grid\t%d x %d x %d cells\n", h.Grid[0], h.Grid[1], h.Grid[2])
	fmt.Fprintf(tw, "box\t%.4g x %.4g x %.4g pc\n", h.BoxCm[0]/parsecCm, h.BoxCm[1]/parsecCm, h.BoxCm[2]/parsecCm)
	fmt.Fprintf(tw, "time\t%.6g Myr (%.6g s)\n", h.TimeMyr, h.TimeS)
	fmt.Fprintf(tw, "steps\t%d\n", h.Steps)
	fmt.Fprintf(tw, "wall time\t%s (%.1f s)\n", wallDuration(h.WallSeconds), h.WallSeconds)
	fmt.Fprintf(tw, "ranks\t%d (%d x %d x %d)\n", h.Ranks, h.Decomposition[0], h.Decomposition[1], h.Decomposition[2])
	if err := tw.Flush(); err != nil {
		return err
	}

	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\nfield\tunit\tshape\tchunks\tstored MB\tratio\n")
	var rawAll, storedAll uint64
	for _, fi := range h.Fields {
		raw, stored := fieldBytes(&fi)
		rawAll += raw
		storedAll += stored
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.3f\t%s\n", fi.Name, fi.Unit, shapeString(fi.Shape), len(fi.Chunks),
			float64(stored)/1e6, ratio(raw, stored))
	}
	fmt.Fprintf(tw, "total\t\t\t\t%.3f\t%s\n", float64(storedAll)/1e6, ratio(rawAll, storedAll))
	return tw.Flush()
}

// fieldBytes returns the raw and stored sizes of a field, in bytes.
func fieldBytes(fi *FieldInfo) (raw, stored uint64) {
	for _, c := range fi.Chunks {
		raw += c.RawBytes
		stored += c.StoredBytes
	}
	return raw, stored
}

// ratio formats raw/stored, or "-" when nothing is stored.
func ratio(raw, stored uint64) string {
	if stored == 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(raw)/float64(stored), 'f', 2, 64)
}

// shapeString formats a shape as "256x256x256".
func shapeString(shape []int) string {
	parts := make([]string, len(shape))
	for i, s := range shape {
		parts[i] = strconv.Itoa(s)
	}
	return strings.Join(parts, "x")
}

// wallDuration formats a wall time in seconds as a duration rounded to
// the second, or "?" when it is not a sensible duration.
func wallDuration(s float64) string {
	if !(s >= 0 && s < 1e9) {
		return "?"
	}
	return time.Duration(s * float64(time.Second)).Round(time.Second).String()
}
