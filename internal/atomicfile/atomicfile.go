// Package atomicfile writes files so that a reader sees either the old
// content or the complete new one, never a part: the content goes to a
// hidden temporary file in the same directory, which is synced, renamed into
// place, and the directory synced. Everything turbindex writes for others to
// read (snapshots, manifests, caches, figures) goes through it.
package atomicfile

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

// Write creates path atomically with the content fn writes to the open
// temporary file. Without force an existing path is an error (checked
// before fn runs and again before the rename). On any failure the
// temporary file is removed. The file gets mode 0666 less the umask.
func Write(path string, force bool, fn func(f *os.File) error) error {
	if err := CheckTarget(path, force); err != nil {
		return err
	}
	tmp, err := CreateTemp(path)
	if err != nil {
		return fmt.Errorf("write %s: create temporary file in %s: %w", path, filepath.Dir(path), err)
	}
	renamed := false
	defer func() {
		if !renamed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := fn(tmp); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := Commit(tmp.Name(), path, force); err != nil {
		return err
	}
	renamed = true
	return nil
}

// Commit renames the finished temporary file tmp to path and syncs the
// directory. Without force it refuses to replace an existing path.
func Commit(tmp, path string, force bool) error {
	if err := CheckTarget(path, force); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("write %s: file is in place but the directory sync failed: %w", path, err)
	}
	return nil
}

// CheckTarget checks that path's directory exists and that path is absent,
// or present as a non-directory with force. An existing path without force
// is an error matching fs.ErrExist.
func CheckTarget(path string, force bool) error {
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
		return fmt.Errorf("write %s: %w (refusing to overwrite without force)", path, fs.ErrExist)
	}
	return nil
}

// CheckWritable reports, without leaving anything behind, whether path
// could be written: CheckTarget, then a probe file created and removed in
// its directory (the only test that is right for ACLs, read-only mounts and
// root alike).
func CheckWritable(path string, force bool) error {
	if err := CheckTarget(path, force); err != nil {
		return err
	}
	f, err := CreateTemp(path)
	if err != nil {
		return fmt.Errorf("write %s: directory %s is not writable: %w", path, filepath.Dir(path), err)
	}
	f.Close()
	if err := os.Remove(f.Name()); err != nil {
		return fmt.Errorf("write %s: remove probe file: %w", path, err)
	}
	return nil
}

// TempName returns the hidden temporary file next to path for token:
// "." + base name + "." + token + ".tmp".
func TempName(path string, token uint64) string {
	dir, base := filepath.Split(path)
	return filepath.Join(dir, "."+base+"."+strconv.FormatUint(token, 36)+".tmp")
}

// CreateTemp creates a new hidden temporary file next to path (a TempName
// with a random token). Unlike os.CreateTemp it uses mode 0666, so the final
// file gets the usual umask-derived permissions instead of 0600.
func CreateTemp(path string) (*os.File, error) {
	for range 100 {
		f, err := os.OpenFile(TempName(path, rand.Uint64()), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, errors.New("no unused temporary file name")
}

// SyncDir fsyncs a directory so that a rename in it is durable. File
// systems that cannot sync directories (EINVAL, ENOTSUP) are not an error:
// there is nothing more a program can do on them.
func SyncDir(dir string) error {
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

// WriteBytes creates path atomically with the concatenation of parts,
// replacing an existing file (the callers regenerate derived files: caches,
// figures, tables).
func WriteBytes(path string, parts ...[]byte) error {
	return Write(path, true, func(f *os.File) error {
		for _, p := range parts {
			if _, err := f.Write(p); err != nil {
				return err
			}
		}
		return nil
	})
}

// UndoMkdir prepares for work that creates the directory dir (with
// os.MkdirAll) and may fail: it finds the topmost of dir and its parents
// that does not exist yet and returns a function that removes it, with
// everything in it, so that a failed run leaves no directory a reader
// could take for a result. When dir exists already the function does
// nothing: what was there stays.
func UndoMkdir(dir string) func() error {
	var top string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); !errors.Is(err, fs.ErrNotExist) {
			break
		}
		top = d
		if filepath.Dir(d) == d {
			break
		}
	}
	return func() error {
		if top == "" {
			return nil
		}
		return os.RemoveAll(top)
	}
}
