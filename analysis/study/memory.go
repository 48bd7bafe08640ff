package study

import (
	"fmt"
	"math"
	"runtime"

	"github.com/turbindex/turbindex/analysis/hog"
	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/train/dataset"
	"github.com/turbindex/turbindex/train/experiment"
)

// baseBytes is the resident memory of the binary and the Go runtime: 28
// MB measured for a run refused before its work.
const baseBytes = 30 << 20

// gcFactor is the heap the garbage collector lets grow per byte live:
// analysis keeps GOGC at 25 (boundHeap in the command).
const gcFactor = 1.25

// defaultCacheMB is the kernel cache, in MiB, of each fit of the model
// selection when Options.SVMCacheMB is 0, and the least a full fit is given.
const defaultCacheMB = 200

// costs are the parts of the study's estimate: bytes live in each stage
// besides the kernel caches, and the vectors the caches are for.
type costs struct {
	features float64 // every image's features and labels, live the whole study
	svm, svr float64 // a fit's standardised training copy, and as much again for its support vectors
	later    float64 // the stream's windows and a derived holdout's features, or t-SNE's sample, after the fits
	stream   float64 // the stream's windows while the features are computed
	cnn      float64 // a CNN's buffers, at GOGC = 25 already (cnn.TrainMemory)
	workers  float64 // fits of the model selection running at once
	selected float64 // vectors of one fit of the model selection
	train    float64 // vectors of one full fit (the larger of the SVM's and the SVR's)
}

// estimate returns the costs of Run for the campaign m at image side size.
// Images are never all held: their pixels cost only the stream's windows
// (two of Loader.Images(featureBatch) images, and each decoding worker's
// snapshot). The features of every image stay live; each full fit adds a
// standardised copy of its training vectors and its support vectors
// (counted as every vector: 37 945 of 38 400 at the paper's counts), and
// the support vectors stay for the holdout, zoom and degradation stages,
// which stream the holdout again and keep one derived copy of its
// features.
func estimate(o Options, m *campaign.Manifest, size int) costs {
	workers := float64(runtime.GOMAXPROCS(0))
	dims := float64(hog.Len(size, size, hog.DefaultOptions(size)))
	var images, clsTrain, swTrain, clsHold float64
	for _, r := range m.Rows {
		n := float64(dataset.PerSnapshot)
		images += n
		switch {
		case r.Class == campaign.Sweep && r.Split == campaign.Train:
			swTrain += n
		case r.Class != campaign.Sweep && r.Split == campaign.Train:
			clsTrain += n
		case r.Class != campaign.Sweep && r.Split == campaign.Holdout:
			clsHold += n
		}
	}
	vec := 8*dims + 24 + 8 // a feature vector, its slice header, the slope
	selected := math.Max(clsTrain, swTrain)
	if o.SVMSubsample > 0 {
		selected = math.Min(selected, float64(o.SVMSubsample))
	}
	px := float64(size) * float64(size)
	stream := float64(dataset.Loader{}.WindowBytes(size, featureBatch)) +
		workers*(2*dataset.PerSnapshot*4*px+3*4*px+1<<20) + // each worker's snapshot, decoded and resampled
		workers*32*px + featureBatch*8*dims // HOG's gradients and the spectrum's FFT per worker; a batch's features
	tsne := float64(max(o.TSNEPoints, 0)) * (8*dims + 4096)
	var cnn float64
	for _, run := range append(append([]string{o.CNNRegress}, o.CNN...), o.CNNAugmented...) {
		if run == "" {
			continue
		}
		if cfg, err := experiment.ReadConfig(run); err == nil {
			c := cfg.CNN
			c.ImageSize = size
			cnn = math.Max(cnn, float64(c.TrainMemory(runtime.GOMAXPROCS(0))))
		}
	}
	return costs{
		features: images * (vec + 5*24 + 64), // the vectors; pointers in the splits; labels and indices
		svm:      2 * clsTrain * vec, svr: 2 * swTrain * vec,
		later:  math.Max(stream+clsHold*vec, tsne),
		stream: stream, cnn: cnn,
		workers: workers, selected: selected, train: math.Max(clsTrain, swTrain),
	}
}

// cacheBytes is what a kernel cache of mib MiB holds at most on n vectors:
// it fills only up to n² entries of 4 bytes.
func cacheBytes(mib int, n float64) float64 {
	return math.Min(float64(mib)*(1<<20), 4*n*n)
}

// fitting is the heap of the SVMs' selections and fits besides their kernel
// caches: the SVM's, then the SVR's with the SVM's support vectors kept.
func (c costs) fitting() float64 {
	return gcFactor * (c.features + max(c.svm, c.svm/2+c.svr))
}

// total is the estimated peak resident memory, in bytes, with kernel
// caches of sel MiB for each fit of the model selection and fit MiB for
// each full fit: the largest of the stages' heaps, whose garbage grows
// with what they allocate (gcFactor), except the kernel cache, allocated
// once and kept.
func (c costs) total(sel, fit int) int64 {
	svs := c.svm/2 + c.svr/2 // support vectors kept after the fits
	cache := math.Max(c.workers*cacheBytes(sel, c.selected), cacheBytes(fit, c.train))
	heap := max(
		gcFactor*(c.features+c.stream),    // computing the features
		c.fitting()+cache,                 // the SVMs' selections and fits
		gcFactor*(c.features+svs+c.later), // holdout, zoom, degradations, t-SNE
		gcFactor*(c.features+svs)+c.cnn,   // the CNNs' predictions
	)
	t := baseBytes + heap
	if math.IsNaN(t) || t >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(t)
}

// KernelCaches returns the kernel caches, in MiB, of each fit of the model
// selection and of each full fit of Run for the campaign m at image side
// size. Options.SVMCacheMB, when set, is both. Otherwise the selection's
// fits get 200 MiB each, and each full fit the whole kernel matrix of its
// vectors (4 bytes an entry) when that fits in the budget o.Limits beside
// the rest of the study with a tenth of the budget to spare (no budget:
// always), else what does (at least 200 MiB). A cache that holds the
// whole matrix computes each column once; a smaller one recomputes those
// it evicts, which at the paper's 38 400 vectors makes the fit several
// times slower (docs/SCALING.md).
func KernelCaches(o Options, m *campaign.Manifest, size int) (selection, fit int) {
	if o.SVMCacheMB > 0 {
		return o.SVMCacheMB, o.SVMCacheMB
	}
	c := estimate(o, m, size)
	fit = max(wholeKernelMiB(int(c.train)), defaultCacheMB)
	if o.Limits != nil {
		spare := float64(o.Limits.Memory) - float64(o.Limits.Memory)/10 - baseBytes - c.fitting()
		fit = min(fit, max(int(spare/(1<<20)), defaultCacheMB))
	}
	return defaultCacheMB, fit
}

// Memory returns the estimated peak memory of Run, in bytes, for the
// campaign m at image side size, with the kernel caches of KernelCaches.
func Memory(o Options, m *campaign.Manifest, size int) int64 {
	sel, fit := KernelCaches(o, m, size)
	return estimate(o, m, size).total(sel, fit)
}

// planMemory chooses the SVMs' kernel caches and refuses the study when its
// estimate exceeds o.Limits.
func (s *state) planMemory() error {
	size := s.o.ImageSize
	if size == 0 {
		size = s.manifest.Params.Grid / 2
	}
	if size < 1 {
		return fmt.Errorf("%s: no grid in the manifest: set an image size", s.o.Manifest)
	}
	s.selectionCacheMB, s.fitCacheMB = KernelCaches(s.o, s.manifest, size)
	if s.o.Limits == nil {
		return nil
	}
	need := Memory(s.o, s.manifest, size)
	return s.o.Limits.Fit(fmt.Sprintf("analysis run on %d images of %d²", dataset.PerSnapshot*len(s.manifest.Rows), size), need,
		"lower --svm-cache, --svm-subsample or --tsne-points, or run where more memory is given (--memory overrides the detected budget)")
}
