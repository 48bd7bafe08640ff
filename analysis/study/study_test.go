package study

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/turbindex/turbindex/analysis/report"
	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/sim/driver"
)

// TestRun runs the whole study on a tiny campaign and checks the report:
// every figure it references exists, metrics.json parses and agrees with
// the tables, and each classifier's accuracy is a probability.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	m, err := campaign.Plan(campaign.PlanOptions{Preset: "demo", CampaignSeed: 3, Grid: 32, Kolmogorov: 3, Burgers: 3, Sweep: 16})
	if err != nil {
		t.Fatal(err)
	}
	mpath := filepath.Join(dir, "m.csv")
	if err := campaign.WriteFile(mpath, m, false); err != nil {
		t.Fatal(err)
	}
	snaps := filepath.Join(dir, "snaps")
	os.Mkdir(snaps, 0o777)
	for _, row := range m.Rows {
		if _, err := driver.Run(context.Background(), driver.Turbulence(m.Run(row), campaign.SnapshotPath(snaps, row.ID)), driver.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	o := Defaults()
	o.Manifest, o.Snapshots, o.Out = mpath, snaps, filepath.Join(dir, "report")
	o.Zooms = []float64{0.5, 1, 2}
	os.Mkdir(o.Out, 0o777)
	r, err := Run(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Figures {
		if _, err := os.Stat(filepath.Join(o.Out, f.File)); err != nil {
			t.Errorf("figure %s: %v", f.File, err)
		}
	}
	var back report.Report
	raw, err := os.ReadFile(filepath.Join(o.Out, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Tables) != 3 || len(back.Tables[0].Rows) != 2 {
		t.Fatalf("tables: %+v", back.Tables)
	}
	for i, row := range back.Tables[0].Rows {
		acc := row.Values["accuracy"]
		if acc < 0 || acc > 1 || acc != r.Tables[0].Rows[i].Values["accuracy"] {
			t.Errorf("%s: accuracy %v in metrics.json, %v in the table", row.Method, acc, r.Tables[0].Rows[i].Values["accuracy"])
		}
	}
	if n := back.Tables[1].Rows[0].Values["images"]; n != 48*2 {
		t.Errorf("regression on %v holdout images, want 96 (two sweep simulations)", n)
	}
	if _, err := os.Stat(filepath.Join(o.Out, "index.html")); err != nil {
		t.Error(err)
	}
}
