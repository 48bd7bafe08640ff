package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/internal/cli"
	"github.com/turbindex/turbindex/sim/comm"
	"github.com/turbindex/turbindex/sim/comm/mpi"
	"github.com/turbindex/turbindex/sim/driver"
)

// taskCmd runs the manifest rows of one array task: rows K·M … K·M+M−1.
// Finished rows (verified snapshots) are skipped, interrupted ones resume
// from their checkpoints, corrupt ones are redone. Exit status: 0 when
// every row is done, 3 when a signal stopped the task after checkpointing
// (run it again to resume), 1 on failure.
func taskCmd(args []string) error {
	fs := flag.NewFlagSet("task", flag.ContinueOnError)
	manifest := fs.String("manifest", "", "campaign manifest `file` written by sim plan")
	outdir := fs.String("outdir", "", "`directory` of the snapshots (created if missing)")
	taskID := fs.Int("task-id", -1, "array task `K` (default: $SLURM_ARRAY_TASK_ID)")
	perTask := fs.Int("per-task", 1, "simulations per task `M`: task K runs rows K·M … K·M+M−1, in parallel without MPI")
	ranks := fs.Int("ranks", 1, "in-process ranks per simulation (under mpirun/srun the MPI ranks run each simulation)")
	every := fs.Float64("checkpoint-every", 0, "minutes between periodic checkpoints (0: only on SIGTERM/SIGUSR1)")
	logEvery := fs.Duration("log-every", 30*time.Second, "interval between progress log lines")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := cli.Required(fs, "manifest", "outdir"); err != nil {
		return err
	}
	switch {
	case *perTask < 1:
		return cli.Usage(fmt.Errorf("--per-task %d: must be at least 1", *perTask))
	case *ranks < 1:
		return cli.Usage(fmt.Errorf("--ranks %d: must be at least 1", *ranks))
	case *every < 0:
		return cli.Usage(fmt.Errorf("--checkpoint-every %g: must not be negative", *every))
	}
	k := *taskID
	if k < 0 {
		env := os.Getenv("SLURM_ARRAY_TASK_ID")
		if env == "" {
			return cli.Usage(errors.New("no --task-id and no SLURM_ARRAY_TASK_ID in the environment"))
		}
		var err error
		if k, err = strconv.Atoi(env); err != nil || k < 0 {
			return cli.Usage(fmt.Errorf("SLURM_ARRAY_TASK_ID=%q: not a task number", env))
		}
	}
	m, err := campaign.ReadFile(*manifest)
	if err != nil {
		return err
	}
	rows, err := m.TaskRows(k, *perTask)
	if err != nil {
		return cli.Usage(fmt.Errorf("%s: %w", *manifest, err))
	}
	if err := os.MkdirAll(*outdir, 0o777); err != nil {
		return err
	}
	ctx, stop := cli.SignalContext()
	defer stop()
	t := &task{
		m: m, outdir: *outdir, ranks: *ranks,
		log:  cli.Logger(os.Stderr).With("task", k),
		opt:  driver.Options{LogInterval: *logEvery, CheckpointEvery: time.Duration(*every * float64(time.Minute))},
		rows: rows,
	}
	t.opt.Log = t.log
	if mpi.Launched() && mpi.Enabled {
		return t.runMPI(ctx)
	}
	return t.run(ctx)
}

// task is one array task's share of a campaign.
type task struct {
	m      *campaign.Manifest
	outdir string
	ranks  int
	log    *slog.Logger
	opt    driver.Options
	rows   []campaign.Row
}

// todo returns the rows that are not done yet, logging the others. A row
// is done when its snapshot verifies and has the row's parameters.
func (t *task) todo() []campaign.Row {
	var rows []campaign.Row
	for _, r := range t.rows {
		err := t.m.VerifySnapshot(r, t.outdir)
		switch {
		case err == nil:
			t.log.Info("already done", "id", r.ID)
			continue
		case !errors.Is(err, fs.ErrNotExist):
			t.log.Warn("redoing a corrupt snapshot", "id", r.ID, "reason", err)
		}
		rows = append(rows, r)
	}
	return rows
}

// run runs the rows in parallel, each on its own in-process ranks.
func (t *task) run(ctx context.Context) error {
	rows := t.todo()
	errs := make([]error, len(rows))
	var wg sync.WaitGroup
	for i, row := range rows {
		wg.Go(func() {
			errs[i] = t.runRow(ctx, nil, row)
		})
	}
	wg.Wait()
	return t.verdict(rows, errs)
}

// runMPI runs the rows one after the other, each on all MPI ranks.
func (t *task) runMPI(ctx context.Context) error {
	c, err := mpi.Init()
	if err != nil {
		return err
	}
	// Every rank reads the same files before any is written, so all agree.
	rows := t.todo()
	errs := make([]error, len(rows))
	for i, row := range rows {
		errs[i] = t.runRow(ctx, c, row)
		switch {
		case errs[i] == nil, errors.Is(errs[i], campaign.ErrLocked):
			continue
		case errors.Is(errs[i], driver.ErrCheckpointed):
		default:
			c.Abort(fmt.Errorf("%s: %w", row.ID, errs[i])) // does not return
		}
		break // checkpointed: every rank stops here together
	}
	if err := mpi.Finalize(); err != nil {
		return err
	}
	if c.Rank() != 0 {
		if errors.Is(errors.Join(errs...), driver.ErrCheckpointed) {
			return driver.ErrCheckpointed
		}
		return nil
	}
	return t.verdict(rows, errs)
}

// runRow runs one simulation while holding its lock (campaign.AcquireLock:
// the heartbeat sim status reads). Under MPI, rank 0 holds it.
func (t *task) runRow(ctx context.Context, c comm.Comm, row campaign.Row) error {
	cfg := driver.Turbulence(t.m.Run(row), campaign.SnapshotPath(t.outdir, row.ID))
	opt := t.opt
	opt.Checkpoint = campaign.CheckpointPath(t.outdir, row.ID)
	opt.Log = t.log.With("id", row.ID)
	if c == nil {
		lock, err := campaign.AcquireLock(t.outdir, row.ID)
		if err != nil {
			return err
		}
		defer lock.Release()
	} else {
		// All ranks must learn whether rank 0 got the lock.
		var lerr error
		if c.Rank() == 0 {
			var lock *campaign.Lock
			if lock, lerr = campaign.AcquireLock(t.outdir, row.ID); lerr == nil {
				defer lock.Release()
			}
		}
		got, err := comm.Agree(c, lerr)
		if err != nil {
			return err
		}
		if !got {
			if lerr == nil {
				lerr = campaign.ErrLocked
			}
			return lerr
		}
	}
	var res *driver.Result
	var err error
	if c == nil {
		cfg.Ranks = t.ranks
		res, err = driver.Run(ctx, cfg, opt)
	} else {
		cfg.Ranks = c.Size()
		res, err = driver.RunRank(ctx, c, cfg, opt)
	}
	if err != nil {
		return err
	}
	if res != nil {
		t.log.Info("simulation done", "id", row.ID, "steps", res.Header.Steps, "wall_s", res.Header.WallSeconds,
			"resumed", res.Resumed, "path", res.Path)
	}
	return nil
}

// verdict logs the outcome of the rows and returns the task's error.
func (t *task) verdict(rows []campaign.Row, errs []error) error {
	var failed, stopped int
	for i, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, driver.ErrCheckpointed):
			stopped++
		case errors.Is(err, campaign.ErrLocked):
			failed++
			t.log.Error("simulation skipped: another task runs it", "id", rows[i].ID, "err", err)
		default:
			failed++
			t.log.Error("simulation failed", "id", rows[i].ID, "err", err)
		}
	}
	t.log.Info("task finished", "rows", len(t.rows), "ran", len(rows), "checkpointed", stopped, "failed", failed)
	switch {
	case failed > 0:
		return fmt.Errorf("%d of %d simulations failed: %w", failed, len(rows), errors.Join(errs...))
	case stopped > 0:
		return fmt.Errorf("%d simulations stopped: %w", stopped, driver.ErrCheckpointed)
	}
	return nil
}
