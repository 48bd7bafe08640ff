package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/sim/driver"
)

func TestPlanStatusCLI(t *testing.T) {
	dir := t.TempDir()
	man := filepath.Join(dir, "m.csv")
	snaps := filepath.Join(dir, "snaps")
	if err := os.Mkdir(snaps, 0o755); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := sim(t, "plan", "--preset", "demo", "--out", man, "--seed", "9")
	if code != 0 {
		t.Fatalf("plan: exit %d: %s", code, stderr)
	}
	for _, w := range []string{man + ":", "20 simulations", "kolmogorov 8 (6/1/1)", "burgers 8 (6/1/1)", "sweep 4 (2/1/1)", "--array=0-19"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("plan printed %q, want %q in it", stdout, w)
		}
	}
	if strings.Count(stdout, "\n") != 2 || !strings.Contains(stdout, "memory of one simulation: ") || !strings.Contains(stdout, "MiB on 8") {
		t.Errorf("plan printed %q, want two lines: the campaign, the memory of one simulation", stdout)
	}
	m, err := campaign.ReadFile(man)
	if err != nil || len(m.Rows) != 20 || m.Params.CampaignSeed != 9 || m.Params.Grid != 32 {
		t.Fatalf("manifest: %v %+v", err, m)
	}

	// Nothing has run: every task must be resubmitted.
	for _, tc := range []struct {
		perTask string
		array   string
	}{{"1", "0-19"}, {"3", "0-6"}, {"20", "0"}} {
		stdout, stderr, code = sim(t, "status", "--manifest", man, "--outdir", snaps, "--per-task", tc.perTask)
		if code != 1 {
			t.Errorf("status --per-task %s of an empty outdir: exit %d, want 1", tc.perTask, code)
		}
		if !strings.Contains(stdout, "0 done, 0 running, 0 interrupted, 20 missing, 0 corrupt, 20 total") ||
			!strings.Contains(stdout, "\nresubmit: --array="+tc.array+"\n") {
			t.Errorf("status --per-task %s printed %q", tc.perTask, stdout)
		}
		if strings.TrimSpace(stderr) != "sim status: campaign incomplete: 20 of 20 simulations not done" {
			t.Errorf("status stderr %q", stderr)
		}
	}
	stdout, _, _ = sim(t, "status", "--manifest", man, "--outdir", snaps, "--verbose")
	if n := strings.Count(stdout, " missing\n"); n != 20 || !strings.Contains(stdout, "\nsweep-0003") {
		t.Errorf("status --verbose: %d missing lines: %q", n, stdout)
	}

	// Refuses to overwrite the manifest without --force.
	if _, stderr, code := sim(t, "plan", "--preset", "demo", "--out", man, "--seed", "10"); code != 2 || !strings.Contains(stderr, "already exists") || !strings.Contains(stderr, "--force") {
		t.Errorf("plan over an existing manifest: exit %d, %q", code, stderr)
	}
	if m2, _ := campaign.ReadFile(man); m2.Params.CampaignSeed != 9 {
		t.Error("the refused plan changed the manifest")
	}
	if _, stderr, code := sim(t, "plan", "--preset", "demo", "--out", man, "--seed", "10", "--force"); code != 0 {
		t.Errorf("plan --force: exit %d, %q", code, stderr)
	}

	// A malformed manifest: exit 1, the error names file and line.
	bad := filepath.Join(dir, "bad.csv")
	raw, _ := os.ReadFile(man)
	os.WriteFile(bad, []byte(strings.Replace(string(raw), "id,class,index,seed,split", "id,class,index,split", 1)), 0o644)
	_, stderr, code = sim(t, "status", "--manifest", bad, "--outdir", snaps)
	if code != 1 || !strings.Contains(stderr, bad+":16: ") || !strings.Contains(stderr, `missing column "seed"`) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("status of a malformed manifest: exit %d, %q", code, stderr)
	}
}

// TestPlanStatusComplete runs the only row of a one-simulation campaign
// from its manifest Config and checks that status calls it done.
func TestPlanStatusComplete(t *testing.T) {
	dir := t.TempDir()
	man := filepath.Join(dir, "m.csv")
	if _, stderr, code := sim(t, "plan", "--preset", "demo", "--kolmogorov", "1", "--burgers", "0", "--sweep", "0",
		"--grid", "16", "--tend", "0.05", "--fields", "density", "--out", man); code != 0 {
		t.Fatalf("plan: exit %d: %s", code, stderr)
	}
	m, err := campaign.ReadFile(man)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := driver.Run(context.Background(), driver.Turbulence(m.Run(m.Rows[0]), campaign.SnapshotPath(dir, m.Rows[0].ID)), driver.Options{}); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := sim(t, "status", "--manifest", man, "--outdir", dir, "--verbose")
	if code != 0 || stderr != "" || !strings.Contains(stdout, "1 done, 0 running, 0 interrupted, 0 missing, 0 corrupt, 1 total") || strings.Contains(stdout, "resubmit") {
		t.Errorf("status of a complete campaign: exit %d, %q, %q", code, stdout, stderr)
	}
}

func TestPlanStatusBadFlags(t *testing.T) {
	dir := t.TempDir()
	man := filepath.Join(dir, "m.csv")
	if _, stderr, code := sim(t, "plan", "--preset", "demo", "--out", man); code != 0 {
		t.Fatalf("plan: %s", stderr)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"plan", "--grid", "abc"}, "-grid"},
		{[]string{"plan", "--bogus"}, "-bogus"},
		{[]string{"plan", "extra"}, `unexpected argument "extra"`},
		{[]string{"plan", "--preset", "huge", "--out", filepath.Join(dir, "x.csv")}, `--preset "huge"`},
		{[]string{"plan", "--preset", "demo", "--grid", "8", "--out", filepath.Join(dir, "x.csv")}, "--grid 8"},
		{[]string{"plan", "--preset", "demo", "--tend", "-1", "--out", filepath.Join(dir, "x.csv")}, "--tend -1"},
		{[]string{"plan", "--preset", "demo", "--sweep", "-4", "--out", filepath.Join(dir, "x.csv")}, "--sweep -4"},
		{[]string{"plan", "--preset", "demo", "--fields", "pressure", "--out", filepath.Join(dir, "x.csv")}, "--fields pressure"},
		{[]string{"plan", "--preset", "demo", "--out", filepath.Join(dir, "nodir", "x.csv")}, "does not exist"},
		{[]string{"status", "--outdir", dir}, "--manifest is required"},
		{[]string{"status", "--manifest", man}, "--outdir is required"},
		{[]string{"status", "--manifest", man, "--outdir", dir, "--per-task", "0"}, "--per-task 0"},
		{[]string{"status", "--manifest", man, "--outdir", dir, "--per-task", "x"}, "-per-task"},
		{[]string{"status", "--manifest", filepath.Join(dir, "nope.csv"), "--outdir", dir}, "--manifest"},
		{[]string{"status", "--manifest", man, "--outdir", filepath.Join(dir, "nope")}, "--outdir"},
		{[]string{"status", "--manifest", man, "--outdir", man}, "not a directory"},
	} {
		_, stderr, code := sim(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("sim %s: exit %d, %q; want exit 2 and one line containing %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.csv")); err == nil {
		t.Error("a rejected plan wrote its manifest")
	}
}
