package campaign

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestLock(t *testing.T) {
	dir := t.TempDir()
	l, err := AcquireLock(dir, "a")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(LockPath(dir, "a"))
	if !strings.Contains(string(raw), fmt.Sprintf("pid=%d", os.Getpid())) {
		t.Errorf("lock names %q, not this process", raw)
	}
	// Held by this (live) process: a second acquire fails.
	if _, err := AcquireLock(dir, "a"); !errors.Is(err, ErrLocked) {
		t.Errorf("second acquire: %v, want ErrLocked", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(LockPath(dir, "a")); err == nil {
		t.Error("lock file left after Release")
	}

	// A fresh lock of a dead process on this host is taken over.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	os.WriteFile(LockPath(dir, "b"), []byte(fmt.Sprintf("host=%s pid=%d job=_\n", host, dead.Process.Pid)), 0o666)
	l, err = AcquireLock(dir, "b")
	if err != nil {
		t.Fatalf("taking over a dead process's lock: %v", err)
	}
	l.Release()

	// A fresh lock of another host is respected; a stale one is taken over.
	os.WriteFile(LockPath(dir, "c"), []byte("host=elsewhere pid=1 job=7_3\n"), 0o666)
	if _, err := AcquireLock(dir, "c"); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "job=7_3") {
		t.Errorf("fresh lock of another host: %v, want ErrLocked naming its holder", err)
	}
	old := time.Now().Add(-StaleAfter - time.Minute)
	os.Chtimes(LockPath(dir, "c"), old, old)
	if l, err = AcquireLock(dir, "c"); err != nil {
		t.Fatalf("taking over a stale lock: %v", err)
	}
	l.Release()
}
