package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/turbindex/turbindex/internal/cli/clitest"
)

// simUnder runs the sim binary under prefix (from clitest.FullDisk).
func simUnder(t *testing.T, prefix []string, args ...string) (string, string, int) {
	t.Helper()
	if len(prefix) == 0 {
		return sim(t, args...)
	}
	return clitest.Run(t, prefix[0], append(append(prefix[1:len(prefix):len(prefix)], simBin), args...)...)
}

// diskFullError reports whether stderr has the system's error for a full
// disk (tmpfs) or a file over the size limit (prlimit).
func diskFullError(stderr string) bool {
	return strings.Contains(stderr, "no space left on device") || strings.Contains(stderr, "file too large")
}

// TestFullDiskLeavesNothing fills the disk under the snapshot, checkpoint
// and task writers, on one and three ranks: each run fails with the
// system's error and leaves no file behind (no temporary file, no lock).
func TestFullDiskLeavesNothing(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"snapshot, 1 rank", []string{"--fields", "density,velocity"}},
		{"snapshot, 3 ranks", []string{"--fields", "density,velocity", "--ranks", "3"}},
		{"checkpoint, 1 rank", []string{"--checkpoint", "CKPT", "--checkpoint-every", "1e-9"}},
		{"checkpoint, 3 ranks", []string{"--checkpoint", "CKPT", "--checkpoint-every", "1e-9", "--ranks", "3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, prefix := clitest.FullDisk(t, 200<<10)
			args := []string{"run", "--grid", "32", "--tend", "0.05", "--log-every", "1h", "--out", filepath.Join(dir, "a.tsnap")}
			for _, a := range tc.args {
				args = append(args, strings.ReplaceAll(a, "CKPT", filepath.Join(dir, "a.ckpt")))
			}
			_, stderr, code := simUnder(t, prefix, args...)
			if code != 1 || !diskFullError(stderr) || strings.Contains(stderr, "goroutine") {
				t.Errorf("exit %d, %q; want exit status 1 and the system's error", code, stderr)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
	t.Run("task", func(t *testing.T) {
		dir, prefix := clitest.FullDisk(t, 200<<10)
		m := planDemo(t, t.TempDir(), "--fields", "density,velocity", "--grid", "32", "--tend", "0.05")
		_, stderr, code := simUnder(t, prefix, "task", "--manifest", m, "--outdir", dir, "--task-id", "0", "--per-task", "2", "--log-every", "1h")
		if code != 1 || !diskFullError(stderr) || !strings.Contains(stderr, "2 of 2 simulations failed") {
			t.Errorf("exit %d, %q; want exit status 1, both rows failed with the system's error", code, stderr)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("left behind: %v", left)
		}
	})
}
