package experiment

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

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

// nuisances returns the amplitude nuisance of each raw image: the
// population standard deviation of its log Σ, dex.
func nuisances(images []dataset.Image) []float64 {
	out := make([]float64, len(images))
	for i, im := range images {
		out[i] = degrade.StdDev(im.Pix)
	}
	return out
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

// trainingSet is the training split as Fit uses it: raw images when they
// are augmented or carry a nuisance target (standardised per batch), else
// standardised once.
type trainingSet struct {
	cfg    *Config
	images []dataset.Image
	raw    bool
	nu     []float32 // standardised nuisance targets (Debias)
}

// batch fills x, y (and nu for Debias) with the images idx of epoch.
func (t *trainingSet) batch(epoch int, idx []int, x, y, nu []float32) ([]float32, []float32, []float32, error) {
	if !t.raw {
		x, y = batchOf(t.cfg.Task, t.images, idx, x, y)
		return x, y, nu, nil
	}
	px := t.cfg.ImageSize * t.cfg.ImageSize
	x, y, nu = x[:0], y[:0], nu[:0]
	for _, i := range idx {
		im := t.images[i]
		start := len(x)
		x = slices.Grow(x, px)[:start+px]
		if t.cfg.Augment != nil {
			if err := t.cfg.Augment.apply(t.cfg, epoch, im, x[start:]); err != nil {
				return nil, nil, nil, fmt.Errorf("augmenting %s: %w", im.Label.ID, err)
			}
		} else {
			copy(x[start:], im.Pix)
			t.cfg.standardise(x[start:])
		}
		y = append(y, target(t.cfg.Task, im.Label))
		if t.nu != nil {
			nu = append(nu, t.nu[i])
		}
	}
	return x, y, nu, nil
}

// standardised returns standardised copies of images (for the training
// accuracy of a raw training set).
func (t *trainingSet) standardised(images []dataset.Image) []dataset.Image {
	if !t.raw {
		return images
	}
	out := make([]dataset.Image, len(images))
	for i, im := range images {
		im.Pix = slices.Clone(im.Pix)
		t.cfg.standardise(im.Pix)
		out[i] = im
	}
	return out
}

// newTrainingSet prepares the raw training images of cfg: the nuisance
// statistics for Debias (set in cfg when fit is true, a new run).
func newTrainingSet(cfg *Config, images []dataset.Image, fit bool) (*trainingSet, error) {
	t := &trainingSet{cfg: cfg, images: images, raw: cfg.Augment != nil || cfg.Debias != nil}
	if cfg.Debias == nil {
		return t, nil
	}
	nu := nuisances(images)
	if fit {
		if err := cfg.Debias.fit(nu); err != nil {
			return nil, err
		}
	}
	t.nu = make([]float32, len(nu))
	for i, v := range nu {
		t.nu[i] = float32((v - cfg.Debias.Mean) / cfg.Debias.Std)
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
