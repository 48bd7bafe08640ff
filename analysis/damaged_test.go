package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/turbindex/turbindex/campaign"
)

// TestRunMissingSnapshots runs the analysis of a planned campaign none of
// whose simulations ran: it fails at once with one error that counts every
// missing snapshot and names the first 20, and leaves no report directory.
func TestRunMissingSnapshots(t *testing.T) {
	dir := t.TempDir()
	m := filepath.Join(dir, "m.csv")
	plan, err := campaign.Plan(campaign.PlanOptions{Preset: "demo", CampaignSeed: 1, Grid: 16, Kolmogorov: 12, Burgers: 12, Sweep: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := campaign.WriteFile(m, plan, false); err != nil {
		t.Fatal(err)
	}
	snaps := filepath.Join(dir, "snaps")
	os.Mkdir(snaps, 0o777)
	out := filepath.Join(dir, "report")
	_, stderr, code := run(t, "run", "--manifest", m, "--snapshots", snaps, "--out", out)
	if code != 1 || !strings.Contains(stderr, "snapshots in "+snaps+" are not usable") || !strings.Contains(stderr, "… and ") {
		t.Fatalf("analysis of a campaign with no snapshots: exit %d\n%s", code, stderr)
	}
	if n := strings.Count(stderr, "(manifest line"); n != 20 {
		t.Errorf("the error names %d snapshots, want the first 20:\n%s", n, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("the failed analysis left its report directory")
	}
}
