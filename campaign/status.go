package campaign

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/turbindex/turbindex/sim/physics"
	"github.com/turbindex/turbindex/sim/snapshot"
)

// State is where a simulation of the campaign stands.
type State int

const (
	// Done: the snapshot opens, every chunk verifies, and its parameters
	// are the row's.
	Done State = iota
	// Running: a task holds the row's lock and refreshed it within
	// StaleAfter.
	Running
	// Interrupted: no valid snapshot, but a checkpoint to resume from or a
	// stale lock (a task died or was killed while running the row).
	Interrupted
	// Missing: no snapshot, checkpoint or lock.
	Missing
	// Corrupt: a snapshot that does not open or verify, or that belongs to
	// other parameters (a different seed, index, grid, ...).
	Corrupt
)

// States lists the states in the order of State's values.
var States = []State{Done, Running, Interrupted, Missing, Corrupt}

// String returns the state's name as status prints it: done, running,
// interrupted, missing or corrupt.
func (s State) String() string {
	switch s {
	case Done:
		return "done"
	case Running:
		return "running"
	case Interrupted:
		return "interrupted"
	case Missing:
		return "missing"
	case Corrupt:
		return "corrupt"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// RowStatus is the state of one row.
type RowStatus struct {
	Row    Row
	State  State
	Detail string // one line: why the row is in this state ("" when Done or Missing)
}

// VerifySnapshot reports whether row r's snapshot in outdir is complete
// and belongs to r: it opens (snapshot.Open), its parameters are
// m.Run(r) (the turbulence problem and every key of physics.Params), and every
// chunk verifies (snapshot.File.Verify). It returns nil if so; an error
// matching fs.ErrNotExist if there is no snapshot; otherwise an error that
// says what is wrong, naming the file. This is the test a task uses to
// skip a finished row.
func (m *Manifest) VerifySnapshot(r Row, outdir string) error {
	path := SnapshotPath(outdir, r.ID)
	f, err := snapshot.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var got runParams
	if err := json.Unmarshal(f.Header.Params, &got); err != nil {
		return fmt.Errorf("%s: header params: %v", path, err)
	}
	if msg := mismatch(got, runParams{"turbulence", m.Run(r)}); msg != "" {
		return fmt.Errorf("%s: %s", path, msg)
	}
	return f.Verify()
}

// runParams is what a snapshot header's params say of a campaign row: its
// problem and physical parameters (other keys are ignored).
type runParams struct {
	Problem string `json:"problem"`
	physics.Params
}

// mismatch names the first parameter in which a snapshot's run got differs
// from the row's, want; "" if none.
func mismatch(got, want runParams) string {
	if got.Problem != want.Problem {
		return fmt.Sprintf("problem mismatch: snapshot has problem=%q, manifest row has %q", got.Problem, want.Problem)
	}
	for _, k := range physics.Keys() {
		g, _ := got.Get(k)
		w, _ := want.Get(k)
		if g != w {
			return fmt.Sprintf("%s mismatch: snapshot has %s=%q, manifest row has %q", k, k, g, w)
		}
	}
	return ""
}

// Status inspects outdir for every row of m, at time now:
//
//   - Done: VerifySnapshot succeeds;
//   - Running: otherwise, the row's lock was modified less than StaleAfter
//     before now (or after now: clock skew between nodes), and it does
//     not name a process of this host that no longer exists;
//   - Corrupt: otherwise, a snapshot exists but fails VerifySnapshot;
//   - Interrupted: otherwise, a checkpoint or a stale lock (or one of a
//     dead process of this host) exists;
//   - Missing: nothing.
//
// Rows are checked in parallel, at most max(GOMAXPROCS, 4) at a time, and
// returned in row order. Verification reads every snapshot whole. The
// error is non-nil only when outdir is not a readable directory.
func Status(m *Manifest, outdir string, now time.Time) ([]RowStatus, error) {
	st, err := os.Stat(outdir)
	if err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("output directory %s: not a directory", outdir)
	}
	out := make([]RowStatus, len(m.Rows))
	sem := make(chan struct{}, max(runtime.GOMAXPROCS(0), 4))
	var wg sync.WaitGroup
	for i, r := range m.Rows {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out[i] = rowStatus(m, r, outdir, now)
		})
	}
	wg.Wait()
	return out, nil
}

// rowStatus decides the state of one row; see Status.
func rowStatus(m *Manifest, r Row, outdir string, now time.Time) RowStatus {
	rs := RowStatus{Row: r}
	snapErr := m.VerifySnapshot(r, outdir)
	if snapErr == nil {
		rs.State = Done
		return rs
	}
	noSnap := errors.Is(snapErr, fs.ErrNotExist)

	var lockNote string
	staleLock := false
	host, _ := os.Hostname()
	if li, err := readLock(LockPath(outdir, r.ID), host, now); err == nil {
		switch {
		case li.live():
			rs.State = Running
			rs.Detail = "lock refreshed " + ago(li.age) + lockOwner(LockPath(outdir, r.ID))
			if !noSnap {
				rs.Detail += "; the snapshot present is bad: " + snapErr.Error()
			}
			return rs
		case li.dead:
			lockNote = "lock of a process of this host that no longer exists" + lockOwner(LockPath(outdir, r.ID))
		default:
			lockNote = "stale lock, last refreshed " + ago(li.age) + lockOwner(LockPath(outdir, r.ID))
		}
		staleLock = true
	}
	if !noSnap {
		rs.State, rs.Detail = Corrupt, snapErr.Error()
		return rs
	}
	var notes []string
	if cst, err := os.Stat(CheckpointPath(outdir, r.ID)); err == nil {
		notes = append(notes, "checkpoint written "+ago(now.Sub(cst.ModTime())))
	}
	if staleLock {
		notes = append(notes, lockNote)
	}
	if len(notes) > 0 {
		rs.State, rs.Detail = Interrupted, strings.Join(notes, "; ")
		return rs
	}
	rs.State = Missing
	return rs
}

// ago formats a file age for a detail message.
func ago(d time.Duration) string {
	if d < 0 {
		return "in the future (clock skew?)"
	}
	return d.Round(time.Second).String() + " ago"
}

// lockOwner returns ", by <first line of the lock>" when the lock names
// its holder (a task may write e.g. "host=n12 job=123_4 pid=99" into it).
func lockOwner(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return ""
	}
	s, _, _ := strings.Cut(string(b[:min(len(b), 200)]), "\n")
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	return " by " + truncate(s)
}

// Tasks returns, in increasing order, the array task IDs (task K runs rows
// K·perTask … K·perTask+perTask−1) that have a row neither Done nor
// Running, the tasks to resubmit. perTask must be at least 1. Rows are
// those of st in order, so st must be Status's whole answer.
func Tasks(st []RowStatus, perTask int) []int {
	if perTask < 1 {
		panic("campaign: perTask must be at least 1")
	}
	var ids []int
	for i, s := range st {
		if s.State == Done || s.State == Running {
			continue
		}
		if k := i / perTask; len(ids) == 0 || ids[len(ids)-1] != k {
			ids = append(ids, k)
		}
	}
	return ids
}

// ArrayList formats task IDs compactly for sbatch --array: runs of
// consecutive IDs become ranges, "0-3,7,9-12". The IDs need not be sorted;
// duplicates are dropped. No IDs give "".
func ArrayList(ids []int) string {
	s := slices.Clone(ids)
	slices.Sort(s)
	s = slices.Compact(s)
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j+1 < len(s) && s[j+1] == s[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(s[i]))
		if j > i {
			b.WriteString("-" + strconv.Itoa(s[j]))
		}
		i = j + 1
	}
	return b.String()
}
