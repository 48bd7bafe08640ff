package hog

import (
	"fmt"
	"runtime"
	"sync"
)

// Image is one named grayscale image: rows×cols float32 pixels, row-major.
type Image struct {
	Name       string
	Pix        []float32
	Rows, Cols int
}

// Loader loads the images of one source (a PNG gives one, a snapshot 48).
// Stream calls it from a worker goroutine.
type Loader func() ([]Image, error)

// Stream computes the HOG features of the images of many sources in
// parallel and hands them to emit in source order, each image with its
// features. Every image must
// have the size of the first one; options(rows, cols) gives the options for
// that size. workers ≤ 0 means GOMAXPROCS, and no more than GOMAXPROCS
// workers are started. At most 2·workers sources are loaded at a time, so
// memory is bounded by that many sources. The first error, from a loader,
// from a feature computation (naming the image) or from emit, stops the
// stream and is returned.
func Stream(sources []Loader, options func(rows, cols int) Options, workers int, emit func(Image, []float64) error) error {
	if workers <= 0 || workers > runtime.GOMAXPROCS(0) {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(sources)))
	type result struct {
		images []Image
		feats  [][]float64
		err    error
	}
	results := make([]chan result, len(sources))
	for i := range results {
		results[i] = make(chan result, 1)
	}
	// window limits the sources loaded and not yet emitted.
	window := make(chan struct{}, 2*workers)
	stop := make(chan struct{})
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ext := map[[2]int]*Extractor{} // one per image size met
			for i := range jobs {
				imgs, err := sources[i]()
				r := result{images: imgs}
				for k := 0; err == nil && k < len(imgs); k++ {
					im := imgs[k]
					e := ext[[2]int{im.Rows, im.Cols}]
					if e == nil {
						if e, err = NewExtractor(im.Rows, im.Cols, options(im.Rows, im.Cols)); err != nil {
							err = fmt.Errorf("%s: %w", im.Name, err)
							break
						}
						ext[[2]int{im.Rows, im.Cols}] = e
					}
					var f []float64
					if f, err = e.Compute(nil, im.Pix); err != nil {
						err = fmt.Errorf("%s: %w", im.Name, err)
						break
					}
					r.feats = append(r.feats, f)
				}
				r.err = err
				results[i] <- r
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := range sources {
			select {
			case window <- struct{}{}:
			case <-stop:
				return
			}
			select {
			case jobs <- i:
			case <-stop:
				return
			}
		}
	}()
	var err error
	var first *Image
	for i := range sources {
		r := <-results[i]
		<-window
		if r.err != nil {
			err = r.err
			break
		}
		for k, im := range r.images {
			if first == nil {
				first = &r.images[k]
			}
			if im.Rows != first.Rows || im.Cols != first.Cols {
				err = fmt.Errorf("%s: %d×%d pixels, but %s is %d×%d: a batch's images must have one size", im.Name, im.Rows, im.Cols, first.Name, first.Rows, first.Cols)
				break
			}
			if err = emit(im, r.feats[k]); err != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	close(stop)
	// Results are buffered, so the workers finish their current source
	// and then see jobs closed.
	wg.Wait()
	return err
}
