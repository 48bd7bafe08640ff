package study

import (
	"bytes"
	"log/slog"
	"regexp"
	"strconv"
	"testing"

	"github.com/turbindex/turbindex/internal/progress"
)

// TestSMOProgress: a violation falling by a decade at a time from 1 to the
// tolerance 1e-3 reads as a third, two thirds, then 99 % done (never 100 %
// before the fit returns); a fall of less than 5 % of the way reads as 0 %
// (no ETA from it); a violation that rises again does not move the bar back.
func TestSMOProgress(t *testing.T) {
	var log bytes.Buffer
	prog := progress.New(nil, slog.New(slog.NewTextHandler(&log, nil)), "fit", 1, 0)
	report := smoProgress(prog, 1e-3)
	for k, v := range []float64{1, 0.9, 0.1, 0.5, 0.01, 1e-4} {
		report(1000*(k+1), v)
	}
	var got []float64
	for _, m := range regexp.MustCompile(`percent=([0-9.]+)`).FindAllStringSubmatch(log.String(), -1) {
		p, _ := strconv.ParseFloat(m[1], 64)
		got = append(got, p)
	}
	want := []float64{0, 0, 33.3, 33.3, 66.6, 99}
	if len(got) != len(want) {
		t.Fatalf("%d progress lines, want %d:\n%s", len(got), len(want), log.String())
	}
	for i := range want {
		if d := got[i] - want[i]; d < -0.1 || d > 0.1 {
			t.Errorf("line %d: %g %%, want %g ± 0.1", i, got[i], want[i])
		}
	}
}

// TestWholeKernelMiB: the cache that holds the whole matrix, rounded up.
func TestWholeKernelMiB(t *testing.T) {
	for _, tc := range []struct{ n, want int }{{0, 0}, {1, 1}, {512, 1}, {513, 2}, {38400, 5625}} {
		if got := wholeKernelMiB(tc.n); got != tc.want {
			t.Errorf("wholeKernelMiB(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
}
