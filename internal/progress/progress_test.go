package progress

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLogLinesOffTerminal(t *testing.T) {
	for _, tc := range []struct {
		interval time.Duration
		lines    int // log lines for 4 updates and the finish
	}{
		{0, 5},
		{time.Hour, 1},
	} {
		var out, log bytes.Buffer
		p := New(&out, slog.New(slog.NewTextHandler(&log, nil)), "job", 8, tc.interval)
		for i := 1; i <= 4; i++ {
			p.Update(float64(2*i), slog.Int("step", i))
		}
		p.Finish(slog.Int("steps", 4))
		if out.Len() != 0 {
			t.Errorf("interval %v: drew %q on a non-terminal", tc.interval, out.String())
		}
		got := strings.Count(log.String(), "msg=progress")
		if got != tc.lines {
			t.Errorf("interval %v: %d log lines, want %d:\n%s", tc.interval, got, tc.lines, log.String())
		}
		if !strings.Contains(log.String(), "percent=100") || !strings.Contains(log.String(), "steps=4") {
			t.Errorf("interval %v: final line missing: %s", tc.interval, log.String())
		}
		if tc.interval == 0 && !strings.Contains(log.String(), "percent=25 ") {
			t.Errorf("first update should report 25%%: %s", log.String())
		}
		if want := map[time.Duration]int{0: 3, time.Hour: 0}[tc.interval]; strings.Count(log.String(), " eta=") != want {
			t.Errorf("interval %v: want an eta on each of the %d lines before the last:\n%s", tc.interval, want, log.String())
		}
	}
}

func TestBar(t *testing.T) {
	var out bytes.Buffer
	p := New(nil, nil, "job", 4, time.Hour)
	p.bar = &out // what New does for a terminal
	p.start = time.Now().Add(-time.Minute)
	p.Update(1, slog.Int("step", 1))
	p.Finish()
	s := out.String()
	if !strings.Contains(s, "\rjob [=======") || !strings.Contains(s, " 25%") || !strings.Contains(s, "100%") || !strings.HasSuffix(s, "\n") {
		t.Errorf("bar output %q", s)
	}
	// A quarter done after a minute: three minutes left (at the average rate).
	if !strings.Contains(s, "1m0s, 3m0s left") || strings.Count(s, "left") != 1 {
		t.Errorf("bar output %q", s)
	}
}
