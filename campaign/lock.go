package campaign

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrLocked reports a row whose lock another live task holds.
var ErrLocked = errors.New("row locked by another task")

// Lock is a row's lock file, held while a task runs the row. Its
// modification time is refreshed every Heartbeat/2 while it is held.
type Lock struct {
	path string
	stop chan struct{}
	done chan struct{}
}

// AcquireLock takes the lock of row id in outdir, writing a line that names
// this process (host, pid, SLURM job). A lock left behind is taken over
// when it is older than StaleAfter, or when it names a process of this host
// that no longer exists (a task killed without warning and resubmitted at
// once). A lock held by a live task fails with ErrLocked and its holder.
func AcquireLock(outdir, id string) (*Lock, error) {
	path := LockPath(outdir, id)
	host, _ := os.Hostname()
	note := fmt.Sprintf("host=%s pid=%d job=%s_%s\n", host, os.Getpid(),
		os.Getenv("SLURM_ARRAY_JOB_ID"), os.Getenv("SLURM_ARRAY_TASK_ID"))
	for attempt := 0; ; attempt++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if err == nil {
			_, werr := f.WriteString(note)
			if err := errors.Join(werr, f.Close()); err != nil {
				os.Remove(path)
				return nil, fmt.Errorf("lock %s: %w", path, err)
			}
			l := &Lock{path: path, stop: make(chan struct{}), done: make(chan struct{})}
			go l.heartbeat()
			return l, nil
		}
		if !errors.Is(err, fs.ErrExist) || attempt > 0 {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		holder, live := lockHolder(path, host)
		if live {
			return nil, fmt.Errorf("lock %s held by %s: %w", path, holder, ErrLocked)
		}
		// Stale: remove it and try once more (another task may win the race).
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("lock %s: remove stale lock: %w", path, err)
		}
	}
}

// lockHolder returns the holder line of the lock at path and whether its
// holder may still be alive.
func lockHolder(path, host string) (string, bool) {
	li, err := readLock(path, host, time.Now())
	if err != nil {
		return "", false
	}
	return li.holder, li.live()
}

// lockInfo is what a lock file says about its holder.
type lockInfo struct {
	holder string        // the holder line: host, pid, SLURM job
	age    time.Duration // since the last heartbeat (negative: clock skew)
	// dead: the lock names a process of this host that no longer exists
	// (a task killed without warning); a lock of another host cannot be
	// checked and goes stale by its heartbeat alone.
	dead bool
}

// live reports whether the lock's holder may still be running the row.
func (li lockInfo) live() bool { return !li.dead && li.age < StaleAfter }

// readLock reads the lock at path, judged at time now on host.
func readLock(path, host string, now time.Time) (lockInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return lockInfo{}, err
	}
	raw, _ := os.ReadFile(path)
	li := lockInfo{holder: strings.TrimSpace(string(raw)), age: now.Sub(st.ModTime())}
	var h string
	var pid int
	for _, f := range strings.Fields(li.holder) {
		if v, ok := strings.CutPrefix(f, "host="); ok {
			h = v
		}
		if v, ok := strings.CutPrefix(f, "pid="); ok {
			pid, _ = strconv.Atoi(v)
		}
	}
	li.dead = h != "" && h == host && pid > 0 && pid != os.Getpid() && syscall.Kill(pid, 0) == syscall.ESRCH
	return li, nil
}

func (l *Lock) heartbeat() {
	defer close(l.done)
	t := time.NewTicker(Heartbeat / 2)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			os.Chtimes(l.path, now, now)
		case <-l.stop:
			return
		}
	}
}

// Release stops the heartbeat and removes the lock file.
func (l *Lock) Release() error {
	close(l.stop)
	<-l.done
	if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("lock %s: %w", l.path, err)
	}
	return nil
}
