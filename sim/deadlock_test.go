package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/turbindex/turbindex/campaign"
)

// TestStatusKilledTask kills a running sim task with SIGKILL (no chance to
// release its lock) and asks sim status at once: the row is interrupted,
// not running, because the lock names a process of this host that no
// longer exists. A lock of another host, just as fresh, still counts as
// running (only its heartbeat can tell).
func TestStatusKilledTask(t *testing.T) {
	dir := t.TempDir()
	m := planDemo(t, dir, "--grid", "32")
	snaps := filepath.Join(dir, "snaps")
	cmd, lines := startSim(t, "task", "--manifest", m, "--outdir", snaps, "--task-id", "0", "--log-every", "0s")
	for line := range lines {
		if strings.Contains(line, `msg="simulation started"`) {
			break
		}
	}
	if _, err := os.Stat(campaign.LockPath(snaps, "kolmogorov-0000")); err != nil {
		t.Fatalf("no lock while the task runs: %v", err)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	os.WriteFile(campaign.LockPath(snaps, "kolmogorov-0001"), []byte("host=elsewhere pid=1 job=7_3\n"), 0o666)
	stdout, _, code := sim(t, "status", "--manifest", m, "--outdir", snaps, "--verbose")
	if code != 1 || !strings.Contains(stdout, "0 done, 1 running, 1 interrupted, 2 missing") {
		t.Errorf("status right after the kill: exit %d\n%s", code, stdout)
	}
	for _, want := range []string{"no longer exists", "job=7_3"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("status does not say %q:\n%s", want, stdout)
		}
	}
	// A rerun takes the dead process's lock over at once and finishes.
	if _, stderr, code := sim(t, "task", "--manifest", m, "--outdir", snaps, "--task-id", "0"); code != 0 {
		t.Errorf("rerun after the kill: exit %d\n%s", code, stderr)
	}
}
