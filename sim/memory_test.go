package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/turbindex/turbindex/internal/resources"
	"github.com/turbindex/turbindex/sim/driver"
)

// peakRSS runs the sim binary with args and returns its peak resident
// memory (bytes, from the kernel's rusage of the child) and its stderr.
func peakRSS(t *testing.T, args ...string) (int64, string) {
	t.Helper()
	return peakRSSEnv(t, nil, args...)
}

// peakRSSEnv is peakRSS with env added to the child's environment.
func peakRSSEnv(t *testing.T, env []string, args ...string) (int64, string) {
	t.Helper()
	cmd := exec.Command(simBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sim %v: %v\n%s", args, err, stderr.String())
	}
	return cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024, stderr.String() // KiB on Linux
}

// TestEstimateMemoryMatchesRSS compares the estimate of a simulation's
// peak memory with the peak RSS of sim run at two sizes on one and two
// ranks, with and without cube fields, compressing with one CPU and with
// up to eight (GOMAXPROCS, which sim lowers to the CPUs it may use; each
// concurrent chunk holds a zstd encoder): within 25 %. The runs stop after a step or two, since the peak is reached in the
// set-up, the first step or the snapshot.
func TestEstimateMemoryMatchesRSS(t *testing.T) {
	dir := t.TempDir()
	lim, err := resources.Detect()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		grid, ranks int
		fields      string
		procs       int
	}{
		{32, 1, "", 1}, {32, 2, "density,velocity", 8}, {64, 1, "density,velocity", 1},
		{64, 1, "density,velocity", 8}, {64, 2, "", 4}, {96, 1, "density,velocity", 8},
	} {
		cfg := driver.Defaults()
		cfg.Grid, cfg.Ranks = tc.grid, tc.ranks
		if tc.fields != "" {
			cfg.Fields = strings.Split(tc.fields, ",")
		}
		tc.procs = min(tc.procs, lim.CPUs)
		m, err := cfg.EstimateMemoryOn(false, tc.procs)
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"run", "--grid", fmt.Sprint(tc.grid), "--ranks", fmt.Sprint(tc.ranks), "--tend", "0.01",
			"--out", filepath.Join(dir, "m.tsnap"), "--force", "--log-every", "0s"}
		if tc.fields != "" {
			args = append(args, "--fields", tc.fields)
		}
		rss, _ := peakRSSEnv(t, []string{fmt.Sprintf("GOMAXPROCS=%d", tc.procs)}, args...)
		ratio := float64(m.Total) / float64(rss)
		t.Logf("%d³ on %d ranks, fields %q, %d CPUs: estimate %.1f MiB, peak RSS %.1f MiB, ratio %.2f",
			tc.grid, tc.ranks, tc.fields, tc.procs, float64(m.Total)/(1<<20), float64(rss)/(1<<20), ratio)
		if ratio < 0.75 || ratio > 1.25 {
			t.Errorf("%d³ on %d ranks, %d CPUs: estimate %d B is not within 25%% of the peak RSS %d B", tc.grid, tc.ranks, tc.procs, m.Total, rss)
		}
	}
}

// TestRunTooBig runs grids that no machine or not this budget can hold:
// each fails at once with one line and exit status 2, and leaves nothing.
func TestRunTooBig(t *testing.T) {
	for _, args := range [][]string{
		{"--grid", "2147483648"},
		{"--grid", "2147483648", "--problem", "uniform"},
		{"--grid", "100000"},
		{"--grid", "2000", "--memory", "1G"},
		{"--grid", "64", "--ranks", "2", "--memory", "20M"},
		{"--grid", "64", "--ranks", "1000000000"},
		{"--grid", "32", "--checkpoint-every", "1e300"},
		{"--grid", "32", "--checkpoint-every", "-1"},
		{"--grid", "32", "--log-every", "-1s"},
		{"--grid", "32", "--memory", "-4G"},
	} {
		dir := t.TempDir()
		args = append([]string{"run", "--out", filepath.Join(dir, "x.tsnap"), "--checkpoint", filepath.Join(dir, "x.ckpt")}, args...)
		_, stderr, code := sim(t, args...)
		if code != 2 || strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
			t.Errorf("%v: exit %d, stderr %q; want one line and exit status 2", args, code, stderr)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("%v left %v behind", args, ents)
		}
	}
	// 2200³ on one rank: 88 B per padded cell in the time loop, ~1.2 TiB.
	_, stderr, _ := sim(t, "run", "--grid", "2200", "--memory", "1G", "--out", filepath.Join(t.TempDir(), "x.tsnap"))
	for _, want := range []string{"needs 1.", "TiB", "may use 1.0 GiB (--memory)", "MPI ranks", "--grid"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("--grid 2200 --memory 1G: %q does not say %q", stderr, want)
		}
	}
}
