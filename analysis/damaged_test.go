package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/turbindex/turbindex/campaign"
)

// TestRunMissingSnapshots runs the analysis of a planned campaign none of
// whose simulations ran: it fails at once with one error that counts every
// missing snapshot and names the first 20, and leaves no report directory.
func TestRunMissingSnapshots(t *testing.T) {
	dir := t.TempDir()
	m, snaps, _ := campaignIn(t, dir, campaign.PlanOptions{Preset: "demo", CampaignSeed: 1, Grid: 16, Kolmogorov: 12, Burgers: 12, Sweep: 4}, false)
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

// TestRunSignal stops `analysis run` with SIGTERM (what SLURM sends at a
// job's time limit) while it computes the features: it exits with status
// 1, says which signal stopped it, and leaves no report directory. (Runs
// left alone write their reports with the same watch in place: see
// TestRunMemory.)
func TestRunSignal(t *testing.T) {
	dir := t.TempDir()
	m, snaps, _ := campaignIn(t, dir, campaign.PlanOptions{Preset: "demo", CampaignSeed: 4, Grid: 16, Kolmogorov: 6, Burgers: 6, Sweep: 4}, true)
	out := filepath.Join(dir, "report")
	args := []string{"run", "--manifest", m, "--snapshots", snaps, "--image-size", "160", "--out", out}
	cmd := exec.Command(bin, args...)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(stderr.String(), "job=features") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no features progress after a minute:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatalf("the report directory does not exist while the features are computed: %v", err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(stderr.String(), "analysis run: terminated: stopped, "+out+" removed") {
		t.Errorf("SIGTERM: %v; want exit status 1 and a line saying so:\n%s", err, stderr.String())
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("the stopped analysis left %s", out)
	}
}

// syncBuffer is a bytes.Buffer safe to read while a child writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
