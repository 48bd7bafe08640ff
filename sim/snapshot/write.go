package snapshot

import (
	"os"

	"github.com/turbindex/turbindex/internal/atomicfile"
)

// Write encodes h and fields into path atomically: it writes a temporary
// file in the same directory (named "." + base name + random + ".tmp"),
// fsyncs it, renames it to path and fsyncs the directory, so path either
// keeps its old content or holds the complete new file, even across a
// crash. If path exists and force is false, Write fails before doing any
// work with an error that names path. On any failure the temporary file
// is removed.
//
// Chunks are compressed concurrently (at most GOMAXPROCS at a time) and
// streamed to disk in order, so memory stays bounded by a few chunks; the
// output is deterministic: the same inputs give identical bytes, the same
// bytes Encode writes. h.Format, h.Version and h.Fields are filled in by
// Write; h itself is not modified.
func Write(path string, h Header, fields []Array, force bool) error {
	return atomicfile.Write(path, force, func(f *os.File) error { return writeTo(f, h, fields) })
}

// writeTo encodes the file into f with positioned writes and fsyncs it.
func writeTo(f *os.File, h Header, fields []Array) error {
	hdr, err := encode(h, fields, func(pos int64, stored []byte) error {
		_, err := f.WriteAt(stored, pos)
		return err
	})
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(hdr, 0); err != nil {
		return err
	}
	return f.Sync()
}

// CheckWritable reports, without creating anything permanent, whether
// path could be written by Write: its directory exists and is writable,
// and path does not exist unless force (and is not a directory). It is
// meant to reject a bad output path before a long run.
func CheckWritable(path string, force bool) error { return atomicfile.CheckWritable(path, force) }
