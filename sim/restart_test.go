package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/turbindex/turbindex/internal/cli"
	"github.com/turbindex/turbindex/sim/snapshot"
)

// startSim starts sim with args and returns the command and a channel of
// its stderr lines.
func startSim(t *testing.T, args ...string) (*exec.Cmd, <-chan string) {
	t.Helper()
	return startSimEnv(t, nil, args...)
}

// startSimEnv is startSim with extra environment variables.
func startSimEnv(t *testing.T, env []string, args ...string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := exec.Command(simBin, args...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1000)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		io.Copy(io.Discard, stderr)
	}()
	return cmd, lines
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestSIGTERMResume stops a running simulation with SIGTERM (what SLURM
// sends at the time limit), checks that it saved a checkpoint and exited
// with status 3, resumes it, and compares the result bitwise with an
// uninterrupted run.
func TestSIGTERMResume(t *testing.T) {
	dir := t.TempDir()
	common := []string{"run", "--grid", "40", "--tend", "4", "--ranks", "2", "--fields", "density,velocity", "--log-every", "0s"}
	ref := filepath.Join(dir, "ref.tsnap")
	if _, stderr, code := sim(t, append(common, "--out", ref)...); code != 0 {
		t.Fatal(stderr)
	}
	out, ckpt := filepath.Join(dir, "run.tsnap"), filepath.Join(dir, "run.ckpt")
	args := append(common, "--out", out, "--checkpoint", ckpt)
	cmd, lines := startSim(t, args...)
	signalled := false
	for line := range lines {
		if !signalled && strings.Contains(line, "step=4 ") {
			cmd.Process.Signal(syscall.SIGTERM)
			signalled = true
		}
	}
	if code := exitCode(cmd.Wait()); code != cli.ExitCheckpointed || !signalled {
		t.Fatalf("after SIGTERM: exit %d (signalled %v), want %d", code, signalled, cli.ExitCheckpointed)
	}
	if _, err := os.Stat(ckpt); err != nil {
		t.Fatalf("no checkpoint after SIGTERM: %v", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("a snapshot was written by the stopped run")
	}
	_, stderr, code := sim(t, append(args, "--ranks", "3")...)
	if code != 0 || !strings.Contains(stderr, "resumed from checkpoint") {
		t.Fatalf("resume: exit %d:\n%s", code, stderr)
	}
	if err := sameFields(readFields(t, out), readFields(t, ref)); err != nil {
		t.Errorf("resumed run differs from the uninterrupted one: %v", err)
	}
	if _, err := os.Stat(ckpt); err == nil {
		t.Error("checkpoint left after the run completed")
	}
}

// TestSIGKILLMidWrite kills sim the moment its snapshot's temporary file
// appears, that is while it writes: no file under the output name may be
// visible, or only a complete one, and the rerun completes.
func TestSIGKILLMidWrite(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "run.tsnap")
	args := []string{"run", "--grid", "64", "--ranks", "2", "--fields", "density,velocity", "--out", out, "--log-every", "0s"}
	cmd, lines := startSim(t, args...)
	// The last progress line (100 %) comes just before the snapshot is
	// written; from then on the temporary file that appears is the
	// snapshot's (earlier ones are the output-writability probe).
	stepsDone := make(chan struct{})
	go func() {
		closed := false
		for line := range lines {
			if !closed && strings.Contains(line, "percent=100") {
				close(stepsDone)
				closed = true
			}
		}
	}()
	select {
	case <-stepsDone:
	case <-time.After(time.Minute):
		t.Fatal("the run never finished its steps")
	}
	killed := false
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		matches, _ := filepath.Glob(filepath.Join(dir, ".run.tsnap.*.tmp"))
		if len(matches) > 0 {
			cmd.Process.Signal(syscall.SIGKILL)
			killed = true
			break
		}
		if _, err := os.Stat(out); err == nil {
			break // finished before we saw the temporary file
		}
		time.Sleep(100 * time.Microsecond)
	}
	cmd.Wait()
	if !killed {
		t.Log("the write finished before the temporary file was seen; checking the result only")
	}
	if _, err := os.Stat(out); err == nil {
		// The write may have finished between seeing the file and the kill;
		// then the file must be complete.
		f, err := snapshot.Open(out)
		if err == nil {
			err = f.Verify()
			f.Close()
		}
		if err != nil {
			t.Fatalf("a corrupt snapshot is visible after SIGKILL: %v", err)
		}
	}
	if _, stderr, code := sim(t, append(args, "--force")...); code != 0 {
		t.Fatalf("rerun after SIGKILL: %s", stderr)
	}
	f, err := snapshot.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Verify(); err != nil {
		t.Fatal(err)
	}
}
