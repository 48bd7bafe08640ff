package resources

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestDiskFree(t *testing.T) {
	dir := t.TempDir()
	free, err := DiskFree(dir)
	if err != nil || free <= 0 {
		t.Fatalf("DiskFree(%s) = %d, %v", dir, free, err)
	}
	if err := FitDisk("a cache", dir, 1, "r"); err != nil {
		t.Errorf("one byte does not fit: %v", err)
	}
	err = FitDisk("a cache", dir, free+1<<40, "use a bigger disk")
	if !IsTooBig(err) || !strings.Contains(err.Error(), "free disk space under "+dir) || !strings.Contains(err.Error(), "use a bigger disk") {
		t.Errorf("1 TiB more than free: %v", err)
	}
	if _, err := DiskFree(dir + "/none"); err == nil {
		t.Error("DiskFree of a missing directory: no error")
	}
	// A tmpfs of 1 MiB (root only) says about 1 MiB.
	if os.Geteuid() != 0 {
		return
	}
	small := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", small).CombinedOutput(); err != nil {
		t.Logf("mount tmpfs: %v: %s", err, out)
		return
	}
	defer exec.Command("umount", small).Run()
	if free, err := DiskFree(small); err != nil || free != 1<<20 {
		t.Errorf("DiskFree of a 1 MiB tmpfs = %d, %v", free, err)
	}
}
