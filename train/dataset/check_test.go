package dataset

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/turbindex/turbindex/campaign"
)

// TestCheckListsAll damages three snapshots of a campaign three ways
// (missing, a flipped byte in a Σ map, another run's snapshot) and checks
// that one error counts and names all three, before Load does any work;
// then a campaign with more bad snapshots than MaxListed is counted whole
// and listed in part.
func TestCheckListsAll(t *testing.T) {
	m, fix := campaignFixture(t)
	dir := copyDir(t, fix)
	gone, flipped, swapped := m.Rows[0], m.Rows[2], m.Rows[5]
	if err := os.Remove(campaign.SnapshotPath(dir, gone.ID)); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(campaign.SnapshotPath(dir, flipped.ID))
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-100] ^= 0x5a // the fixture stores only the Σ maps: the last bytes are theirs
	os.WriteFile(campaign.SnapshotPath(dir, flipped.ID), raw, 0o644)
	other, _ := os.ReadFile(campaign.SnapshotPath(dir, m.Rows[1].ID))
	os.WriteFile(campaign.SnapshotPath(dir, swapped.ID), other, 0o644)

	err = Check(m, dir, m.Rows, Options{Workers: 3})
	mustContain(t, "Check", err, fmt.Sprintf("3 of %d snapshots", len(m.Rows)), "1 missing, 2 corrupt",
		gone.ID, flipped.ID, swapped.ID, fmt.Sprintf("manifest line %d", gone.Line), "sim status")
	cache := t.TempDir() + "/cache"
	_, lerr := Load(m, dir, Options{Cache: cache})
	if lerr == nil || lerr.Error() != err.Error() {
		t.Errorf("Load: %v\nwant Check's error", lerr)
	}
	if _, err := os.Stat(cache); err == nil {
		t.Error("Load created its cache directory before refusing the campaign")
	}
	if err := Check(m, fix, m.Rows, Options{Workers: 2}); err != nil {
		t.Errorf("the intact campaign: %v", err)
	}

	big, err := campaign.Plan(campaign.PlanOptions{Preset: "demo", CampaignSeed: 3, Grid: 16, Kolmogorov: 25, Burgers: 0, Sweep: 0})
	if err != nil {
		t.Fatal(err)
	}
	err = Check(big, t.TempDir(), big.Rows, Options{})
	mustContain(t, "25 missing", err, "25 of 25 snapshots", "25 missing, 0 corrupt", "… and 5 more")
	if n := strings.Count(err.Error(), "(manifest line"); n != MaxListed {
		t.Errorf("the error names %d snapshots, want %d", n, MaxListed)
	}
}
