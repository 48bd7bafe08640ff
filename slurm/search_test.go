package slurm_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSubmitSearchDryRun checks the sbatch commands of submit.sh --search: an array with one
// task per trial of the plan, then the summary after it.
func TestSubmitSearchDryRun(t *testing.T) {
	root := repoRoot(t)
	submit := filepath.Join(root, "slurm", "submit.sh")
	work := t.TempDir()
	env := []string{"SEARCH_DIR=s", "TRAIN=/bin/true"}
	if out, errOut, err := runErr(work, env, submit, "--search", "--dry-run"); err == nil || !strings.Contains(errOut, "holds no planned search") {
		t.Errorf("no plan: %v\n%s%s", err, out, errOut)
	}
	os.MkdirAll(filepath.Join(work, "s"), 0o777)
	os.WriteFile(filepath.Join(work, "s", "search.json"), []byte("{}\n"), 0o666)
	os.WriteFile(filepath.Join(work, "s", "trials.csv"), []byte("trial,lr,dropout,filters,dense,batch,epochs\n"+
		"0,0.001,0.5,4 4,8,16,2\n1,0.001,0.5,4 4,8,16,2\n2,0.001,0.5,4 4,8,16,2\n"), 0o666)
	out, cmds, err := runErr(work, append(env, "THROTTLE=2", "SEARCH_CPUS=3", "SEARCH_GRES=gpu:1"), submit, "--search", "-n")
	if err != nil || out != "search=<search>\nsummarise=<summarise>\n" {
		t.Fatalf("--search: %v\n%s%s", err, out, cmds)
	}
	for _, want := range []string{"--array=0-2%2 ", "--cpus-per-task=3", "--gres=gpu:1", "search.sbatch",
		"--dependency=afterok:\\<search\\> --kill-on-invalid-dep=yes", "--job-name=turbindex-search-summary"} {
		if !strings.Contains(cmds, want) {
			t.Errorf("missing %q in:\n%s", want, cmds)
		}
	}
	if strings.Contains(cmds, "sim-array.sbatch") {
		t.Errorf("--search submitted the simulation array:\n%s", cmds)
	}
	_, cmds, _ = runErr(work, append(env, "ARRAY=1"), submit, "--search", "-n")
	if !strings.Contains(cmds, "--array=1%100 ") {
		t.Errorf("ARRAY=1: %s", cmds)
	}
}

// testSearch runs a tiny hyper-parameter search on the cluster: a campaign of 10 simulations
// at 16³ simulated locally, two trials of 2 epochs as a SLURM array, and the summary job after
// them; then resubmits the array, whose tasks find their trials finished.
func (c *cluster) testSearch(t *testing.T) {
	dir := t.TempDir()
	sim, train := filepath.Join(c.bin, "sim"), filepath.Join(c.bin, "train")
	run(t, dir, nil, sim, "plan", "--preset", "demo", "--grid", "16", "--kolmogorov", "5", "--burgers", "5", "--sweep", "0", "--out", "manifest.csv")
	for k := range 5 {
		run(t, dir, nil, sim, "task", "--manifest", "manifest.csv", "--outdir", "snaps", "--task-id", strconv.Itoa(k), "--per-task", "2")
	}
	os.WriteFile(filepath.Join(dir, "space.json"), []byte(`{"method": "grid", "lr": [1e-3, 3e-3],
		"filters": [[4, 4]], "dense": [[8]], "batch": [16], "epochs": 2}`), 0o666)
	run(t, dir, nil, train, "search", "--space", "space.json", "--manifest", "manifest.csv", "--snapshots", "snaps", "--out", "search")

	start := time.Now()
	ids := c.submit(t, dir, "SEARCH_DIR=search", "SEARCH_CPUS=1", "SEARCH_TIME=00:05:00", "SEARCH_ARGS=--log-every 1s", "--search")
	c.wait(t, dir, 3*time.Minute, ids["search"], ids["summarise"])
	t.Logf("search (2 trials) and summary done %.1f s after submission", time.Since(start).Seconds())
	arr := completed(t, dir, "search array", ids["search"], 2)
	sum := completed(t, dir, "search summary", ids["summarise"], 1)
	for _, r := range arr {
		if len(sum) == 1 && sum[0]["StartTime"] < r["EndTime"] {
			t.Errorf("the summary started at %s, before trial %s ended at %s", sum[0]["StartTime"], r["ArrayTaskId"], r["EndTime"])
		}
	}
	var w struct {
		Trial   int
		LR      float64
		Holdout struct {
			Split  string
			Images struct{ N int }
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "search", "winner.json"))
	if err != nil || json.Unmarshal(raw, &w) != nil || w.Holdout.Split != "holdout" || w.Holdout.Images.N != 96 {
		t.Fatalf("winner.json: %v %s\n%s", err, raw, logs(dir))
	}
	for _, f := range []string{"summary.csv", "search.png", "trial-0000/best.cnn", "trial-0001/best.cnn"} {
		if _, err := os.Stat(filepath.Join(dir, "search", f)); err != nil {
			t.Error(err)
		}
	}

	// Resubmitting the array: each task finds its trial finished.
	ids = c.submit(t, dir, "SEARCH_DIR=search", "SEARCH_CPUS=1", "SEARCH_TIME=00:05:00", "--search")
	c.wait(t, dir, 2*time.Minute, ids["search"], ids["summarise"])
	completed(t, dir, "resubmitted search array", ids["search"], 2)
	completed(t, dir, "resubmitted summary", ids["summarise"], 1)
	if l := logs(dir); strings.Count(l, "finished already") != 2 {
		t.Errorf("resubmitted trials: want 2 'finished already' in the logs:\n%s", l)
	}
	if t.Failed() || testing.Verbose() {
		t.Log(logs(dir))
	}
}
