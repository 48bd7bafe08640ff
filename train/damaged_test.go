package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/turbindex/turbindex/campaign"
)

// TestFitDamagedCampaign trains on a campaign with one snapshot corrupt and
// the others missing: train fit fails at once with one error that counts
// and names every unusable snapshot it needs, and leaves no run directory.
func TestFitDamagedCampaign(t *testing.T) {
	dir := t.TempDir()
	m, snaps := filepath.Join(dir, "m.csv"), filepath.Join(dir, "snaps")
	if _, stderr, code := run(t, "sim", "plan", "--preset", "demo", "--grid", "16", "--kolmogorov", "3", "--burgers", "3", "--sweep", "0", "--out", m); code != 0 {
		t.Fatal(stderr)
	}
	if _, stderr, code := run(t, "sim", "task", "--manifest", m, "--outdir", snaps, "--task-id", "0", "--per-task", "1"); code != 0 {
		t.Fatal(stderr)
	}
	man, err := campaign.ReadFile(m)
	if err != nil {
		t.Fatal(err)
	}
	first := campaign.SnapshotPath(snaps, man.Rows[0].ID)
	raw, _ := os.ReadFile(first)
	raw[len(raw)-50] ^= 0xff
	os.WriteFile(first, raw, 0o644)
	out := filepath.Join(dir, "runs", "fit")
	_, stderr, code := run(t, "train", "fit", "--manifest", m, "--snapshots", snaps, "--out", out, "--epochs", "1", "--filters", "4", "--dense", "4")
	if code != 1 || !strings.Contains(stderr, "snapshots in "+snaps+" are not usable") || !strings.Contains(stderr, "1 corrupt") {
		t.Fatalf("fit on a damaged campaign: exit %d\n%s", code, stderr)
	}
	listed := 0
	for _, r := range man.Rows {
		if strings.Contains(stderr, r.ID+" (manifest line") {
			listed++
		}
	}
	if !strings.Contains(stderr, man.Rows[0].ID+" (manifest line") || listed < 3 {
		t.Errorf("the error names %d snapshots, want the corrupt one and every missing one it needs:\n%s", listed, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "runs")); err == nil {
		t.Error("the failed fit left its run directory")
	}
}
