package snapshot

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
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
	if err := checkTarget(path, force); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := createTemp(path)
	if err != nil {
		return fmt.Errorf("write %s: create temporary file in %s: %w", path, dir, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := writeTo(tmp, h, fields); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// Checked again: the target may have appeared during a long encode.
	if err := checkTarget(path, force); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	renamed = true
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("write %s: file is in place but the directory sync failed: %w", path, err)
	}
	return nil
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
// meant to reject a bad output path before a long run. It probes
// writability by creating and removing a temporary file, which is the
// only test that is right for ACLs, read-only mounts and root alike.
func CheckWritable(path string, force bool) error {
	if err := checkTarget(path, force); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := createTemp(path)
	if err != nil {
		return fmt.Errorf("write %s: directory %s is not writable: %w", path, dir, err)
	}
	f.Close()
	if err := os.Remove(f.Name()); err != nil {
		return fmt.Errorf("write %s: remove probe file: %w", path, err)
	}
	return nil
}

// checkTarget checks that path's directory exists and that path is absent,
// or present as a non-directory with force.
func checkTarget(path string, force bool) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("write %s: directory %s does not exist", path, dir)
	case err != nil:
		return fmt.Errorf("write %s: %w", path, err)
	case !st.IsDir():
		return fmt.Errorf("write %s: %s is not a directory", path, dir)
	}
	st, err = os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("write %s: %w", path, err)
	case st.IsDir():
		return fmt.Errorf("write %s: is a directory", path)
	case !force:
		return fmt.Errorf("write %s: file already exists (refusing to overwrite without force)", path)
	}
	return nil
}

// createTemp creates a new hidden file next to path. Unlike os.CreateTemp
// it uses mode 0666, so the final file gets the usual umask-derived
// permissions instead of 0600.
func createTemp(path string) (*os.File, error) {
	dir, base := filepath.Split(path)
	for range 100 {
		name := filepath.Join(dir, "."+base+"."+strconv.FormatUint(rand.Uint64(), 36)+".tmp")
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, errors.New("no unused temporary file name")
}

// syncDir fsyncs a directory so that a rename in it is durable. File
// systems that cannot sync directories (EINVAL, ENOTSUP) are not an error:
// there is nothing more a program can do on them.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		return nil
	}
	return err
}
