//go:build mpi

package mpi

// These tests run on every rank of a job started by TestLaunch (or by hand,
// see launch_test.go). Every rank runs the same tests in the same order, so
// their collectives match up. A rank that fails aborts the job at once:
// otherwise the other ranks would wait in the next collective until killed.

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/turbindex/turbindex/sim/comm"
	"github.com/turbindex/turbindex/sim/comm/commtest"
)

// theWorld is MPI_COMM_WORLD, initialised once for all the tests.
var theWorld comm.Comm

func TestMain(m *testing.M) {
	// MPI_Init and MPI_Finalize must run on the same OS thread.
	runtime.LockOSThread()
	w, err := Init()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	theWorld = w
	code := m.Run()
	if err := Finalize(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// fail reports a failure: with one rank as a normal test failure, with
// more by aborting the job, which prints the cause with the rank.
func fail(t *testing.T, format string, args ...any) {
	t.Helper()
	if theWorld.Size() > 1 {
		theWorld.Abort(fmt.Errorf("%s: %s", t.Name(), fmt.Sprintf(format, args...)))
	}
	t.Fatalf(format, args...)
}

func TestConformance(t *testing.T) {
	w := theWorld
	// A launcher of the other implementation gives singletons: Init
	// rejects that already, and this says so if Init ever stops checking.
	if n := LaunchedSize(); n > 0 && w.Size() != n {
		fail(t, "MPI size %d, but the launcher started %d ranks", w.Size(), n)
	}
	if err := commtest.Exercise(w); err != nil {
		fail(t, "%v", err)
	}
	// The launcher test counts these lines, one per rank (t.Logf output
	// would be hidden or interleaved).
	fmt.Printf("conformance: rank %d size %d ok\n", w.Rank(), w.Size())
}

// TestMatchesLocal checks the reductions whose results the conformance
// suite cannot pin down with ordinary numbers: signed zeros, NaN, -Inf and
// order-dependent sums must come out of MPI exactly as from the Local
// backend with the same number of ranks.
func TestMatchesLocal(t *testing.T) {
	w := theWorld
	n := w.Size()
	nan := math.Float64frombits(0x7ff8_dead_beef_0001) // not math.NaN()'s bits
	cases := []struct {
		name string
		x    func(r int) float64
	}{
		{"zeros", func(r int) float64 { return math.Copysign(0, float64(1-2*(r%2))) }},
		{"minus zero last", func(r int) float64 {
			if r == n-1 {
				return math.Copysign(0, -1)
			}
			return 0
		}},
		{"nan", func(r int) float64 {
			if r == n/2 {
				return nan
			}
			return float64(r)
		}},
		{"nan and -inf", func(r int) float64 {
			if r == 0 {
				return math.Inf(-1)
			}
			return nan
		}},
		{"+inf", func(int) float64 { return math.Inf(1) }},
		{"mixed magnitudes", func(r int) float64 {
			return math.Ldexp(1/float64(r+3), (r*37)%101-50) * float64(1-2*(r%3%2))
		}},
	}
	for _, c := range cases {
		// The Local backend's results for the same inputs, computed here.
		wantMin, wantSum := make([]float64, n), make([]float64, n)
		err := comm.NewLocal(n).Run(func(lc comm.Comm) error {
			m, err := lc.AllreduceMin(c.x(lc.Rank()))
			if err != nil {
				return err
			}
			s, err := lc.AllreduceSum(c.x(lc.Rank()))
			wantMin[lc.Rank()], wantSum[lc.Rank()] = m, s
			return err
		})
		if err != nil {
			fail(t, "%s: local: %v", c.name, err)
		}
		gotMin, err := w.AllreduceMin(c.x(w.Rank()))
		if err != nil {
			fail(t, "%s: min: %v", c.name, err)
		}
		gotSum, err := w.AllreduceSum(c.x(w.Rank()))
		if err != nil {
			fail(t, "%s: sum: %v", c.name, err)
		}
		if math.Float64bits(gotMin) != math.Float64bits(wantMin[w.Rank()]) {
			fail(t, "%s: min %v (%#x), local %v (%#x)", c.name, gotMin, math.Float64bits(gotMin), wantMin[w.Rank()], math.Float64bits(wantMin[w.Rank()]))
		}
		if math.Float64bits(gotSum) != math.Float64bits(wantSum[w.Rank()]) {
			fail(t, "%s: sum %v, local %v", c.name, gotSum, wantSum[w.Rank()])
		}
	}
}

// TestErrors checks that misuse comes back as errors naming the problem,
// and that the world still works afterwards. Every case fails on every
// rank alike, so no rank is left waiting in MPI.
func TestErrors(t *testing.T) {
	w := theWorld
	r, n := w.Rank(), w.Size()
	right, left := (r+1)%n, (r+n-1)%n
	expect := func(what string, err error, substr string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), substr) {
			fail(t, "%s: error %v, want one containing %q", what, err, substr)
		}
	}
	expect("destination out of range", w.Sendrecv([]float64{1}, n, nil, comm.None, 1), "destination rank")
	expect("source out of range", w.Sendrecv(nil, comm.None, []float64{1}, -2, 1), "source rank")
	expect("negative tag", w.Sendrecv([]float64{1}, right, []float64{0}, left, -1), "tag -1 outside")
	expect("tag too large", w.Sendrecv([]float64{1}, right, []float64{0}, left, w.(*world).tagUB+1), "outside [0, ")
	// Longer than expected: MPI's truncation error, with the partners named.
	expect("truncation", w.Sendrecv([]float64{1, 2, 3}, right, make([]float64, 2), left, 3), "sent more than the 2 values")
	// The same to itself, which Open MPI 4.1 would truncate silently.
	expect("truncation to self", w.Sendrecv([]float64{1, 2, 3}, r, make([]float64, 2), r, 5), "sent more than the 2 values")
	self := []float64{-1, -1}
	if err := w.Sendrecv([]float64{1, 2}, r, self, r, 5); err != nil || self[0] != 1 || self[1] != 2 {
		fail(t, "exchange with itself: got %v, %v", self, err)
	}
	// Shorter than expected: MPI succeeds, the count check catches it.
	expect("short message", w.Sendrecv([]float64{1, 2}, right, make([]float64, 3), left, 4), "sent 2 values with tag 4")
	expect("allgatherv counts", w.Allgatherv([]float64{1}, make([]float64, n), make([]int, n+1)), "counts for")
	counts := make([]int, n)
	for q := range counts {
		counts[q] = 1
	}
	counts[r] = 2
	expect("allgatherv own count", w.Allgatherv([]float64{1}, make([]float64, n+1), counts), "counts say 2")
	// Every rank expects one value more from each rank than it is sent.
	ones, twos := make([]int, n), make([]int, n)
	for q := range n {
		ones[q], twos[q] = 1, 2
	}
	expect("alltoallv mismatch", w.Alltoallv(make([]float64, n), ones, make([]float64, 2*n), twos), "which expected 2")
	expect("alltoallv short buffer", w.Alltoallv(make([]float64, n-1), ones, make([]float64, n), ones), "send buffer holds")
	_, err := w.GatherBytes([]byte("x"), n)
	expect("gather root", err, "root rank")

	// The world still works, and no stray message is left behind: a ring
	// exchange with the tags used above receives what it should.
	if err := w.Barrier(); err != nil {
		fail(t, "barrier after errors: %v", err)
	}
	for _, tag := range []int{3, 4} {
		got := []float64{-1}
		if err := w.Sendrecv([]float64{float64(r)}, right, got, left, tag); err != nil || got[0] != float64(left) {
			fail(t, "ring with tag %d after errors: got %v, %v", tag, got, err)
		}
	}
}

// TestAbortHelper is started by TestLaunch with TURBINDEX_MPI_ABORT_TEST=1
// (and does nothing otherwise): rank 1 aborts while the others wait in a
// barrier that can never complete, and the whole job must end at once.
func TestAbortHelper(t *testing.T) {
	if os.Getenv("TURBINDEX_MPI_ABORT_TEST") != "1" {
		t.Skip("only run by TestLaunch, with TURBINDEX_MPI_ABORT_TEST=1")
	}
	w := theWorld
	if w.Size() < 2 {
		t.Fatalf("needs at least 2 ranks, have %d", w.Size())
	}
	if w.Rank() == 1 {
		w.Abort(errors.New("injected failure"))
		t.Fatal("Abort returned")
	}
	err := w.Barrier()
	t.Fatalf("barrier returned (%v) although rank 1 aborted", err)
}
