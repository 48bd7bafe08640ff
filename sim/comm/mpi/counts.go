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
