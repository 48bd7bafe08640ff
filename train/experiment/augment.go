package experiment

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/train/dataset"
	"github.com/turbindex/turbindex/train/degrade"
)

// Augmentation knobs (the --augment list).
const (
	AugBeam     = "beam"     // Gaussian beam, FWHM uniform in [0, MaxFWHM] pixels
	AugNoise    = "noise"    // noise, 1/SNR uniform in [0, 1/MinSNR] (per-image SNR of log Σ)
	AugGradient = "gradient" // background gradient, amplitude uniform in [0, MaxGradient] σ, direction uniform
	AugZoom     = "zoom"     // zoom factor log-uniform in [1/MaxZoom, MaxZoom] (dataset.Zoom)
)

// Augment is a run's training-time augmentation: every training image,
// every epoch, gets degradation strengths drawn afresh (each knob
// independently, uniformly over its range, including none), from a
// generator keyed by the run's seed, the epoch and the image's label — so a
// run is reproduced by its seed whatever the batch order, and a resumed run
// sees the same images. The order is that of the light's path: zoom (what
// part of the sky), then degrade.Params (beam, gradient, noise), then the
// run's standardisation. Validation and holdout images are never augmented.
// The ranges default to those of the analysis's robustness test.
type Augment struct {
	Knobs       []string `json:"knobs"`
	MaxFWHM     float64  `json:"max_fwhm_px"`
	MinSNR      float64  `json:"min_snr"`
	MaxGradient float64  `json:"max_gradient_sigma"`
	MaxZoom     float64  `json:"max_zoom"`
}

// ParseAugment turns a comma-separated list of knobs (beam, noise,
// gradient, zoom) into an Augment with the default ranges: FWHM ≤ 8 pixels,
// SNR ≥ 3, gradient ≤ 4σ, zoom in [½, 2]. An empty list gives nil (no
// augmentation).
func ParseAugment(list string) (*Augment, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	a := &Augment{MaxFWHM: 8, MinSNR: 3, MaxGradient: 4, MaxZoom: 2}
	for _, k := range strings.Split(list, ",") {
		k = strings.TrimSpace(k)
		switch k {
		case AugBeam, AugNoise, AugGradient, AugZoom:
		default:
			return nil, fmt.Errorf("augmentation %q: want a list of %s, %s, %s, %s", k, AugBeam, AugNoise, AugGradient, AugZoom)
		}
		if slices.Contains(a.Knobs, k) {
			return nil, fmt.Errorf("augmentation %q given twice", k)
		}
		a.Knobs = append(a.Knobs, k)
	}
	return a, nil
}

func (a *Augment) has(k string) bool { return a != nil && slices.Contains(a.Knobs, k) }

// draw returns the zoom factor and the degradations of one image in one
// epoch.
func (a *Augment) draw(seed uint64, epoch int, l dataset.Label) (zoom float64, p degrade.Params) {
	r := rand.New(rand.NewPCG(seed^0x6175676d656e74, degrade.Stream(l.ID, l.Projection, l.Flip, l.Quadrant, epoch)))
	// Every knob draws, used or not, so that adding one does not change
	// the others' strengths.
	u := [5]float64{r.Float64(), r.Float64(), r.Float64(), r.Float64(), r.Float64()}
	zoom = 1
	if a.has(AugZoom) {
		zoom = math.Exp((2*u[0] - 1) * math.Log(a.MaxZoom))
	}
	if a.has(AugBeam) {
		p.BeamFWHM = u[1] * a.MaxFWHM
	}
	if a.has(AugNoise) && u[2] > 0 {
		p.SNR = a.MinSNR / u[2]
	}
	if a.has(AugGradient) {
		p.Gradient, p.Angle = u[3]*a.MaxGradient, 2*math.Pi*u[4]
	}
	return zoom, p
}

// apply writes into dst the image im augmented for epoch and standardised
// as cfg says.
func (a *Augment) apply(cfg *Config, epoch int, im dataset.Image, dst []float32) error {
	zoom, p := a.draw(cfg.Seed, epoch, im.Label)
	src := im.Pix
	if zoom != 1 {
		z, err := dataset.Zoom(im.Pix, im.Size, zoom)
		if err != nil {
			return err
		}
		src = z
	}
	copy(dst, src)
	if err := p.Apply(dst, im.Size, cfg.Seed, degrade.Stream(im.Label.ID, im.Label.Projection, im.Label.Flip, im.Label.Quadrant, epoch, -1)); err != nil {
		return err
	}
	cfg.standardise(dst)
	return nil
}

// standardise applies the run's normalisation to one image's pixels in
// place.
func (cfg *Config) standardise(pix []float32) {
	cfg.normalisation().Apply(pix, cfg.Stats)
}

// Nuisance names what --debias removes from the embedding.
const NuisanceAmplitude = "amplitude" // the standard deviation of log Σ of the image (before standardisation)

// Debias is a run's adversarial debiasing (cnn.Config.Debias): the nuisance
// and its training-split mean and deviation, which standardise the head's
// targets.
type Debias struct {
	Nuisance string  `json:"nuisance"`
	Lambda   float64 `json:"lambda"`
	Mean     float64 `json:"mean"` // of the nuisance over the training images, dex
	Std      float64 `json:"std"`  // of the nuisance over the training images, dex
}

// fitNuisance sets d.Mean and d.Std from the training images' nuisances.
func (d *Debias) fit(nu []float64) error {
	var s float64
	for _, v := range nu {
		s += v
	}
	d.Mean = s / float64(len(nu))
	var ss float64
	for _, v := range nu {
		ss += (v - d.Mean) * (v - d.Mean)
	}
	d.Std = math.Sqrt(ss / float64(len(nu)))
	if !(d.Std > 0) {
		return fmt.Errorf("--debias %s: the %d training images all have the same nuisance %g: nothing to remove", d.Nuisance, len(nu), d.Mean)
	}
	return nil
}

// trainingSet is the training split as Fit uses it: the images idx of a
// stream, standardised as they are read, or augmented first (Augment); and
// for Debias the standardised nuisance target of each image.
type trainingSet struct {
	cfg *Config
	s   *dataset.Stream
	idx []int
	nu  map[int]float32 // standardised nuisance targets by image (Debias)
}

// loader returns how the images of epoch are read: augmented (with a
// function returning the first augmentation error) or standardised.
func (t *trainingSet) loader(epoch int) (dataset.Loader, func() error) {
	if t.cfg.Augment == nil {
		return t.cfg.loader(), func() error { return nil }
	}
	var mu sync.Mutex
	var first error
	prep := func(i int, pix []float32) {
		im := dataset.Image{Size: t.s.Size, Pix: slices.Clone(pix), Label: t.s.Label(i)}
		if err := t.cfg.Augment.apply(t.cfg, epoch, im, pix); err != nil {
			mu.Lock()
			first = cmp.Or(first, fmt.Errorf("augmenting %s: %w", im.Label.ID, err))
			mu.Unlock()
		}
	}
	return dataset.Loader{Prepare: prep}, func() error {
		mu.Lock()
		defer mu.Unlock()
		return first
	}
}

// nuisance returns the nuisance targets of the images idx, in nu.
func (t *trainingSet) nuisance(idx []int, nu []float32) []float32 {
	nu = nu[:0]
	for _, i := range idx {
		nu = append(nu, t.nu[i])
	}
	return nu
}

// newTrainingSet prepares the training images idx of s for cfg: for
// Debias, the nuisance of each raw image (one pass over them) and, when
// fit is true (a new run), their statistics, set in cfg.
func newTrainingSet(cfg *Config, s *dataset.Stream, idx []int, fit bool) (*trainingSet, error) {
	t := &trainingSet{cfg: cfg, s: s, idx: idx}
	if cfg.Debias == nil {
		return t, nil
	}
	nu := make([]float64, 0, len(idx))
	err := s.Batches(idx, cfg.CNN.Batch, dataset.Loader{}, func(_ []int, x []float32) error {
		px := s.Size * s.Size
		for j := 0; j < len(x); j += px {
			nu = append(nu, degrade.StdDev(x[j:j+px]))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if fit {
		if err := cfg.Debias.fit(nu); err != nil {
			return nil, err
		}
	}
	t.nu = make(map[int]float32, len(nu))
	for k, v := range nu {
		t.nu[idx[k]] = float32((v - cfg.Debias.Mean) / cfg.Debias.Std)
	}
	return t, nil
}

// rawSplits loads the given splits of the task's classes, unstandardised
// (log10 Σ), computing cfg.Stats from the training split if the
// normalisation uses them.
func rawSplits(cfg *Config, splits []string, warn func(string)) (map[string][]dataset.Image, error) {
	m, err := campaign.ReadFile(cfg.Manifest)
	if err != nil {
		return nil, err
	}
	set, err := dataset.Load(m, cfg.Snapshots, dataset.Options{
		Size: cfg.ImageSize, Splits: splits, Classes: classesFor(cfg.Task), Cache: cfg.Cache, Warn: warn,
	})
	if err != nil {
		return nil, err
	}
	if cfg.ImageSize == 0 {
		cfg.ImageSize = set.Size
	}
	cfg.PixelPc = m.Params.BoxPc / float64(2*cfg.ImageSize)
	if slices.Contains(splits, campaign.Train) && cfg.normalisation().UsesStats() {
		if cfg.Stats, err = dataset.ComputeStats(set); err != nil {
			return nil, err
		}
	}
	out := map[string][]dataset.Image{}
	for _, sp := range splits {
		images, err := set.Split(sp)
		if err != nil {
			return nil, fmt.Errorf("%s task: %w", cfg.Task, err)
		}
		out[sp] = images
	}
	return out, nil
}
