package dataset

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/turbindex/turbindex/campaign"
)

// Options choose what Load reads and how.
type Options struct {
	// Size is the side of the images in pixels; 0 means N/2 (no
	// resampling), which must then be the same for every snapshot.
	Size int
	// Splits lists the splits to load (campaign.Train, campaign.Test,
	// campaign.Holdout); nil means all. Each must have at least one
	// simulation of the chosen classes.
	Splits []string
	// Classes lists the classes to load (campaign.Kolmogorov,
	// campaign.Burgers, campaign.Sweep); nil means all.
	Classes []string
	// Workers is the number of snapshots decoded at once; 0 means
	// GOMAXPROCS.
	Workers int
	// Cache is the directory of the image cache, created if missing; ""
	// means no cache.
	Cache string
	// Progress, if not nil, is called after each simulation with the
	// number done and the total, from one goroutine at a time.
	Progress func(done, total int)
	// Warn, if not nil, is called with each warning (a cache file ignored or
	// not written) as it happens, from one goroutine at a time. Warnings are
	// also collected in Set.Warnings.
	Warn func(msg string)
}

// Set is the images of a campaign's simulations.
//
// Images holds the 48 images of each simulation contiguously, in ImageIndex
// order, the simulations in manifest row order. The pixels of one
// simulation share one allocation (48·Size² float32), so an image costs
// 4·Size² bytes of pixels plus about 120 bytes of Image and Label (3 % at
// 32², 0.05 % at 250²). A compact layout (one array per split and a label
// table) would save no more than that, while []Image keeps each label next
// to its pixels for every consumer (batches, metrics, PNGs); shuffled
// mini-batches copy pixels anyway.
type Set struct {
	// Size is the side of every image, in pixels.
	Size int
	// Images are the images, grouped by simulation.
	Images []Image
	// Warnings are the warnings of Load, in the order they happened.
	Warnings []string
}

// Validate checks that every image of s has s.Size² pixels: a Set never
// mixes image sizes.
func (s *Set) Validate() error {
	if s.Size < 1 {
		return fmt.Errorf("image set: size %d", s.Size)
	}
	for i, im := range s.Images {
		if im.Size != s.Size || len(im.Pix) != im.Size*im.Size {
			return fmt.Errorf("image set: images of mixed size: image %d (%s, %s, flip %s, quadrant %s) is %d² with %d pixels, the set's are %d²",
				i, im.Label.ID, Projections[im.Label.Projection%NumProjections], FlipNames[im.Label.Flip%NumFlips],
				QuadrantNames[im.Label.Quadrant%NumQuadrants], im.Size, len(im.Pix), s.Size)
		}
	}
	return nil
}

// Split returns the images of the named split, in set order; they share their
// pixels with s. It fails if the split has no image in s.
func (s *Set) Split(name string) ([]Image, error) {
	var out []Image
	have := map[string]bool{}
	for _, im := range s.Images {
		have[im.Label.Split] = true
		if im.Label.Split == name {
			out = append(out, im)
		}
	}
	if len(out) == 0 {
		var names []string
		for _, sp := range campaign.Splits {
			if have[sp] {
				names = append(names, sp)
			}
		}
		return nil, fmt.Errorf("split %q: no images in the set (it holds: %s)", name, strings.Join(names, ", "))
	}
	return out, nil
}

// Sims returns, for each simulation id, the indices into s.Images of its
// images in increasing order.
func (s *Set) Sims() map[string][]int {
	out := map[string][]int{}
	for i, im := range s.Images {
		out[im.Label.ID] = append(out[im.Label.ID], i)
	}
	return out
}

// Load reads the images of the rows of m chosen by opt.Splits and
// opt.Classes from the snapshots in snapdir (campaign.SnapshotPath), in
// parallel. Splits come only from the manifest's split column: every image
// of a simulation carries its row's split.
//
// Loading streams: at most opt.Workers snapshots are decoded at a time, and
// only the images are kept. Each snapshot's header must name its row's index
// and seed and the manifest's grid.
//
// Cache: with opt.Cache set, the images of row id at side S live in
// CachePath(opt.Cache, id, S), keyed on the checksums of the snapshot's Σ
// chunks (read from its header, which is always opened and checked). A hit
// skips decoding the snapshot; a changed snapshot no longer matches its key.
// A cache file that is corrupt, stale or unreadable is reported as a warning
// and rebuilt; a cache file that cannot be written is a warning.
//
// Load fails, naming the row, file and value at fault, on an unknown split or
// class, a requested split with no simulation, a duplicate id, a missing
// snapshot, header parameters that differ from the row's, a missing Σ map,
// or images of mixed size. Every snapshot is checked first (Check), so
// that all the unusable ones are reported in one error before any decoding.
func Load(m *campaign.Manifest, snapdir string, opt Options) (*Set, error) {
	rows, err := selectRows(m, opt)
	if err != nil {
		return nil, err
	}
	if opt.Size < 0 {
		return nil, fmt.Errorf("image size %d: want ≥ 0 (0: N/2)", opt.Size)
	}
	if err := Check(m, snapdir, rows, opt); err != nil {
		return nil, err
	}
	if opt.Cache != "" {
		if err := os.MkdirAll(opt.Cache, 0o755); err != nil {
			return nil, fmt.Errorf("cache directory: %w", err)
		}
	}
	blocks := make([][]float32, len(rows))
	sizes := make([]int, len(rows))
	warnings, err := eachRow(rows, opt, func(i int, warn func(string)) error {
		var err error
		blocks[i], sizes[i], err = loadRow(m, snapdir, rows[i], opt, warn)
		return err
	})
	if err != nil {
		return nil, err
	}

	set := &Set{Size: sizes[0], Images: make([]Image, 0, PerSnapshot*len(rows)), Warnings: warnings}
	for i, row := range rows {
		if sizes[i] != set.Size {
			return nil, fmt.Errorf("images of mixed size: simulation %s gives %d² pixels, %s gives %d² (snapshots of different grids; set an image size)",
				row.ID, sizes[i], rows[0].ID, set.Size)
		}
		set.Images = append(set.Images, images(blocks[i], sizes[i], row)...)
		blocks[i] = nil
	}
	return set, nil
}

// eachRow calls fn(i, warn) for every row i of rows on opt.Workers
// goroutines (0: GOMAXPROCS), reporting progress to opt.Progress and
// warnings to opt.Warn (one goroutine at a time). It stops handing out rows
// at the first failure and returns the warnings and the error of the
// earliest failed row, so that the error depends on scheduling no more than
// it must.
func eachRow(rows []campaign.Row, opt Options, fn func(i int, warn func(string)) error) ([]string, error) {
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(rows))
	var (
		mu       sync.Mutex
		warnings []string
	)
	warn := func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		warnings = append(warnings, msg)
		if opt.Warn != nil {
			opt.Warn(msg)
		}
	}
	type result struct {
		i   int
		err error
	}
	jobs := make(chan int)
	results := make(chan result)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				results <- result{i, fn(i, warn)}
			}
		})
	}
	go func() {
		defer close(jobs)
		for i := range rows {
			select {
			case jobs <- i:
			case <-stop:
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	errs := make([]error, len(rows))
	failed := false
	done := 0
	for r := range results {
		errs[r.i] = r.err
		if r.err != nil && !failed {
			failed = true
			close(stop)
		}
		done++
		if opt.Progress != nil && !failed {
			opt.Progress(done, len(rows))
		}
	}
	for i, err := range errs {
		if err != nil {
			return warnings, fmt.Errorf("simulation %s (manifest line %d): %w", rows[i].ID, rows[i].Line, err)
		}
	}
	return warnings, nil
}

// Rows returns the rows of m that opt's splits and classes choose, in
// manifest order, checking the splits, the classes and the ids as Load does.
func Rows(m *campaign.Manifest, opt Options) ([]campaign.Row, error) { return selectRows(m, opt) }

// selectRows returns the rows of m that opt asks for, checking opt's splits
// and classes and the uniqueness of ids.
func selectRows(m *campaign.Manifest, opt Options) ([]campaign.Row, error) {
	for _, sp := range opt.Splits {
		if !slices.Contains(campaign.Splits, sp) {
			return nil, fmt.Errorf("split %q: unknown, want %s", sp, strings.Join(campaign.Splits, ", "))
		}
	}
	for _, c := range opt.Classes {
		if !slices.Contains(campaign.Classes, c) {
			return nil, fmt.Errorf("class %q: unknown, want %s", c, strings.Join(campaign.Classes, ", "))
		}
	}
	seen := map[string]int{}
	var rows []campaign.Row
	count := map[string]int{}
	for _, r := range m.Rows {
		if line, dup := seen[r.ID]; dup {
			return nil, fmt.Errorf("manifest: simulation id %q appears twice (lines %d and %d): its images could land in two splits", r.ID, line, r.Line)
		}
		seen[r.ID] = r.Line
		if !slices.Contains(campaign.Splits, r.Split) {
			return nil, fmt.Errorf("manifest line %d: simulation %s has split %q, want %s", r.Line, r.ID, r.Split, strings.Join(campaign.Splits, ", "))
		}
		if (opt.Splits == nil || slices.Contains(opt.Splits, r.Split)) &&
			(opt.Classes == nil || slices.Contains(opt.Classes, r.Class)) {
			rows = append(rows, r)
			count[r.Split]++
		}
	}
	for _, sp := range opt.Splits {
		if count[sp] == 0 {
			classes := "any class"
			if opt.Classes != nil {
				classes = "class " + strings.Join(opt.Classes, " or ")
			}
			return nil, fmt.Errorf("split %q is empty: the manifest has no simulation of %s in it", sp, classes)
		}
	}
	if len(rows) == 0 {
		return nil, errors.New("no simulation of the manifest matches the chosen splits and classes")
	}
	return rows, nil
}

// openRow opens the snapshot of row, checks it against the row and the
// manifest's grid, and returns it with the image side to cut (opt.Size, or
// N/2). Close s.f when done.
func openRow(m *campaign.Manifest, snapdir string, row campaign.Row, opt Options) (*snap, int, error) {
	s, err := openSnap(campaign.SnapshotPath(snapdir, row.ID), row)
	if err != nil {
		return nil, 0, err
	}
	if g := s.f.Header.Grid; m.Params.Grid != 0 && g != [3]int{m.Params.Grid, m.Params.Grid, m.Params.Grid} {
		s.f.Close()
		return nil, 0, fmt.Errorf("%s: grid mismatch: snapshot has grid=%v, manifest has %d", s.f.Path, g, m.Params.Grid)
	}
	size := opt.Size
	if size == 0 {
		size = s.n / 2
	}
	return s, size, nil
}

// loadRow returns the images of one row (a block of 48 of size² pixels),
// from the cache if it holds them.
func loadRow(m *campaign.Manifest, snapdir string, row campaign.Row, opt Options, warn func(string)) ([]float32, int, error) {
	s, size, err := openRow(m, snapdir, row, opt)
	if err != nil {
		return nil, 0, err
	}
	defer s.f.Close()
	var path string
	if opt.Cache != "" {
		path = CachePath(opt.Cache, row.ID, size)
		block, err := readCache(path, s.key, size)
		if err == nil {
			return block, size, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			warn(fmt.Sprintf("cache %s: %v; rebuilding it", path, err))
		}
	}
	block, err := s.decode(size)
	if err != nil {
		return nil, 0, err
	}
	if path != "" {
		if err := writeCache(path, s.key, size, block); err != nil {
			warn(fmt.Sprintf("cache %s: not written: %v", path, err))
		}
	}
	return block, size, nil
}
