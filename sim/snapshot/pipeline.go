package snapshot

import "runtime"

// runOrdered calls work(i) for every i in [0, n), up to GOMAXPROCS at a
// time, and passes each result to sink in increasing order of i (sink may
// be nil). At most GOMAXPROCS results exist at once, which bounds memory
// to a few chunks however many there are.
//
// It returns the error of the smallest i whose work or sink failed, so the
// outcome does not depend on scheduling; after a failure it starts no new
// work and waits for the work in progress before returning.
func runOrdered[T any](n int, work func(i int) (T, error), sink func(i int, v T) error) error {
	if n <= 0 {
		return nil
	}
	type result struct {
		v   T
		err error
	}
	results := make([]chan result, n)
	for i := range results {
		results[i] = make(chan result, 1) // buffered: workers never block
	}
	slots := make(chan struct{}, min(runtime.GOMAXPROCS(0), n))
	stop := make(chan struct{})
	started := make(chan int, 1)
	go func() {
		i := 0
		defer func() { started <- i }()
		for ; i < n; i++ {
			select {
			case slots <- struct{}{}:
			case <-stop:
				return
			}
			go func(i int) {
				v, err := work(i)
				results[i] <- result{v, err}
			}(i)
		}
	}()

	var err error
	received := 0
	for ; received < n; received++ {
		r := <-results[received]
		if r.err == nil && sink != nil {
			r.err = sink(received, r.v)
		}
		if r.err != nil {
			err = r.err
			received++
			break
		}
		<-slots
	}
	close(stop)
	// Wait for work already started, so none of it outlives the call.
	for k := <-started; received < k; received++ {
		<-results[received]
	}
	return err
}
