package dataset

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/turbindex/turbindex/campaign"
)

// MaxListed is how many bad snapshots Check names in its error; it counts
// them all.
const MaxListed = 20

// Check opens the snapshot of every row in snapdir, checks its header
// against the row and the manifest (parameters, grid, Σ maps) and verifies
// the checksums of its Σ maps unless opt.Cache holds its images (a cache
// hit never reads them), on opt.Workers goroutines (0: GOMAXPROCS). It
// returns nil, or one error that counts every missing or bad snapshot and
// names the first MaxListed in row order with their reasons, so that a
// damaged campaign is found whole before any long work, not one snapshot
// per attempt.
func Check(m *campaign.Manifest, snapdir string, rows []campaign.Row, opt Options) error {
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	errs := make([]error, len(rows))
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(min(workers, len(rows)), 1) {
		wg.Go(func() {
			for i := range next {
				errs[i] = checkRow(m, snapdir, rows[i], opt)
			}
		})
	}
	for i := range rows {
		next <- i
	}
	close(next)
	wg.Wait()
	var bad []string
	missing := 0
	for i, err := range errs {
		if err == nil {
			continue
		}
		reason := err.Error()
		if errors.Is(err, fs.ErrNotExist) {
			missing++
			reason = "missing (" + campaign.SnapshotPath(snapdir, rows[i].ID) + ")"
		}
		if len(bad) < MaxListed {
			bad = append(bad, fmt.Sprintf("  %s (manifest line %d): %s", rows[i].ID, rows[i].Line, reason))
		}
	}
	n := missing
	for _, err := range errs {
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	more := ""
	if n > len(bad) {
		more = fmt.Sprintf("\n  … and %d more", n-len(bad))
	}
	return fmt.Errorf("%d of %d snapshots in %s are not usable (%d missing, %d corrupt or of another run); `sim status` lists them and the array tasks to rerun:\n%s%s",
		n, len(rows), snapdir, missing, n-missing, strings.Join(bad, "\n"), more)
}

// checkRow checks the snapshot of one row; see Check.
func checkRow(m *campaign.Manifest, snapdir string, row campaign.Row, opt Options) error {
	s, err := openSnap(campaign.SnapshotPath(snapdir, row.ID), row)
	if err != nil {
		return err
	}
	defer s.f.Close()
	if g := s.f.Header.Grid; m.Params.Grid != 0 && g != [3]int{m.Params.Grid, m.Params.Grid, m.Params.Grid} {
		return fmt.Errorf("%s: grid mismatch: snapshot has grid=%v, manifest has %d", s.f.Path, g, m.Params.Grid)
	}
	if opt.Cache != "" {
		size := opt.Size
		if size == 0 {
			size = s.n / 2
		}
		if _, err := os.Stat(CachePath(opt.Cache, row.ID, size)); err == nil {
			return nil // the load reads the cache, which has its own checksum
		}
	}
	for _, name := range Projections {
		if _, err := s.f.Read(name); err != nil {
			return err
		}
	}
	return nil
}
