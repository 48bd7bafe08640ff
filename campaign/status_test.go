package campaign

import (
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/turbindex/turbindex/sim/driver"
	"github.com/turbindex/turbindex/sim/snapshot"
)

// run writes row r's snapshot (or, with edit, that of a changed
// configuration at r's path).
func run(t *testing.T, m *Manifest, r Row, dir string, edit func(*driver.Config)) {
	t.Helper()
	c := driver.Turbulence(m.Run(r), SnapshotPath(dir, r.ID))
	if edit != nil {
		edit(&c)
	}
	if _, err := driver.Run(context.Background(), c, driver.Options{}); err != nil {
		t.Fatalf("run %s: %v", r.ID, err)
	}
}

// flipDataByte flips one byte in the middle of the first chunk of the
// snapshot's first field.
func flipDataByte(t *testing.T, path string) {
	t.Helper()
	f, err := snapshot.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	c := f.Header.Fields[0].Chunks[0]
	f.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data := 24 + int64(binary.LittleEndian.Uint64(raw[16:24]))
	raw[data+int64(c.Offset)+int64(c.StoredBytes)/2] ^= 0x40
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

func touch(t *testing.T, path, content string, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func TestStatus(t *testing.T) {
	o := PlanOptions{Preset: "demo", CampaignSeed: 5, Kolmogorov: 3, Burgers: 3, Sweep: 4, Grid: 16, TEndMyr: 0.05}
	m := mustPlan(t, o)
	dir := t.TempDir()
	now := time.Now()
	rows := m.Rows
	id := func(i int) string { return rows[i].ID }

	run(t, m, rows[0], dir, nil) // done
	run(t, m, rows[1], dir, nil) // corrupt chunk
	flipDataByte(t, SnapshotPath(dir, id(1)))
	touch(t, LockPath(dir, id(2)), "host=n12 job=77_2 pid=4242\n", now.Add(-30*time.Second)) // running
	touch(t, LockPath(dir, id(3)), "", now.Add(-10*time.Minute))                             // stale lock
	touch(t, CheckpointPath(dir, id(4)), "ckpt", now.Add(-2*time.Minute))                    // checkpoint
	run(t, m, rows[5], dir, func(c *driver.Config) { c.Seed++ })                             // other seed
	// rows 6, 7: nothing.
	touch(t, SnapshotPath(dir, id(8)), "not a snapshot", now) // unreadable
	run(t, m, rows[9], dir, nil)                              // done, with a stale lock
	touch(t, LockPath(dir, id(9)), "", now.Add(-time.Hour))

	st, err := Status(m, dir, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		state  State
		detail []string
	}{
		{Done, nil},
		{Corrupt, []string{id(1) + ".tsnap", "chunk 0"}},
		{Running, []string{"lock refreshed 30s ago", "host=n12 job=77_2"}},
		{Interrupted, []string{"stale lock, last refreshed 10m0s ago"}},
		{Interrupted, []string{"checkpoint written 2m0s ago"}},
		{Corrupt, []string{"seed mismatch", id(5) + ".tsnap"}},
		{Missing, nil},
		{Missing, nil},
		{Corrupt, []string{id(8) + ".tsnap"}},
		{Done, nil},
	}
	if len(st) != len(want) {
		t.Fatalf("%d statuses, want %d", len(st), len(want))
	}
	for i, w := range want {
		s := st[i]
		if s.Row.ID != id(i) || s.State != w.state {
			t.Errorf("row %d %s: %v (%s), want %v", i, s.Row.ID, s.State, s.Detail, w.state)
		}
		for _, d := range w.detail {
			if !strings.Contains(s.Detail, d) {
				t.Errorf("row %d %s: detail %q does not contain %q", i, s.Row.ID, s.Detail, d)
			}
		}
		if w.detail == nil && s.Detail != "" {
			t.Errorf("row %d %s: detail %q, want none", i, s.Row.ID, s.Detail)
		}
		if strings.Contains(s.Detail, "\n") {
			t.Errorf("row %d: detail is not one line: %q", i, s.Detail)
		}
	}
	if err := m.VerifySnapshot(rows[0], dir); err != nil {
		t.Errorf("VerifySnapshot of the done row: %v", err)
	}
	if err := m.VerifySnapshot(rows[6], dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("VerifySnapshot of a missing row: %v, want not-exist", err)
	}

	// Not done and not running: rows 1, 3, 4, 5, 6, 7, 8.
	for _, tc := range []struct {
		perTask int
		tasks   []int
		array   string
	}{
		{1, []int{1, 3, 4, 5, 6, 7, 8}, "1,3-8"},
		{2, []int{0, 1, 2, 3, 4}, "0-4"},
		{3, []int{0, 1, 2}, "0-2"},
		{4, []int{0, 1, 2}, "0-2"},
		{10, []int{0}, "0"},
	} {
		got := Tasks(st, tc.perTask)
		if !slices.Equal(got, tc.tasks) || ArrayList(got) != tc.array {
			t.Errorf("Tasks(perTask %d) = %v %q, want %v %q", tc.perTask, got, ArrayList(got), tc.tasks, tc.array)
		}
	}

	// A lock refreshed after a snapshot went bad: a task is redoing it.
	touch(t, LockPath(dir, id(1)), "", now.Add(-time.Second))
	if st, _ := Status(m, dir, now); st[1].State != Running || !strings.Contains(st[1].Detail, "bad") {
		t.Errorf("corrupt snapshot with a fresh lock: %v %q, want running", st[1].State, st[1].Detail)
	}
	// An hour later every lock is stale.
	st, _ = Status(m, dir, now.Add(time.Hour))
	if st[2].State != Interrupted {
		t.Errorf("an hour later, row 2 is %v, want interrupted", st[2].State)
	}

	if _, err := Status(m, dir+"/nope", now); err == nil {
		t.Error("Status of a missing directory: no error")
	}
}

func TestStatusTasks(t *testing.T) {
	states := func(s ...State) []RowStatus {
		st := make([]RowStatus, len(s))
		for i := range s {
			st[i].State = s[i]
		}
		return st
	}
	D, R, I, M, C := Done, Running, Interrupted, Missing, Corrupt
	for _, tc := range []struct {
		st      []RowStatus
		perTask int
		want    []int
	}{
		{states(), 1, nil},
		{states(D, D, R), 1, nil},
		{states(M, D, I, C, R, M), 1, []int{0, 2, 3, 5}},
		{states(M, D, I, C, R, M), 2, []int{0, 1, 2}},
		{states(D, R, D, D, D, C), 2, []int{2}},
		{states(D, D, D, M), 3, []int{1}},
	} {
		if got := Tasks(tc.st, tc.perTask); !slices.Equal(got, tc.want) {
			t.Errorf("Tasks(%v, %d) = %v, want %v", tc.st, tc.perTask, got, tc.want)
		}
	}
}

func TestStatusArrayList(t *testing.T) {
	for _, tc := range []struct {
		ids  []int
		want string
	}{
		{nil, ""},
		{[]int{5}, "5"},
		{[]int{0, 1}, "0-1"},
		{[]int{0, 1, 2, 3, 7, 9, 10, 11, 12}, "0-3,7,9-12"},
		{[]int{12, 9, 3, 7, 0, 1, 2, 10, 11, 3}, "0-3,7,9-12"},
		{[]int{1, 3, 5}, "1,3,5"},
		{[]int{0, 1999}, "0,1999"},
	} {
		if got := ArrayList(tc.ids); got != tc.want {
			t.Errorf("ArrayList(%v) = %q, want %q", tc.ids, got, tc.want)
		}
	}
}

func TestStatusStateString(t *testing.T) {
	want := []string{"done", "running", "interrupted", "missing", "corrupt"}
	for i, s := range States {
		if s.String() != want[i] {
			t.Errorf("%d: %q", i, s)
		}
	}
}
