package dataset

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/internal/atomicfile"
)

// Stream is the images of a campaign's chosen rows, kept in the image cache
// and decoded on demand, so that a consumer holds only the images it is
// working on: training on the paper's 38 400 images of 250² (9.6 GB of
// float32) needs a window of a few hundred of them.
//
// Image i of a Stream is image i%48 (ImageIndex order) of its simulation
// i/48, the simulations in manifest row order, as in a Set.
type Stream struct {
	// Size is the side of every image, in pixels.
	Size int
	// Warnings are the warnings of OpenStream, in the order they happened.
	Warnings []string

	rows  []campaign.Row
	paths []string      // cache file of each row
	index []*cacheIndex // its table
}

// OpenStream makes sure that the image cache opt.Cache (required) holds the
// images of the rows of m chosen by opt.Splits and opt.Classes at opt.Size,
// decoding the snapshots whose cache file is missing, stale or corrupt (a
// warning, as in Load; every frame of an existing file is decoded and
// checked), and returns a Stream over them. It holds at most
// opt.Workers simulations' images at once, and afterwards only the cache
// files' tables (about 1.6 kB per simulation). It fails as Load does, and
// when a cache file cannot be written.
func OpenStream(m *campaign.Manifest, snapdir string, opt Options) (*Stream, error) {
	if opt.Cache == "" {
		return nil, errors.New("image stream: no cache directory")
	}
	rows, err := selectRows(m, opt)
	if err != nil {
		return nil, err
	}
	if opt.Size < 0 {
		return nil, fmt.Errorf("image size %d: want ≥ 0 (0: N/2)", opt.Size)
	}
	if err := os.MkdirAll(opt.Cache, 0o755); err != nil {
		return nil, fmt.Errorf("cache directory: %w", err)
	}
	if err := Check(m, snapdir, rows, opt); err != nil {
		return nil, err
	}
	if err := checkCacheSpace(opt.Cache, rows, opt.Size); err != nil {
		return nil, err
	}
	s := &Stream{rows: rows, paths: make([]string, len(rows)), index: make([]*cacheIndex, len(rows))}
	s.Warnings, err = eachRow(rows, opt, func(i int, warn func(string)) error {
		var err error
		s.paths[i], s.index[i], err = cacheRow(m, snapdir, rows[i], opt, warn)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.Size = s.index[0].size
	for i, ix := range s.index {
		if ix.size != s.Size {
			return nil, fmt.Errorf("images of mixed size: simulation %s gives %d² pixels, %s gives %d² (snapshots of different grids; set an image size)",
				rows[i].ID, ix.size, rows[0].ID, s.Size)
		}
	}
	return s, nil
}

// checkCacheSpace refuses to start filling the cache dir when the files
// it lacks for rows at image side size (0: not known yet, no check) could
// outgrow the free space of its file system: each file is counted at its
// bound, 4 bytes a pixel (zstd saves 10–40 % on these images).
func checkCacheSpace(dir string, rows []campaign.Row, size int) error {
	if size <= 0 {
		return nil
	}
	missing := 0
	for _, r := range rows {
		if _, err := os.Stat(CachePath(dir, r.ID, size)); err != nil {
			missing++
		}
	}
	if missing == 0 {
		return nil
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return nil // no figure to judge by: the writes will say
	}
	free := float64(st.Bavail) * float64(st.Bsize)
	need := float64(missing) * (PerSnapshot*4*float64(size)*float64(size) + float64(tableLen(PerSnapshot)))
	if need > free {
		return fmt.Errorf("image cache %s: the images of %d simulations at %d² need up to %.3g GB, the file system has %.3g GB free: free space, or set a cache directory elsewhere",
			dir, missing, size, need/1e9, free/1e9)
	}
	return nil
}

// cacheRow returns the cache file of row and its table, writing the file
// first if it does not hold the snapshot's current images.
func cacheRow(m *campaign.Manifest, snapdir string, row campaign.Row, opt Options, warn func(string)) (string, *cacheIndex, error) {
	s, size, err := openRow(m, snapdir, row, opt)
	if err != nil {
		return "", nil, err
	}
	defer s.f.Close()
	path := CachePath(opt.Cache, row.ID, size)
	data, err := os.ReadFile(path)
	if err == nil {
		// Decoding every frame once costs about as much as a tenth of an
		// epoch of training and finds a damaged file before the long work.
		if _, err = decodeCache(data, s.key, size); err == nil {
			ix, err := parseIndex(data, int64(len(data)), s.key, size)
			return path, ix, err
		}
	}
	if !errors.Is(err, fs.ErrNotExist) {
		warn(fmt.Sprintf("cache %s: %v; rebuilding it", path, err))
	}
	block, err := s.decode(size)
	if err != nil {
		return "", nil, err
	}
	data, err = encodeCache(s.key, size, block)
	if err != nil {
		return "", nil, err
	}
	ix, err := parseIndex(data, int64(len(data)), s.key, size)
	if err != nil {
		return "", nil, fmt.Errorf("cache %s: %w", path, err)
	}
	if err := atomicfile.WriteBytes(path, data); err != nil {
		return "", nil, fmt.Errorf("image cache %s: %w", path, err)
	}
	return path, ix, nil
}

// Len returns the number of images.
func (s *Stream) Len() int { return PerSnapshot * len(s.rows) }

// Sims returns the number of simulations.
func (s *Stream) Sims() int { return len(s.rows) }

// Label returns the label of image i.
func (s *Stream) Label(i int) Label {
	p, f, q := imageParts(i % PerSnapshot)
	r := s.rows[i/PerSnapshot]
	return Label{ID: r.ID, Class: r.Class, Split: r.Split, Index: r.Index, Projection: p, Flip: f, Quadrant: q}
}

// imageParts inverts ImageIndex.
func imageParts(k int) (projection, flip, quadrant int) {
	return k / (NumFlips * NumQuadrants), k / NumQuadrants % NumFlips, k % NumQuadrants
}

// Stats returns the mean and standard deviation of every pixel of the
// stream, from the cache files' tables (each image's sum and sum of squared
// deviations, combined in image order in float64): no image is decoded. It
// fails as ComputeStats does on non-finite or constant pixels.
func (s *Stream) Stats() (Stats, error) {
	var sum float64
	n := float64(s.Size * s.Size)
	for _, ix := range s.index {
		for _, fr := range ix.frames {
			sum += fr.psum
		}
	}
	total := n * float64(s.Len())
	mean := sum / total
	if math.IsNaN(mean) || math.IsInf(mean, 0) {
		return Stats{}, errors.New("standardisation statistics: the training split holds a non-finite pixel")
	}
	var ss float64
	for _, ix := range s.index {
		for _, fr := range ix.frames {
			d := fr.psum/n - mean
			ss += fr.m2 + n*d*d
		}
	}
	st := Stats{Mean: mean, Std: math.Sqrt(ss / total)}
	if !(st.Std > 0) || math.IsInf(st.Std, 0) {
		return Stats{}, fmt.Errorf("standardisation statistics: the %.0f training pixels are all %g: no variance to scale by", total, mean)
	}
	return st, nil
}

// SimImages returns the 48 images of simulation k (0 ≤ k < Sims()), in
// ImageIndex order, decoded from the cache.
func (s *Stream) SimImages(k int) ([]Image, error) {
	data, err := os.ReadFile(s.paths[k])
	if err != nil {
		return nil, s.readErr(k, err)
	}
	block, err := decodeCache(data, s.index[k].key, s.Size)
	if err != nil {
		return nil, s.readErr(k, err)
	}
	return images(block, s.Size, s.rows[k]), nil
}

// Read decodes image i into dst (Size² pixels).
func (s *Stream) Read(i int, dst []float32) error {
	d, err := newFrameDecoder(s.Size)
	if err != nil {
		return err
	}
	defer d.close()
	return s.read(d, i, dst)
}

func (s *Stream) read(d *frameDecoder, i int, dst []float32) error {
	k := i / PerSnapshot
	f, err := os.Open(s.paths[k])
	if err != nil {
		return s.readErr(k, err)
	}
	defer f.Close()
	if err := d.read(f, s.index[k], i%PerSnapshot, dst); err != nil {
		return s.readErr(k, err)
	}
	return nil
}

func (s *Stream) readErr(k int, err error) error {
	return fmt.Errorf("image cache %s (simulation %s): %w; it changed while in use: delete it to rebuild it", s.paths[k], s.rows[k].ID, err)
}

// Loader says how Stream.Batches reads images.
type Loader struct {
	// Window is the number of images decoded ahead of the consumer, rounded
	// up to a multiple of the batch; 0 means 256. Batches holds two windows
	// (the one consumed, the one being filled): 2·Window·Size²·4 bytes.
	Window int
	// Workers is the number of goroutines decoding; 0 means GOMAXPROCS.
	Workers int
	// Prepare, if not nil, is applied to the pixels of each image after
	// decoding (a standardisation, an augmentation), with the image's index,
	// on the decoding goroutines: it must be safe for concurrent use and
	// must depend on nothing but its arguments for Batches to be
	// deterministic.
	Prepare func(i int, pix []float32)
}

// DefaultWindow is the window of a Loader whose Window is 0.
const DefaultWindow = 256

// WindowBytes returns the memory Batches holds for images of size² pixels
// in batches of batch: two windows.
func (ld Loader) WindowBytes(size, batch int) int64 {
	return 2 * int64(ld.Images(batch)) * int64(size) * int64(size) * 4
}

// Images returns the number of images of a window for batches of batch:
// ld.Window (or DefaultWindow) rounded up to a multiple of batch.
func (ld Loader) Images(batch int) int {
	w := ld.Window
	if w <= 0 {
		w = DefaultWindow
	}
	batch = max(batch, 1)
	return (w + batch - 1) / batch * batch
}

// Batches calls fn with consecutive batches of the images order lists (image
// indices, in the order given), batch images at a time (the last batch may
// be smaller): idx are the images' indices, pix their pixels one image after
// the other (prepared by ld.Prepare), valid until fn returns.
//
// Images are decoded ahead of fn in windows of ld.Window images by
// ld.Workers goroutines, each image into its own slot; what fn sees is
// therefore a function of order, batch and Prepare alone, bit for bit,
// whatever the window and the number of workers. Batches returns the first
// error of a read or of fn.
func (s *Stream) Batches(order []int, batch int, ld Loader, fn func(idx []int, pix []float32) error) error {
	if batch < 1 {
		return fmt.Errorf("image stream: batch of %d", batch)
	}
	for _, i := range order {
		if i < 0 || i >= s.Len() {
			return fmt.Errorf("image stream: image %d out of [0, %d)", i, s.Len())
		}
	}
	if len(order) == 0 {
		return nil
	}
	px := s.Size * s.Size
	w := min(ld.Images(batch), (len(order)+batch-1)/batch*batch)
	workers := ld.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, w)
	decs := make([]*frameDecoder, workers)
	for i := range decs {
		d, err := newFrameDecoder(s.Size)
		if err != nil {
			return err
		}
		defer d.close()
		decs[i] = d
	}

	type chunk struct {
		first int // position in order
		pix   []float32
		err   error
	}
	free := make(chan []float32, 2)
	free <- make([]float32, w*px)
	free <- make([]float32, w*px)
	ready := make(chan chunk, 1)
	done := make(chan struct{})
	var producer sync.WaitGroup
	defer producer.Wait()
	defer close(done)
	producer.Go(func() {
		defer close(ready)
		for first := 0; first < len(order); first += w {
			var buf []float32
			select {
			case buf = <-free:
			case <-done:
				return
			}
			idx := order[first:min(first+w, len(order))]
			err := s.fill(decs, idx, buf, ld.Prepare)
			select {
			case ready <- chunk{first, buf, err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	})
	for c := range ready {
		if c.err != nil {
			return c.err
		}
		idx := order[c.first:min(c.first+w, len(order))]
		for b := 0; b < len(idx); b += batch {
			e := min(b+batch, len(idx))
			if err := fn(idx[b:e], c.pix[b*px:e*px]); err != nil {
				return err
			}
		}
		free <- c.pix
	}
	return nil
}

// fill decodes the images idx into consecutive slots of buf with one
// goroutine per decoder, and prepares them.
func (s *Stream) fill(decs []*frameDecoder, idx []int, buf []float32, prepare func(int, []float32)) error {
	px := s.Size * s.Size
	var next atomic.Int64
	errs := make([]error, len(decs))
	var wg sync.WaitGroup
	for g, d := range decs {
		wg.Go(func() {
			for {
				j := int(next.Add(1) - 1)
				if j >= len(idx) {
					return
				}
				dst := buf[j*px : (j+1)*px]
				if err := s.read(d, idx[j], dst); err != nil {
					errs[g] = err
					return
				}
				if prepare != nil {
					prepare(idx[j], dst)
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
