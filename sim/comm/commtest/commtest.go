// Package commtest is a conformance suite for implementations of
// comm.Comm: every backend (in-process, MPI) must pass Exercise on every
// rank, for any number of ranks.
package commtest

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/turbindex/turbindex/sim/comm"
)

// Exercise runs the conformance checks on rank c of its world and returns
// the first discrepancy. Every rank of the world must call it.
func Exercise(c comm.Comm) error {
	for _, check := range []struct {
		name string
		f    func(comm.Comm) error
	}{
		{"ranks", ranks},
		{"sendrecv ring", ring},
		{"sendrecv none", none},
		{"allreduce", allreduce},
		{"allgatherv", allgatherv},
		{"alltoallv", alltoallv},
		{"exscan", exscan},
		{"gather bytes", gatherBytes},
		{"barrier", func(c comm.Comm) error { return c.Barrier() }},
	} {
		if err := check.f(c); err != nil {
			return fmt.Errorf("rank %d of %d: %s: %w", c.Rank(), c.Size(), check.name, err)
		}
	}
	return nil
}

func ranks(c comm.Comm) error {
	if c.Size() < 1 || c.Rank() < 0 || c.Rank() >= c.Size() {
		return fmt.Errorf("rank %d, size %d", c.Rank(), c.Size())
	}
	return nil
}

// ring passes a rank-stamped message to the right and one to the left, with
// distinct tags, as the ghost exchange does.
func ring(c comm.Comm) error {
	r, n := c.Rank(), c.Size()
	right, left := (r+1)%n, (r+n-1)%n
	for _, size := range []int{1, 1000, 200000} {
		send := make([]float64, size)
		for i := range send {
			send[i] = float64(r*size + i)
		}
		recv := make([]float64, size)
		if err := c.Sendrecv(send, right, recv, left, 7); err != nil {
			return err
		}
		if recv[0] != float64(left*size) || recv[size-1] != float64(left*size+size-1) {
			return fmt.Errorf("size %d: got %v…%v from rank %d", size, recv[0], recv[size-1], left)
		}
		if err := c.Sendrecv(send, left, recv, right, 8); err != nil {
			return err
		}
		if recv[0] != float64(right*size) {
			return fmt.Errorf("size %d: got %v from rank %d", size, recv[0], right)
		}
	}
	return nil
}

// none checks that comm.None partners are skipped: a non-periodic shift.
func none(c comm.Comm) error {
	r, n := c.Rank(), c.Size()
	dst, src := r+1, r-1
	if dst == n {
		dst = comm.None
	}
	if src < 0 {
		src = comm.None
	}
	recv := []float64{-1}
	var in []float64
	if src != comm.None {
		in = recv
	}
	if err := c.Sendrecv([]float64{float64(r)}, dst, in, src, 9); err != nil {
		return err
	}
	if src != comm.None && recv[0] != float64(src) {
		return fmt.Errorf("got %v from rank %d", recv[0], src)
	}
	return nil
}

func allreduce(c comm.Comm) error {
	r, n := c.Rank(), c.Size()
	m, err := c.AllreduceMin(float64(10 - r))
	if err != nil {
		return err
	}
	if m != float64(10-(n-1)) {
		return fmt.Errorf("min %v, want %v", m, 10-(n-1))
	}
	// Values whose float64 sum depends on the order of addition: the
	// result must be the sum in rank order, bit for bit.
	x := 1.0 / float64(3+r)
	if r%2 == 1 {
		x *= 1e16
	}
	want := 0.0
	for q := range n {
		v := 1.0 / float64(3+q)
		if q%2 == 1 {
			v *= 1e16
		}
		want += v
	}
	s, err := c.AllreduceSum(x)
	if err != nil {
		return err
	}
	if math.Float64bits(s) != math.Float64bits(want) {
		return fmt.Errorf("sum %.17g, rank-order sum %.17g", s, want)
	}
	return nil
}

func allgatherv(c comm.Comm) error {
	r, n := c.Rank(), c.Size()
	counts := make([]int, n)
	total := 0
	for q := range n {
		counts[q] = q + 1
		total += q + 1
	}
	send := slices.Repeat([]float64{float64(r)}, r+1)
	recv := make([]float64, total)
	if err := c.Allgatherv(send, recv, counts); err != nil {
		return err
	}
	off := 0
	for q := range n {
		for i := range q + 1 {
			if recv[off+i] != float64(q) {
				return fmt.Errorf("value %d from rank %d is %v", i, q, recv[off+i])
			}
		}
		off += q + 1
	}
	return nil
}

// alltoallv sends r+q+1 values encoding (from, to, index) from rank r to q.
func alltoallv(c comm.Comm) error {
	r, n := c.Rank(), c.Size()
	var send []float64
	sc, rc := make([]int, n), make([]int, n)
	for q := range n {
		sc[q], rc[q] = r+q+1, q+r+1
		for i := range r + q + 1 {
			send = append(send, float64(r*1e6+q*1e3+i))
		}
	}
	recv := make([]float64, 0, len(send))
	for q := range n {
		recv = recv[:len(recv)+rc[q]]
	}
	if err := c.Alltoallv(send, sc, recv, rc); err != nil {
		return err
	}
	off := 0
	for q := range n {
		for i := range rc[q] {
			if want := float64(q*1e6 + r*1e3 + i); recv[off+i] != want {
				return fmt.Errorf("from rank %d value %d: %v, want %v", q, i, recv[off+i], want)
			}
		}
		off += rc[q]
	}
	return nil
}

func exscan(c comm.Comm) error {
	r := c.Rank()
	got, err := c.ExscanInt(int64(1) << 40 * int64(r+1))
	if err != nil {
		return err
	}
	want := int64(0)
	for q := range r {
		want += int64(1) << 40 * int64(q+1)
	}
	if got != want {
		return fmt.Errorf("exscan %d, want %d", got, want)
	}
	return nil
}

func gatherBytes(c comm.Comm) error {
	r, n := c.Rank(), c.Size()
	root := n - 1
	all, err := c.GatherBytes([]byte(fmt.Sprintf("rank %d", r)), root)
	if err != nil {
		return err
	}
	if r != root {
		if all != nil {
			return errors.New("non-root rank received the gather")
		}
		return nil
	}
	if len(all) != n {
		return fmt.Errorf("root got %d parts", len(all))
	}
	for q, b := range all {
		if string(b) != fmt.Sprintf("rank %d", q) {
			return fmt.Errorf("part %d is %q", q, b)
		}
	}
	return nil
}
