package resources

import (
	"fmt"
	"math"
	"syscall"
)

// DiskFree returns the bytes this process may still write on the file
// system that holds dir: the blocks available to unprivileged users
// (statfs f_bavail) times the block size.
func DiskFree(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("free space under %s: %w", dir, err)
	}
	free := float64(st.Bavail) * float64(st.Bsize)
	if free >= math.MaxInt64 {
		return math.MaxInt64, nil
	}
	return int64(free), nil
}

// FitDisk returns nil if need bytes fit in the free space under dir, else
// a *TooBigError that reads "<what> needs 12 GiB, this process may use
// 3.1 GiB (free disk space under <dir>); <remedy>", refused like work too
// big for the memory (exit status 2), before anything is written.
func FitDisk(what, dir string, need int64, remedy string) error {
	free, err := DiskFree(dir)
	if err != nil {
		return err
	}
	return Limits{Memory: free, MemorySource: "free disk space under " + dir}.Fit(what, need, remedy)
}
