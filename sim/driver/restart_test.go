package driver

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cancelAt is a slog handler that cancels a context once a progress record
// reports step ≥ at: a stand-in for SIGTERM arriving mid-run.
type cancelAt struct {
	at     int64
	cancel context.CancelFunc
}

func (h cancelAt) Enabled(context.Context, slog.Level) bool { return true }
func (h cancelAt) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h cancelAt) WithGroup(string) slog.Handler            { return h }
func (h cancelAt) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "step" && a.Value.Int64() >= h.at {
			h.cancel()
		}
		return true
	})
	return nil
}

// TestResumeIsBitwise stops a run mid-way (twice), resumes it each time with
// a different rank count, and compares the final fields with an
// uninterrupted run bit for bit.
func TestResumeIsBitwise(t *testing.T) {
	cfg := Defaults()
	cfg.Grid = 24
	cfg.TEndMyr = 2
	cfg.Fields = []string{"density", "velocity"}
	cfg.Ranks = 2
	ref, refFile := run(t, cfg)
	want := map[string][]float32{}
	for _, fi := range refFile.Header.Fields {
		want[fi.Name], _ = refFile.Read(fi.Name)
	}

	dir := t.TempDir()
	cfg.Out = filepath.Join(dir, "run.tsnap")
	ckpt := filepath.Join(dir, "run.ckpt")
	for i, stop := range []struct {
		ranks int
		at    int64
	}{{2, 5}, {3, 12}} {
		ctx, cancel := context.WithCancel(context.Background())
		cfg.Ranks = stop.ranks
		_, err := Run(ctx, cfg, Options{Checkpoint: ckpt, Log: slog.New(cancelAt{stop.at, cancel})})
		cancel()
		if !errors.Is(err, ErrCheckpointed) {
			t.Fatalf("segment %d: error %v, want ErrCheckpointed", i, err)
		}
		if _, err := os.Stat(ckpt); err != nil {
			t.Fatalf("segment %d: no checkpoint: %v", i, err)
		}
		if _, err := os.Stat(cfg.Out); err == nil {
			t.Fatalf("segment %d: snapshot written by a stopped run", i)
		}
	}
	cfg.Ranks = 4
	res, f := run(t, cfg, Options{Checkpoint: ckpt})
	if !res.Resumed || res.Restarts != 2 {
		t.Errorf("resumed %v after %d restarts, want true after 2", res.Resumed, res.Restarts)
	}
	if res.Header.Steps != ref.Header.Steps || res.Header.TimeS != ref.Header.TimeS {
		t.Errorf("resumed run: %d steps to %g s, uninterrupted %d to %g s", res.Header.Steps, res.Header.TimeS, ref.Header.Steps, ref.Header.TimeS)
	}
	for name, w := range want {
		got, err := f.Read(name)
		if err != nil {
			t.Fatal(err)
		}
		for i := range w {
			if math.Float32bits(got[i]) != math.Float32bits(w[i]) {
				t.Fatalf("%s[%d] = %v after resuming, %v uninterrupted", name, i, got[i], w[i])
			}
		}
	}
	if res.MassStart != ref.MassStart {
		t.Errorf("initial mass %v carried across restarts, want %v", res.MassStart, ref.MassStart)
	}
	if left, _ := os.ReadDir(dir); len(left) != 1 {
		t.Errorf("left in the output directory: %v, want only the snapshot", left)
	}
}

// TestCheckpointOfAnotherRun refuses to resume a different configuration.
func TestCheckpointOfAnotherRun(t *testing.T) {
	cfg := Defaults()
	cfg.Grid = 16
	dir := t.TempDir()
	cfg.Out = filepath.Join(dir, "run.tsnap")
	ckpt := filepath.Join(dir, "run.ckpt")
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Run(ctx, cfg, Options{Checkpoint: ckpt, Log: slog.New(cancelAt{1, cancel})})
	cancel()
	if !errors.Is(err, ErrCheckpointed) {
		t.Fatal(err)
	}
	cfg.Seed++
	if _, err := Run(context.Background(), cfg, Options{Checkpoint: ckpt}); err == nil || !contains(err.Error(), "belongs to another run") {
		t.Errorf("resuming another run's checkpoint: %v", err)
	}
	// A damaged checkpoint is refused with its name.
	raw, _ := os.ReadFile(ckpt)
	raw[100] ^= 1
	os.WriteFile(ckpt, raw, 0o644)
	cfg.Seed--
	if _, err := Run(context.Background(), cfg, Options{Checkpoint: ckpt}); err == nil || !contains(err.Error(), "checksum mismatch") || !contains(err.Error(), ckpt) {
		t.Errorf("resuming a damaged checkpoint: %v", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// countCheckpoints is a slog handler counting "checkpoint written" records.
type countCheckpoints struct{ n *int }

func (h countCheckpoints) Enabled(context.Context, slog.Level) bool { return true }
func (h countCheckpoints) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h countCheckpoints) WithGroup(string) slog.Handler            { return h }
func (h countCheckpoints) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "checkpoint written" {
		*h.n++
	}
	return nil
}

// TestPeriodicCheckpoints saves a checkpoint before every step (an interval
// of 1 ns) and checks that this changes nothing in the result, and that the
// checkpoint is gone once the snapshot is written.
func TestPeriodicCheckpoints(t *testing.T) {
	cfg := Defaults()
	cfg.Grid = 16
	cfg.Ranks = 2
	cfg.Fields = []string{"density"}
	ref, refFile := run(t, cfg)
	want, _ := refFile.Read("density")
	dir := t.TempDir()
	cfg.Out = filepath.Join(dir, "run.tsnap")
	n := 0
	ckpt := filepath.Join(dir, "run.ckpt")
	res, f := run(t, cfg, Options{Checkpoint: ckpt, CheckpointEvery: 1, Log: slog.New(countCheckpoints{&n})})
	if n < ref.Header.Steps-1 {
		t.Errorf("%d periodic checkpoints in %d steps", n, res.Header.Steps)
	}
	got, _ := f.Read("density")
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("density[%d] = %v with checkpoints, %v without", i, got[i], want[i])
		}
	}
	if _, err := os.Stat(ckpt); err == nil {
		t.Error("checkpoint left after the run")
	}
}
