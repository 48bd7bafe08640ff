package comm

import (
	"fmt"
	"math"
	"sync"
)

// Local is a world of ranks that are goroutines in one process. Messages are
// copied through buffered channels, one per (source, destination, tag).
type Local struct {
	size int

	mu    sync.Mutex
	boxes map[mailKey]chan []float64
	cause error
	done  chan struct{} // closed on Abort

	gather gathering
}

type mailKey struct{ src, dst, tag int }

// gathering is a reusable rendezvous: ranks post values, the last to arrive
// publishes the full set through the current generation and starts the next.
type gathering struct {
	mu      sync.Mutex
	vals    []any
	arrived int
	gen     *generation
}

type generation struct {
	done chan struct{}
	vals []any
}

// NewLocal creates an in-process world of size ranks.
func NewLocal(size int) *Local {
	if size < 1 {
		panic(fmt.Sprintf("comm.NewLocal: size %d < 1", size))
	}
	return &Local{
		size:   size,
		boxes:  make(map[mailKey]chan []float64),
		done:   make(chan struct{}),
		gather: gathering{gen: &generation{done: make(chan struct{})}},
	}
}

// Rank returns the Comm of rank r.
func (w *Local) Rank(r int) Comm { return &localComm{w: w, rank: r} }

// Run starts f on every rank, each in its own goroutine, and waits for all.
// The first error aborts the world and is returned; errors caused only by
// that abort are not reported again.
func (w *Local) Run(f func(c Comm) error) error {
	errs := make([]error, w.size)
	var wg sync.WaitGroup
	for r := range w.size {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					errs[r] = fmt.Errorf("rank %d: panic: %v", r, p)
					w.abort(errs[r])
				}
			}()
			if err := f(w.Rank(r)); err != nil {
				errs[r] = err
				w.abort(fmt.Errorf("rank %d: %w", r, err))
			}
		})
	}
	wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cause
}

func (w *Local) abort(cause error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cause == nil {
		w.cause = cause
		close(w.done)
	}
}

func (w *Local) box(k mailKey) chan []float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch, ok := w.boxes[k]
	if !ok {
		// Two slots: a rank can be at most one exchange ahead of a partner.
		ch = make(chan []float64, 2)
		w.boxes[k] = ch
	}
	return ch
}

type localComm struct {
	w    *Local
	rank int
}

func (c *localComm) Rank() int { return c.rank }
func (c *localComm) Size() int { return c.w.size }

func (c *localComm) Sendrecv(send []float64, dst int, recv []float64, src int, tag int) error {
	w := c.w
	if dst != None {
		if dst < 0 || dst >= w.size {
			return fmt.Errorf("sendrecv: destination rank %d outside [0, %d)", dst, w.size)
		}
		msg := append([]float64(nil), send...)
		select {
		case w.box(mailKey{c.rank, dst, tag}) <- msg:
		case <-w.done:
			return ErrAborted
		}
	}
	if src != None {
		if src < 0 || src >= w.size {
			return fmt.Errorf("sendrecv: source rank %d outside [0, %d)", src, w.size)
		}
		select {
		case msg := <-w.box(mailKey{src, c.rank, tag}):
			if len(msg) != len(recv) {
				return fmt.Errorf("sendrecv: rank %d sent %d values with tag %d, rank %d expected %d", src, len(msg), tag, c.rank, len(recv))
			}
			copy(recv, msg)
		case <-w.done:
			return ErrAborted
		}
	}
	return nil
}

func (c *localComm) AllreduceMin(x float64) (float64, error) {
	return c.allreduce(x, func(v []float64) float64 {
		m := math.Inf(1)
		for _, x := range v {
			m = math.Min(m, x)
		}
		return m
	})
}

func (c *localComm) AllreduceSum(x float64) (float64, error) {
	return c.allreduce(x, func(v []float64) float64 {
		s := 0.0
		for _, x := range v {
			s += x
		}
		return s
	})
}

func (c *localComm) Barrier() error {
	_, err := c.allreduce(0, func([]float64) float64 { return 0 })
	return err
}

func (c *localComm) Abort(cause error) {
	c.w.abort(fmt.Errorf("rank %d: %w", c.rank, cause))
}

// allreduce combines every rank's x with op, in rank order, so the result
// is deterministic.
func (c *localComm) allreduce(x float64, op func([]float64) float64) (float64, error) {
	all, err := c.exchange(x)
	if err != nil {
		return 0, err
	}
	v := make([]float64, len(all))
	for r, a := range all {
		v[r] = a.(float64)
	}
	return op(v), nil
}

// Collectives of the in-process backend are built on one exchange: every
// rank posts a value, the last to arrive publishes all of them.
func (c *localComm) exchange(v any) ([]any, error) {
	w := c.w
	g := &w.gather
	g.mu.Lock()
	if g.vals == nil {
		g.vals = make([]any, w.size)
	}
	g.vals[c.rank] = v
	g.arrived++
	gen := g.gen
	if g.arrived == w.size {
		gen.vals = g.vals
		g.vals, g.arrived = nil, 0
		g.gen = &generation{done: make(chan struct{})}
		g.mu.Unlock()
		close(gen.done)
		return gen.vals, nil
	}
	g.mu.Unlock()
	select {
	case <-gen.done:
		return gen.vals, nil
	case <-w.done:
		return nil, ErrAborted
	}
}

func (c *localComm) Allgatherv(send []float64, recv []float64, counts []int) error {
	if err := CheckCounts(c.w.size, counts, len(send), c.rank, len(recv)); err != nil {
		return fmt.Errorf("allgatherv: %w", err)
	}
	all, err := c.exchange(append([]float64(nil), send...))
	if err != nil {
		return err
	}
	off := 0
	for _, v := range all {
		off += copy(recv[off:], v.([]float64))
	}
	return nil
}

func (c *localComm) Alltoallv(send []float64, sendCounts []int, recv []float64, recvCounts []int) error {
	if err := CheckAlltoallv(c.w.size, send, sendCounts, recv, recvCounts); err != nil {
		return fmt.Errorf("alltoallv: %w", err)
	}
	// Post views of the send buffer, not copies: every rank copies its
	// parts straight out of the others' buffers, and a second rendezvous
	// keeps each sender from returning (and reusing its buffer) before all
	// receivers are done with it.
	parts := make([][]float64, c.w.size)
	off := 0
	for r, n := range sendCounts {
		parts[r] = send[off : off+n : off+n]
		off += n
	}
	all, err := c.exchange(parts)
	if err != nil {
		return err
	}
	off = 0
	for r, v := range all {
		part := v.([][]float64)[c.rank]
		if len(part) != recvCounts[r] {
			return fmt.Errorf("alltoallv: rank %d sent %d values to rank %d, which expected %d", r, len(part), c.rank, recvCounts[r])
		}
		off += copy(recv[off:], part)
	}
	_, err = c.exchange(nil)
	return err
}

func (c *localComm) ExscanInt(x int64) (int64, error) {
	all, err := c.exchange(x)
	if err != nil {
		return 0, err
	}
	var s int64
	for _, v := range all[:c.rank] {
		s += v.(int64)
	}
	return s, nil
}

func (c *localComm) GatherBytes(send []byte, root int) ([][]byte, error) {
	all, err := c.exchange(append([]byte(nil), send...))
	if err != nil || c.rank != root {
		return nil, err
	}
	out := make([][]byte, len(all))
	for r, v := range all {
		out[r] = v.([]byte)
	}
	return out, nil
}
