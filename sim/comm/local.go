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

	red reduction
}

type mailKey struct{ src, dst, tag int }

// reduction is a reusable rendezvous for collectives: ranks deposit a value,
// the last to arrive combines them and wakes the others.
type reduction struct {
	mu      sync.Mutex
	vals    []float64
	arrived int
	result  float64
	release chan struct{}
}

// NewLocal creates an in-process world of size ranks.
func NewLocal(size int) *Local {
	if size < 1 {
		panic(fmt.Sprintf("comm.NewLocal: size %d < 1", size))
	}
	return &Local{
		size:  size,
		boxes: make(map[mailKey]chan []float64),
		done:  make(chan struct{}),
		red:   reduction{vals: make([]float64, size), release: make(chan struct{})},
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

// allreduce deposits x, and the last rank to arrive combines all values with
// op in rank order, so the result is deterministic.
func (c *localComm) allreduce(x float64, op func([]float64) float64) (float64, error) {
	r := &c.w.red
	r.mu.Lock()
	r.vals[c.rank] = x
	r.arrived++
	release := r.release
	if r.arrived == c.w.size {
		r.result = op(r.vals)
		r.arrived = 0
		r.release = make(chan struct{})
		result := r.result
		r.mu.Unlock()
		close(release)
		return result, nil
	}
	r.mu.Unlock()
	select {
	case <-release:
	case <-c.w.done:
		return 0, ErrAborted
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.result, nil
}
