package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/sim/driver"
)

// campaignIn plans the campaign o in dir, writes its manifest dir/m.csv
// and, if simulate, runs every simulation into dir/snaps. It returns the
// manifest's path, the snapshot directory and the plan.
func campaignIn(t *testing.T, dir string, o campaign.PlanOptions, simulate bool) (string, string, *campaign.Manifest) {
	t.Helper()
	m, err := campaign.Plan(o)
	if err != nil {
		t.Fatal(err)
	}
	mpath, snaps := filepath.Join(dir, "m.csv"), filepath.Join(dir, "snaps")
	if err := os.MkdirAll(snaps, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := campaign.WriteFile(mpath, m, false); err != nil {
		t.Fatal(err)
	}
	for _, r := range m.Rows {
		if !simulate {
			break
		}
		if _, err := driver.Run(context.Background(), driver.Turbulence(m.Run(r), campaign.SnapshotPath(snaps, r.ID)), driver.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	return mpath, snaps, m
}

// peakRSS is the peak resident set of the finished cmd, in bytes.
func peakRSS(cmd *exec.Cmd) float64 {
	return float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) * 1024 // KiB on Linux
}
