package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/turbindex/turbindex/train/experiment"
	"github.com/turbindex/turbindex/train/search"
)

// TestSearch plans a random search of 3 trials on a tiny campaign, runs
// the trials as array tasks would (one through SLURM_ARRAY_TASK_ID, one
// interrupted and resumed), and summarises it.
func TestSearch(t *testing.T) {
	dir := t.TempDir()
	m, snaps := tinyCampaign(t, dir)
	space := filepath.Join(dir, "space.toml")
	os.WriteFile(space, []byte(`method = "random"
seed = 3
trials = 2
lr = {min = 3e-4, max = 3e-3, scale = "log"}
dropout = [0, 0.3]
filters = [[4, 4], [4, 8]]
dense = [[8], []]
batch = [8, 16]
epochs = [2, 3]
`), 0o666)
	out := filepath.Join(dir, "search")
	plan := []string{"search", "--space", space, "--trials", "3", "--out", out, "--manifest", m, "--snapshots", snaps, "--cache", filepath.Join(dir, "cache")}
	stdout, stderr, code := run(t, "train", plan...)
	if code != 0 || !strings.Contains(stdout, "3 trials (random)") {
		t.Fatalf("plan: %d %s %s", code, stdout, stderr)
	}
	setup, trials, err := search.ReadPlan(out)
	if err != nil || len(trials) != 3 || setup.Task != experiment.Classify {
		t.Fatalf("plan: %+v %v %v", setup, trials, err)
	}
	// Planning again is a no-op; another plan into the same directory is refused.
	if _, stderr, code := run(t, "train", plan...); code != 0 {
		t.Errorf("re-plan: %s", stderr)
	}
	if _, stderr, code := run(t, "train", append(plan[:len(plan):len(plan)], "--seed", "2")...); code == 0 || !strings.Contains(stderr, "already holds another search") {
		t.Errorf("another plan in the same directory: %d %s", code, stderr)
	}
	// Summarising before the trials ran names the ones to run.
	if _, stderr, code := run(t, "train", "search", "--summarise", "--out", out); code == 0 || !strings.Contains(stderr, "--array=0,1,2") {
		t.Errorf("early summarise: %d %s", code, stderr)
	}

	// Trial 0 as an array task.
	cmd := exec.Command(bins["train"], "search", "--out", out, "--log-every", "0s")
	cmd.Env = append(os.Environ(), "SLURM_ARRAY_TASK_ID=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("array task 0: %v\n%s", err, b)
	}
	// Trial 1 interrupted after its first epoch, then resumed by the task.
	cfg1 := setup.Config(trials[1])
	cfg1.Epochs = 1
	if err := experiment.Fit(context.Background(), search.TrialDir(out, 1), cfg1, experiment.FitOptions{}); err != nil {
		t.Fatal(err)
	}
	h1, _ := experiment.ReadHistory(search.TrialDir(out, 1))
	for _, i := range []string{"1", "2"} {
		if stdout, stderr, code := run(t, "train", "search", "--trial", i, "--out", out, "--log-every", "0s"); code != 0 || !strings.Contains(stdout, "trained") {
			t.Fatalf("trial %s: %s %s", i, stdout, stderr)
		}
	}
	h1b, _ := experiment.ReadHistory(search.TrialDir(out, 1))
	if len(h1b) != trials[1].Epochs || h1b[0] != h1[0] {
		t.Errorf("resumed trial 1: history %+v, first epoch was %+v", h1b, h1[0])
	}
	// A finished trial is skipped.
	last, _ := os.ReadFile(filepath.Join(search.TrialDir(out, 0), "last.cnn"))
	if stdout, _, code := run(t, "train", "search", "--trial", "0", "--out", out); code != 0 || !strings.Contains(stdout, "finished already") {
		t.Errorf("rerun of trial 0: %s", stdout)
	}
	if again, _ := os.ReadFile(filepath.Join(search.TrialDir(out, 0), "last.cnn")); string(again) != string(last) {
		t.Error("rerunning a finished trial changed it")
	}
	if _, stderr, code := run(t, "train", "search", "--trial", "3", "--out", out); code == 0 || !strings.Contains(stderr, "trials 0 to 2") {
		t.Errorf("trial 3: %d %s", code, stderr)
	}

	stdout, stderr, code = run(t, "train", "search", "--summarise", "--out", out)
	if code != 0 {
		t.Fatalf("summarise: %s", stderr)
	}
	var w search.Winner
	raw, _ := os.ReadFile(filepath.Join(out, "winner.json"))
	if err := json.Unmarshal(raw, &w); err != nil || w.Holdout == nil || w.Holdout.Split != "holdout" || w.Holdout.Images.N != 96 {
		t.Fatalf("winner.json: %+v %v\n%s", w, err, stdout)
	}
	// The winner has the best validation accuracy of the three, read back
	// from each trial's history; only its run was evaluated on the holdout.
	for i, tr := range trials {
		h, _ := experiment.ReadHistory(search.TrialDir(out, i))
		best := h[0]
		for _, e := range h[:tr.Epochs] {
			if e.ValLoss < best.ValLoss {
				best = e
			}
		}
		if best.ValAcc > w.ValScore {
			t.Errorf("trial %d has validation accuracy %v > the winner's %v", i, best.ValAcc, w.ValScore)
		}
		_, err := os.Stat(filepath.Join(search.TrialDir(out, i), "metrics.json"))
		if (err == nil) != (i == w.Trial) {
			t.Errorf("trial %d (winner %d): metrics.json exists = %v", i, w.Trial, err == nil)
		}
	}
	summary, _ := os.ReadFile(filepath.Join(out, "summary.csv"))
	if lines := strings.Split(strings.TrimSpace(string(summary)), "\n"); len(lines) != 4 || !strings.HasPrefix(lines[0], "trial,lr,dropout,filters,dense,batch,epochs,best_epoch,val_loss,val_accuracy,seconds,rank") {
		t.Errorf("summary.csv:\n%s", summary)
	}
	if _, err := os.Stat(filepath.Join(out, "search.png")); err != nil {
		t.Error(err)
	}
	results, w2, err := search.ReadSummary(out)
	if err != nil || len(results) != 3 || w2.Trial != w.Trial {
		t.Fatalf("ReadSummary: %d results, %+v, %v", len(results), w2, err)
	}
	for _, r := range results {
		if (r.Rank == 1) != (r.Index == w.Trial) || r.Epochs != trials[r.Index].Epochs {
			t.Errorf("summary row %+v (winner %d)", r, w.Trial)
		}
	}

	// A signal (SLURM's --signal before the time limit) stops a trial within the batch under way
	// with exit status 3; running it again resumes it.
	long := filepath.Join(dir, "long.json")
	os.WriteFile(long, []byte(`{"filters": [4, 4], "dense": [], "batch": 32, "epochs": 500}`), 0o666)
	out2 := filepath.Join(dir, "search2")
	if _, stderr, code := run(t, "train", "search", "--space", long, "--out", out2, "--manifest", m, "--snapshots", snaps, "--cache", filepath.Join(dir, "cache")); code != 0 {
		t.Fatal(stderr)
	}
	cmd = exec.Command(bins["train"], "search", "--trial", "0", "--out", out2, "--log-every", "0s")
	stderrPipe, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<16)
	var seen strings.Builder
	for !strings.Contains(seen.String(), `job="epoch 2/500"`) {
		n, err := stderrPipe.Read(buf)
		if err != nil {
			t.Fatalf("trial output ended before epoch 2: %v\n%s", err, seen.String())
		}
		seen.Write(buf[:n])
	}
	cmd.Process.Signal(syscall.SIGUSR1)
	go io.Copy(io.Discard, stderrPipe)
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Fatalf("signalled trial: %v, want exit status 3", err)
	}
	h, err := experiment.ReadHistory(search.TrialDir(out2, 0))
	if err != nil || len(h) < 1 || len(h) > 100 { // it stops within epoch 2 or later, the finished ones saved
		t.Fatalf("signalled trial: %d epochs saved (%v)", len(h), err)
	}
	if _, _, code := run(t, "train", "search", "--summarise", "--out", out2); code == 0 {
		t.Error("summarised an interrupted search")
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"search", "--out", out}, "give one of --space"},
		{[]string{"search", "--out", out, "--summarise", "--trial", "1"}, "give one of"},
		{[]string{"search", "--space", space, "--out", filepath.Join(dir, "s2"), "--manifest", m}, "--space needs --manifest and --snapshots"},
		{[]string{"search", "--trial", "0", "--out", filepath.Join(dir, "none")}, "plan it with train search --space"},
	} {
		_, stderr, code := run(t, "train", tc.args...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q; want %q", tc.args, code, stderr, tc.want)
		}
	}
}
