// Package progress reports the advance of long jobs: a bar redrawn in place
// on a terminal, or periodic structured log lines in a batch log.
package progress

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Progress tracks one job whose amount of work is known in advance.
type Progress struct {
	label    string
	total    float64
	bar      io.Writer    // terminal to draw on, or nil
	log      *slog.Logger // used when bar is nil
	interval time.Duration
	start    time.Time

	mu       sync.Mutex
	lastLog  time.Time
	lastDraw time.Time
}

// New returns a Progress for a job of total units of work. If out is a
// terminal, a bar is drawn on it; otherwise logger receives a line at most
// every interval (and at the end).
func New(out io.Writer, logger *slog.Logger, label string, total float64, interval time.Duration) *Progress {
	p := &Progress{label: label, total: total, log: logger, interval: interval, start: time.Now()}
	if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = f
	}
	p.lastLog = p.start
	return p
}

// Update reports that done units are complete; attrs describe the state
// (shown after the bar, or as log attributes).
func (p *Progress) Update(done float64, attrs ...slog.Attr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.bar != nil {
		if now.Sub(p.lastDraw) < 100*time.Millisecond && done < p.total {
			return
		}
		p.lastDraw = now
		p.draw(done, attrs)
		return
	}
	if now.Sub(p.lastLog) >= p.interval {
		p.lastLog = now
		p.logLine(done, attrs)
	}
}

// Finish reports the end of the job.
func (p *Progress) Finish(attrs ...slog.Attr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.draw(p.total, attrs)
		fmt.Fprintln(p.bar)
		return
	}
	p.logLine(p.total, attrs)
}

func (p *Progress) fraction(done float64) float64 {
	if p.total <= 0 {
		return 1
	}
	return min(max(done/p.total, 0), 1)
}

// eta is the time left if the job goes on at its average rate so far, or
// false before any work is done and once it is complete.
func (p *Progress) eta(f float64) (time.Duration, bool) {
	if f <= 0 || f >= 1 {
		return 0, false
	}
	el := time.Since(p.start)
	return time.Duration(float64(el) * (1 - f) / f), true
}

func (p *Progress) draw(done float64, attrs []slog.Attr) {
	const width = 30
	f := p.fraction(done)
	n := int(f * width)
	var b strings.Builder
	fmt.Fprintf(&b, "\r%s [%s%s] %3.0f%%", p.label, strings.Repeat("=", n), strings.Repeat(" ", width-n), 100*f)
	for _, a := range attrs {
		fmt.Fprintf(&b, " %s=%s", a.Key, a.Value)
	}
	fmt.Fprintf(&b, " %s", time.Since(p.start).Round(time.Second))
	if eta, ok := p.eta(f); ok {
		fmt.Fprintf(&b, ", %s left", eta.Round(time.Second))
	}
	b.WriteString("\033[K")
	io.WriteString(p.bar, b.String())
}

func (p *Progress) logLine(done float64, attrs []slog.Attr) {
	if p.log == nil {
		return
	}
	f := p.fraction(done)
	all := append([]slog.Attr{
		slog.String("job", p.label),
		slog.Float64("percent", float64(int(1000*f))/10),
		slog.Duration("elapsed", time.Since(p.start).Round(time.Millisecond)),
	}, attrs...)
	if eta, ok := p.eta(f); ok {
		all = append(all, slog.Duration("eta", eta.Round(time.Second)))
	}
	p.log.LogAttrs(context.Background(), slog.LevelInfo, "progress", all...)
}
