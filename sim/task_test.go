package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/turbindex/turbindex/internal/cli"
)

// planDemo writes a tiny campaign manifest and returns its path.
func planDemo(t *testing.T, dir string, extra ...string) string {
	t.Helper()
	m := filepath.Join(dir, "manifest.csv")
	args := append([]string{"plan", "--preset", "demo", "--grid", "16", "--kolmogorov", "2", "--burgers", "1", "--sweep", "1", "--out", m}, extra...)
	if _, stderr, code := sim(t, args...); code != 0 {
		t.Fatalf("plan: %s", stderr)
	}
	return m
}

// TestTaskIdempotent runs the tasks of a campaign, reruns one (nothing to
// do), damages a snapshot and reruns (it is redone), and checks the status.
func TestTaskIdempotent(t *testing.T) {
	dir := t.TempDir()
	m := planDemo(t, dir)
	snaps := filepath.Join(dir, "snaps")
	for k := range 2 {
		if _, stderr, code := sim(t, "task", "--manifest", m, "--outdir", snaps, "--task-id", strconv.Itoa(k), "--per-task", "2"); code != 0 {
			t.Fatalf("task %d: exit %d\n%s", k, code, stderr)
		}
	}
	if stdout, stderr, code := sim(t, "status", "--manifest", m, "--outdir", snaps); code != 0 {
		t.Fatalf("status after all tasks: exit %d\n%s%s", code, stdout, stderr)
	}
	_, stderr, code := sim(t, "task", "--manifest", m, "--outdir", snaps, "--task-id", "0", "--per-task", "2")
	if code != 0 || strings.Count(stderr, "already done") != 2 || strings.Contains(stderr, "simulation done") {
		t.Fatalf("rerun of a finished task: exit %d\n%s", code, stderr)
	}
	// Damage one snapshot: the task redoes it, and only it.
	names, _ := filepath.Glob(filepath.Join(snaps, "*.tsnap"))
	raw, _ := os.ReadFile(names[0])
	raw[len(raw)-10] ^= 0xff
	os.WriteFile(names[0], raw, 0o644)
	if _, _, code := sim(t, "status", "--manifest", m, "--outdir", snaps); code != 1 {
		t.Errorf("status with a corrupt snapshot: exit %d, want 1", code)
	}
	var all string
	for k := range 2 {
		_, stderr, code := sim(t, "task", "--manifest", m, "--outdir", snaps, "--task-id", strconv.Itoa(k), "--per-task", "2")
		if code != 0 {
			t.Fatalf("task %d: %s", k, stderr)
		}
		all += stderr
	}
	if strings.Count(all, "redoing a corrupt snapshot") != 1 || strings.Count(all, "simulation done") != 1 {
		t.Errorf("after damaging one snapshot the tasks did:\n%s", all)
	}
	if _, _, code := sim(t, "status", "--manifest", m, "--outdir", snaps); code != 0 {
		t.Errorf("status after the redo: exit %d", code)
	}
}

// TestTaskSIGTERMResume stops a task with SIGTERM mid-run, resumes it, and
// compares the snapshots bitwise with an uninterrupted task's.
func TestTaskSIGTERMResume(t *testing.T) {
	dir := t.TempDir()
	m := filepath.Join(dir, "manifest.csv")
	if _, stderr, code := sim(t, "plan", "--preset", "demo", "--grid", "40", "--tend", "4", "--kolmogorov", "1", "--burgers", "1", "--sweep", "0", "--out", m); code != 0 {
		t.Fatal(stderr)
	}
	ref, run := filepath.Join(dir, "ref"), filepath.Join(dir, "run")
	if _, stderr, code := sim(t, "task", "--manifest", m, "--outdir", ref, "--task-id", "0", "--per-task", "2"); code != 0 {
		t.Fatal(stderr)
	}
	args := []string{"task", "--manifest", m, "--outdir", run, "--per-task", "2", "--log-every", "0s"}
	cmd, lines := startSimEnv(t, []string{"SLURM_ARRAY_TASK_ID=0"}, args...)
	signalled := false
	for line := range lines {
		if !signalled && strings.Contains(line, "step=3 ") {
			cmd.Process.Signal(syscall.SIGTERM)
			signalled = true
		}
	}
	if code := exitCode(cmd.Wait()); code != cli.ExitCheckpointed {
		t.Fatalf("task after SIGTERM: exit %d, want %d", code, cli.ExitCheckpointed)
	}
	ckpts, _ := filepath.Glob(filepath.Join(run, "*.ckpt"))
	if len(ckpts) != 2 {
		t.Fatalf("checkpoints after SIGTERM: %v, want both simulations'", ckpts)
	}
	if _, _, code := sim(t, "status", "--manifest", m, "--outdir", run); code != 1 {
		t.Errorf("status of an interrupted campaign: exit %d, want 1", code)
	}
	_, stderr, code := sim(t, append(args, "--task-id", "0")...)
	if code != 0 || strings.Count(stderr, "resumed from checkpoint") != 2 {
		t.Fatalf("resumed task: exit %d\n%s", code, stderr)
	}
	refs, _ := filepath.Glob(filepath.Join(ref, "*.tsnap"))
	for _, r := range refs {
		got := filepath.Join(run, filepath.Base(r))
		if err := sameFields(readFields(t, got), readFields(t, r)); err != nil {
			t.Errorf("%s: resumed differs from uninterrupted: %v", filepath.Base(r), err)
		}
	}
}

func TestTaskBadInput(t *testing.T) {
	dir := t.TempDir()
	m := planDemo(t, dir)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"task", "--outdir", dir, "--task-id", "0"}, "--manifest is required"},
		{[]string{"task", "--manifest", m, "--task-id", "0"}, "--outdir is required"},
		{[]string{"task", "--manifest", m, "--outdir", dir}, "SLURM_ARRAY_TASK_ID"},
		{[]string{"task", "--manifest", m, "--outdir", dir, "--task-id", "9"}, "task 9"},
		{[]string{"task", "--manifest", m, "--outdir", dir, "--task-id", "0", "--per-task", "0"}, "--per-task 0"},
		{[]string{"task", "--manifest", filepath.Join(dir, "none.csv"), "--outdir", dir, "--task-id", "0"}, "none.csv"},
	} {
		_, stderr, code := sim(t, tc.args...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q; want an error mentioning %q", tc.args, code, stderr, tc.want)
		}
	}
}
