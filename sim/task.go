package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/internal/cli"
	"github.com/turbindex/turbindex/internal/resources"
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
	perTask := fs.Int("per-task", 1, "simulations per task `M`: task K runs rows K·M … K·M+M−1")
	parallel := fs.Int("parallel", 0, "simulations run at once without MPI, at most `P` (0: the CPUs this process may use divided by --ranks, lowered to what the memory allows)")
	budget := cli.AddResources(fs)
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
	case *parallel < 0:
		return cli.Usage(fmt.Errorf("--parallel %d: must not be negative (0 chooses)", *parallel))
	case *logEvery < 0:
		return cli.Usage(fmt.Errorf("--log-every %v: must not be negative", *logEvery))
	}
	ckptEvery, err := checkpointInterval(*every)
	if err != nil {
		return cli.Usage(err)
	}
	k := *taskID
	if k < 0 {
		env := os.Getenv("SLURM_ARRAY_TASK_ID")
		if env == "" {
			return cli.Usage(errors.New("no --task-id and no SLURM_ARRAY_TASK_ID in the environment"))
		}
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
	lim, err := budget.Limits()
	if err != nil {
		return err
	}
	t := &task{
		m: m, outdir: *outdir, ranks: *ranks, parallel: *parallel,
		log:  cli.Logger(os.Stderr).With("task", k),
		opt:  driver.Options{LogInterval: *logEvery, CheckpointEvery: ckptEvery},
		rows: rows,
	}
	t.opt.Log = t.log
	mpiRun := mpi.Launched() && mpi.Enabled
	// Refuse what cannot fit before creating anything.
	if err := t.plan(lim, mpiRun); err != nil {
		return err
	}
	if err := os.MkdirAll(*outdir, 0o777); err != nil {
		return err
	}
	ctx, stop := cli.SignalContext()
	defer stop()
	if mpiRun {
		return t.runMPI(ctx)
	}
	return t.run(ctx)
}

// plan estimates the memory of the task's simulations, refuses them when
// one would not fit, and chooses how many run at once (t.parallel): the
// --parallel given, else the CPUs divided by the ranks per simulation,
// lowered to what the memory allows; it logs the choice.
func (t *task) plan(lim resources.Limits, mpiRun bool) error {
	var one driver.Memory
	var big campaign.Row
	for _, r := range t.rows {
		cfg := t.config(r)
		cfg.Ranks = t.ranks
		if mpiRun {
			cfg.Ranks = max(mpi.LaunchedSize(), 1)
		}
		m, err := simMemory(cfg, true)
		if err != nil {
			return fmt.Errorf("%s: %w", r.ID, err)
		}
		if mpiRun {
			m.Total = m.PerRank * int64(mpi.LocalSize())
		}
		if m.Total > one.Total {
			one, big = m, r
		}
	}
	cfg := t.config(big)
	cfg.Ranks = t.ranks
	if err := lim.Fit(fmt.Sprintf("simulation %s (%d³ on %d rank%s)", big.ID, cfg.Grid, cfg.Ranks, plural(cfg.Ranks)),
		one.Total, runRemedy(cfg, lim)); err != nil {
		return err
	}
	if mpiRun {
		t.parallel = 1
		debug.SetMemoryLimit(lim.Memory)
		return nil
	}
	rows := len(t.rows)
	// One simulation fits (checked above); each more adds its running
	// memory, since set-ups take turns (see run).
	fits := int(min(int64(rows), 1+(lim.Memory-one.Total)/max(one.Running, 1)))
	each := fmt.Sprintf("%s for one, %s more for each other", resources.FormatBytes(one.Total-one.Base), resources.FormatBytes(one.Running))
	why := "--parallel"
	switch {
	case t.parallel > 0:
		if need := one.Concurrent(min(t.parallel, rows)); need > lim.Memory {
			return lim.Fit(fmt.Sprintf("--parallel %d (%s)", t.parallel, each),
				need, fmt.Sprintf("use --parallel %d or less, or allow more memory (--memory, sbatch --mem)", max(fits, 1)))
		}
	default:
		t.parallel = max(lim.CPUs/t.ranks, 1)
		why = fmt.Sprintf("%d CPUs (%s) / %d rank%s per simulation", lim.CPUs, lim.CPUSource, t.ranks, plural(t.ranks))
		if fits < min(t.parallel, rows) {
			t.parallel = max(fits, 1)
			why = fmt.Sprintf("memory: %s; %s may be used (%s)", each, resources.FormatBytes(lim.Memory), lim.MemorySource)
		}
	}
	t.parallel = min(t.parallel, rows)
	t.log.Info("simulations at once", "parallel", t.parallel, "rows", rows, "why", why,
		"memory_one", resources.FormatBytes(one.Total-one.Base), "memory_running", resources.FormatBytes(one.Running),
		"memory_all", resources.FormatBytes(one.Concurrent(t.parallel)),
		"may_use", resources.FormatBytes(lim.Memory), "memory_source", lim.MemorySource)
	debug.SetMemoryLimit(lim.Memory)
	return nil
}

// task is one array task's share of a campaign.
type task struct {
	m      *campaign.Manifest
	outdir string
	ranks  int
	// parallel is how many rows run at once without MPI.
	parallel int
	log      *slog.Logger
	opt      driver.Options
	rows     []campaign.Row
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

// run runs the rows, t.parallel at a time, each on its own in-process
// ranks. A row that waits for its turn holds nothing: no lock, no memory.
func (t *task) run(ctx context.Context) error {
	rows := t.todo()
	errs := make([]error, len(rows))
	turn := make(chan struct{}, max(t.parallel, 1))
	// Set-ups, where a simulation's memory peaks, take turns: P
	// simulations then need one set-up and P−1 time loops at most.
	setup := make(chan struct{}, 1)
	var wg sync.WaitGroup
	for i, row := range rows {
		wg.Go(func() {
			turn <- struct{}{}
			defer func() { <-turn }()
			setup <- struct{}{}
			var once sync.Once
			done := func() { once.Do(func() { <-setup }) }
			defer done()
			errs[i] = t.runRow(ctx, nil, row, done)
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
		errs[i] = t.runRow(ctx, c, row, nil)
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

// config is the simulation of row.
func (t *task) config(row campaign.Row) driver.Config {
	return driver.Turbulence(t.m.Run(row), campaign.SnapshotPath(t.outdir, row.ID))
}

// runRow runs one simulation while holding its lock (campaign.AcquireLock:
// the heartbeat sim status reads). Under MPI, rank 0 holds it.
func (t *task) runRow(ctx context.Context, c comm.Comm, row campaign.Row, setupDone func()) error {
	cfg := t.config(row)
	opt := t.opt
	opt.SetupDone = setupDone
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
	if c == nil || c.Rank() == 0 {
		t.log.Info("simulation started", "id", row.ID)
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
