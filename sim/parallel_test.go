package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/sim/driver"
)

// maxRunning returns the largest number of simulations a task's log shows
// running at once: "simulation started" lines minus "simulation done"
// lines, in log order (slog writes each line whole).
func maxRunning(log string) int {
	running, most := 0, 0
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		switch {
		case strings.Contains(sc.Text(), `msg="simulation started"`):
			running++
			most = max(most, running)
		case strings.Contains(sc.Text(), `msg="simulation done"`):
			running--
		}
	}
	return most
}

// TestTaskParallel runs 8 rows of a 64³ campaign in one task with
// --parallel 2: never more than 2 run at once (the log says when each
// starts and ends), and the task's peak RSS stays within 2.3 times that of
// one simulation run alone the same way (a task of one row: same
// checkpointing, same runtime). The runs are short (--tend 0.02: one step),
// since the memory peaks in the set-up and the snapshot, not in the steps.
func TestTaskParallel(t *testing.T) {
	dir := t.TempDir()
	m := filepath.Join(dir, "m.csv")
	if _, stderr, code := sim(t, "plan", "--preset", "demo", "--grid", "64", "--tend", "0.02", "--kolmogorov", "8", "--burgers", "0", "--sweep", "0", "--out", m); code != 0 {
		t.Fatal(stderr)
	}
	taskRSS, log := peakRSS(t, "task", "--manifest", m, "--outdir", filepath.Join(dir, "s"), "--task-id", "0", "--per-task", "8", "--parallel", "2", "--log-every", "1h")
	if got := maxRunning(log); got != 2 {
		t.Errorf("at most %d simulations ran at once with --parallel 2, want 2\n%s", got, log)
	}
	if n := strings.Count(log, `msg="simulation done"`); n != 8 {
		t.Errorf("%d simulations done, want 8", n)
	}
	if !strings.Contains(log, `msg="simulations at once" task=0 parallel=2 rows=8 why=--parallel`) {
		t.Errorf("the log does not say the choice of --parallel:\n%s", log)
	}
	m1 := filepath.Join(dir, "m1.csv")
	if _, stderr, code := sim(t, "plan", "--preset", "demo", "--grid", "64", "--tend", "0.02", "--kolmogorov", "1", "--burgers", "0", "--sweep", "0", "--out", m1); code != 0 {
		t.Fatal(stderr)
	}
	oneRSS, _ := peakRSS(t, "task", "--manifest", m1, "--outdir", filepath.Join(dir, "s1"), "--task-id", "0", "--per-task", "1", "--log-every", "1h")
	ratio := float64(taskRSS) / float64(oneRSS)
	t.Logf("peak RSS: task of 8 rows at --parallel 2 %.1f MiB, one simulation %.1f MiB, ratio %.2f", float64(taskRSS)/(1<<20), float64(oneRSS)/(1<<20), ratio)
	if ratio > 2.3 {
		t.Errorf("task peak RSS %.2f times one simulation's, want at most 2.3", ratio)
	}
	// The estimate of two at once (set-ups taking turns, with checkpoints
	// as sim task runs them) is within 25 % of the measured peak.
	cfg := driver.Defaults()
	cfg.Grid = 64
	m2, err := cfg.EstimateMemory(true)
	if err != nil {
		t.Fatal(err)
	}
	est := float64(m2.Concurrent(2)) / float64(taskRSS)
	t.Logf("estimate for 2 at once %.1f MiB, ratio to the task's peak %.2f", float64(m2.Concurrent(2))/(1<<20), est)
	if est < 0.75 || est > 1.25 {
		t.Errorf("estimate for 2 at once %d B is not within 25%% of the task's peak RSS %d B", m2.Concurrent(2), taskRSS)
	}
}

// TestTaskChoosesParallel checks the default --parallel: the CPUs (here
// SLURM_CPUS_PER_TASK) divided by the ranks, lowered when the memory does
// not allow it; and that an explicit --parallel that does not fit, or a
// simulation that does not fit at all, is refused before anything is
// created.
func TestTaskChoosesParallel(t *testing.T) {
	dir := t.TempDir()
	m := planDemo(t, dir)
	run := func(env []string, args ...string) (string, int) {
		cmd := exec.Command(simBin, append([]string{"task", "--manifest", m, "--task-id", "0", "--per-task", "4", "--log-every", "1h"}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return string(out), code
	}
	out, code := run([]string{"SLURM_CPUS_PER_TASK=6"}, "--outdir", filepath.Join(dir, "a"), "--ranks", "2")
	if code != 0 || !strings.Contains(out, `parallel=3 rows=4 why="6 CPUs (SLURM_CPUS_PER_TASK) / 2 ranks per simulation"`) || maxRunning(out) > 3 {
		t.Errorf("6 CPUs, 2 ranks each: exit %d\n%s", code, out)
	}
	// A budget between the estimates for two and for three at once (one
	// CPU compressing, so that the encoders do not depend on this
	// machine) holds two, not four.
	man, err := campaign.ReadFile(m)
	if err != nil {
		t.Fatal(err)
	}
	est, err := driver.Turbulence(man.Run(man.Rows[0]), "").EstimateMemoryOn(true, 1)
	if err != nil {
		t.Fatal(err)
	}
	two := fmt.Sprint((est.Concurrent(2) + est.Concurrent(3)) / 2)
	one := []string{"GOMAXPROCS=1"}
	out, code = run(append(one, "SLURM_CPUS_PER_TASK=4"), "--outdir", filepath.Join(dir, "b"), "--memory", two)
	if code != 0 || !strings.Contains(out, `parallel=2 rows=4 why="memory: `) || maxRunning(out) > 2 {
		t.Errorf("4 CPUs, memory for 2: exit %d\n%s", code, out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--parallel", "4", "--memory", two}, "use --parallel 2 or less"},
		{[]string{"--memory", fmt.Sprint(est.Total * 9 / 10)}, "needs"},
		{[]string{"--parallel", "-1"}, "--parallel -1"},
		{[]string{"--checkpoint-every", "1e300"}, "--checkpoint-every"},
	} {
		out := filepath.Join(dir, "never-"+strings.Join(tc.args, ""))
		stdout, code := run(one, append(tc.args, "--outdir", out)...)
		if code != 2 || !strings.Contains(stdout, tc.want) || strings.Count(stdout, "\n") != 1 || strings.Contains(stdout, "goroutine") {
			t.Errorf("%v: exit %d, %q; want one line with %q and exit status 2", tc.args, code, stdout, tc.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: created %s", tc.args, out)
		}
	}
}

// TestTaskTooBig: a campaign of 2000³ (or 100000³) simulations is refused
// by sim task in one line, exit status 2, before it creates its output
// directory or takes a lock.
func TestTaskTooBig(t *testing.T) {
	for _, grid := range []string{"2000", "100000"} {
		dir := t.TempDir()
		m := filepath.Join(dir, "m.csv")
		if _, stderr, code := sim(t, "plan", "--preset", "demo", "--grid", grid, "--out", m); code != 0 {
			t.Fatalf("plan --grid %s: %s", grid, stderr)
		}
		out := filepath.Join(dir, "snaps")
		_, stderr, code := sim(t, "task", "--manifest", m, "--outdir", out, "--task-id", "0", "--memory", "1G")
		if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "needs") || strings.Contains(stderr, "goroutine") {
			t.Errorf("--grid %s: exit %d, %q", grid, code, stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("--grid %s: the refused task created %s", grid, out)
		}
	}
}
