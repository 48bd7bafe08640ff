package mpi

import (
	"fmt"
	"math"
)

// The MPI-3 C API counts elements and measures displacements in C ints.
// These helpers validate Go lengths against that limit in pure Go, so they
// are tested by the default build; a count is never truncated silently.

// cInt converts the length n of what to a C int count.
func cInt(what string, n int) (int32, error) {
	if n < 0 {
		return 0, fmt.Errorf("%s: negative count %d", what, n)
	}
	if n > math.MaxInt32 {
		return 0, fmt.Errorf("%s: %d values exceed the MPI count limit of %d", what, n, math.MaxInt32)
	}
	return int32(n), nil
}

// layout turns per-rank counts into the C int counts and consecutive
// displacements (rank order) of a v-collective, and returns their total.
func layout(what string, counts []int) (cs, displs []int32, total int, err error) {
	cs = make([]int32, len(counts))
	displs = make([]int32, len(counts))
	for r, n := range counts {
		if n < 0 {
			return nil, nil, 0, fmt.Errorf("%s: negative count %d for rank %d", what, n, r)
		}
		cs[r] = int32(n)
		// Displacements are C ints too, so the running total must fit.
		if n > math.MaxInt32-total {
			return nil, nil, 0, fmt.Errorf("%s: counts total more than the MPI limit of %d values", what, math.MaxInt32)
		}
		displs[r] = int32(total)
		total += n
	}
	return cs, displs, total, nil
}

// checkCounts validates the counts of a gather as the Local backend does:
// one per rank, this rank's matching its send, and a receive buffer that
// holds them all.
func checkCounts(size int, counts []int, sent, rank, recvLen int) error {
	if len(counts) != size {
		return fmt.Errorf("%d counts for %d ranks", len(counts), size)
	}
	if counts[rank] != sent {
		return fmt.Errorf("rank %d sends %d values, counts say %d", rank, sent, counts[rank])
	}
	total := 0
	for r, n := range counts {
		if n < 0 {
			return fmt.Errorf("negative count %d for rank %d", n, r)
		}
		total += n
	}
	if total > recvLen {
		return fmt.Errorf("receive buffer of %d values, counts total %d", recvLen, total)
	}
	return nil
}

// checkAlltoallv validates the local side of an all-to-all: one count per
// rank each way, and buffers that hold what the counts say.
func checkAlltoallv(size int, send []float64, sendCounts []int, recv []float64, recvCounts []int) error {
	if len(sendCounts) != size || len(recvCounts) != size {
		return fmt.Errorf("%d send and %d receive counts for %d ranks", len(sendCounts), len(recvCounts), size)
	}
	for _, c := range []struct {
		what   string
		counts []int
		have   int
	}{{"send", sendCounts, len(send)}, {"receive", recvCounts, len(recv)}} {
		total := 0
		for r, n := range c.counts {
			if n < 0 {
				return fmt.Errorf("negative %s count %d for rank %d", c.what, n, r)
			}
			total += n
		}
		if total > c.have {
			return fmt.Errorf("%s counts total %d, the %s buffer holds %d values", c.what, total, c.what, c.have)
		}
	}
	return nil
}
