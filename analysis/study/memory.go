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

// baseBytes is the Go runtime and the binary.
const baseBytes = 40 << 20

// Memory returns the estimated peak memory of Run, in bytes, for the
// campaign m at image side size, from its counts: every image's HOG
// features (float64) and slope, the standardised copies of the training
// features, the kernel caches of the grid search's parallel fits and of the
// full fits and the support vectors, the stream's windows while features
// are computed, t-SNE on its sample, the zoomed holdout's features, and a
// CNN's buffers when runs are given. Images are never all held: their
// pixels cost only a window (see data).
func Memory(o Options, m *campaign.Manifest, size int) int64 {
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
	vec := 8*dims + 24 + 8             // a feature vector, its slice header, the slope
	features := images*(vec+5*24+64) + // the vectors; pointers in the splits; labels and indices
		math.Max(clsTrain, swTrain)*vec*2 + // standardised training copy and the support vectors
		clsHold*vec // the zoomed holdout's features
	subsample := math.Max(clsTrain, swTrain)
	if o.SVMSubsample > 0 {
		subsample = math.Min(subsample, float64(o.SVMSubsample))
	}
	cache := float64(max(o.SVMCacheMB, 1)) * (1 << 20)
	// The kernel cache fills only up to n² entries of 4 bytes.
	gridCache := workers * math.Min(cache, 4*subsample*subsample)
	fitCache := math.Min(cache, 4*math.Max(clsTrain, swTrain)*math.Max(clsTrain, swTrain))
	img := 4 * float64(size) * float64(size)
	stream := 2*float64(dataset.Loader{}.Images(featureBatch))*img + workers*(2*dataset.PerSnapshot*img+3*img+1<<20) +
		featureBatch*(float64(size)*float64(size)*16) // HOG's gradients and the spectra, per image of a batch
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
	total := baseBytes + features + math.Max(gridCache, fitCache) + stream + tsne + cnn
	if math.IsNaN(total) || total >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(total)
}

// checkMemory refuses the study when its estimate exceeds o.Limits.
func (s *state) checkMemory() error {
	if s.o.Limits == nil {
		return nil
	}
	size := s.o.ImageSize
	if size == 0 {
		size = s.manifest.Params.Grid / 2
	}
	if size < 1 {
		return fmt.Errorf("%s: no grid in the manifest: set an image size", s.o.Manifest)
	}
	need := Memory(s.o, s.manifest, size)
	return s.o.Limits.Fit(fmt.Sprintf("analysis run on %d images of %d²", dataset.PerSnapshot*len(s.manifest.Rows), size), need,
		"lower --svm-cache, --svm-subsample or --tsne-points, or run where more memory is given (--memory overrides the detected budget)")
}
