package study

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/turbindex/turbindex/analysis/report"
	"github.com/turbindex/turbindex/train/dataset"
	"github.com/turbindex/turbindex/train/degrade"
	"github.com/turbindex/turbindex/train/experiment"
	"github.com/turbindex/turbindex/train/plots"
)

// knob is one test-time degradation of the robustness study: its levels
// beyond "none", and how a level becomes degrade.Params.
type knob struct {
	name, file     string
	xlabel         string
	levels         []float64                   // the options' levels, "none" excluded
	x              func(level float64) float64 // the figure's abscissa of a level
	params         func(level float64) degrade.Params
	column         func(level float64) string // the table's column of a level
	caption, title string
}

// knobs are the degradations of the options (see package degrade).
func (s *state) knobs() []knob {
	return []knob{
		{name: "beam", file: "beam.png", xlabel: "beam FWHM (pixels)", levels: s.o.Beams,
			x:      func(l float64) float64 { return l },
			params: func(l float64) degrade.Params { return degrade.Params{BeamFWHM: l} },
			column: func(l float64) string { return "fwhm_" + strconv.FormatFloat(l, 'g', -1, 64) },
			title:  "Gaussian beam",
			caption: "Holdout accuracy of every method against the FWHM of a Gaussian beam applied to Σ (reflecting edges). " +
				"The methods were trained on unsmoothed images unless their name says otherwise."},
		{name: "noise", file: "noise.png", xlabel: "noise level 1/SNR (σ_noise / σ(log Σ) of the image)", levels: s.o.SNRs,
			x:      func(l float64) float64 { return 1 / l },
			params: func(l float64) degrade.Params { return degrade.Params{SNR: l} },
			column: func(l float64) string { return "snr_" + strconv.FormatFloat(l, 'g', -1, 64) },
			title:  "Noise",
			caption: "Holdout accuracy against the level of Gaussian noise added to log Σ, σ_noise = σ(log Σ)/SNR " +
				"with σ(log Σ) each image's own deviation (SNR = ∞, 100, 30, 10, 3 by default)."},
		{name: "gradient", file: "gradient.png", xlabel: "background gradient across the image (units of σ(log Σ))", levels: s.o.Gradients,
			x: func(l float64) float64 { return l },
			params: func(l float64) degrade.Params {
				return degrade.Params{Gradient: l}
			},
			column: func(l float64) string { return "grad_" + strconv.FormatFloat(l, 'g', -1, 64) },
			title:  "Background gradient",
			caption: "Holdout accuracy against a plane added to log Σ (a smooth multiplicative background), rising across the " +
				"image by the given multiple of the image's σ(log Σ), in a direction drawn per image."},
	}
}

// telescope scores every classifier on the holdout images degraded by each
// level of each knob (beam, noise, gradient): one figure and one table per
// knob. The first point of each curve is the clean holdout.
func (s *state) telescope() error {
	base, err := s.accuracies(s.clsHold)
	if err != nil {
		return err
	}
	if len(base) == 0 {
		s.note("Telescope degradations: no classifier passed the sanity check.")
		return nil
	}
	for _, k := range s.knobs() {
		if len(k.levels) == 0 {
			continue
		}
		xs := []float64{0}
		acc := map[string][]float64{}
		for name, v := range base {
			acc[name] = []float64{v}
		}
		for _, l := range k.levels {
			p := k.params(l)
			deg, err := s.deriveImages(s.clsHold, func(im dataset.Image) ([]float32, error) {
				lab := im.Label
				stream := degrade.Stream(lab.ID, lab.Projection, lab.Flip, lab.Quadrant)
				q := p
				if q.Gradient != 0 {
					// A direction per image, from its stream (not the noise's).
					q.Angle = 2 * math.Pi * float64(stream>>11) / (1 << 53)
				}
				out := slices.Clone(im.Pix)
				return out, q.Apply(out, s.size, s.o.Seed, stream)
			})
			if err != nil {
				return fmt.Errorf("%s %g: %w", k.name, l, err)
			}
			a, err := s.accuracies(deg)
			if err != nil {
				return err
			}
			for name, v := range a {
				acc[name] = append(acc[name], v)
			}
			xs = append(xs, k.x(l))
		}
		if err := plots.Lines(filepath.Join(s.o.Out, k.file), xs, acc, k.xlabel, "holdout accuracy", k.title); err != nil {
			return err
		}
		s.figure(k.file, k.caption)
		cols := []string{"none"}
		for _, l := range k.levels {
			cols = append(cols, k.column(l))
		}
		t := report.Table{Title: k.title + ": holdout accuracy", Columns: cols}
		for _, name := range sortedKeys(acc) {
			v := map[string]float64{}
			for i, c := range cols {
				v[c] = acc[name][i]
			}
			t.Rows = append(t.Rows, report.Row{Method: name, Values: v})
		}
		s.r.Tables = append(s.r.Tables, t)
		s.log.Info("degradation", "knob", k.name, "levels", len(k.levels), "seconds", s.seconds())
	}
	return nil
}

// augmented adds the CNN runs trained with augmentation (train fit
// --augment), each named after its knobs, so that every table and figure
// shows what robustness costs.
func (s *state) augmented() error {
	for _, run := range s.o.CNNAugmented {
		cfg, err := experiment.ReadConfig(run)
		if err != nil {
			return err
		}
		name := "CNN"
		if cfg.Augment != nil {
			name = "CNN +" + strings.Join(cfg.Augment.Knobs, "+")
		} else {
			s.note("--cnn-augmented %s: the run was trained without augmentation", run)
			name = "CNN (" + filepath.Base(run) + ")"
		}
		s.classifiers = append(s.classifiers, s.cnnClassifier(name, run))
	}
	return nil
}

// debias reads the probe.json of each debiasing run (train fit --debias
// amplitude --debias-lambda λ, then train probe) and draws the holdout
// accuracy and the probe's R² against λ.
func (s *state) debias() error {
	if len(s.o.CNNDebias) == 0 {
		return nil
	}
	var probes []experiment.Probe
	for _, run := range s.o.CNNDebias {
		raw, err := os.ReadFile(filepath.Join(run, "probe.json"))
		if err != nil {
			s.note("Debiasing: %v (run `train probe --run %s` first)", err, run)
			continue
		}
		var p experiment.Probe
		if err := json.Unmarshal(raw, &p); err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(run, "probe.json"), err)
		}
		probes = append(probes, p)
	}
	if len(probes) == 0 {
		return nil
	}
	slices.SortFunc(probes, func(a, b experiment.Probe) int { return cmpFloat(a.Lambda, b.Lambda) })
	t := report.Table{Title: "Adversarial debiasing of the amplitude (σ of log Σ)",
		Columns: []string{"lambda", "accuracy", "auc", "probe_r2", "probe_r2_train", "class_only_r2"}}
	var x []float64
	series := map[string][]float64{}
	for _, p := range probes {
		t.Rows = append(t.Rows, report.Row{Method: fmt.Sprintf("CNN λ = %g", p.Lambda), Values: map[string]float64{
			"lambda": p.Lambda, "accuracy": p.Accuracy, "auc": p.AUC, "probe_r2": p.R2, "probe_r2_train": p.R2Train, "class_only_r2": p.R2Class}})
		x = append(x, p.Lambda)
		series["holdout accuracy"] = append(series["holdout accuracy"], p.Accuracy)
		series["R² of the amplitude from the embedding"] = append(series["R² of the amplitude from the embedding"], p.R2)
		series["R² of the amplitude from the class alone"] = append(series["R² of the amplitude from the class alone"], p.R2Class)
	}
	s.r.Tables = append(s.r.Tables, t)
	if len(x) < 2 {
		return nil
	}
	if err := plots.Lines(filepath.Join(s.o.Out, "debias.png"), x, series, "gradient reversal weight λ", "accuracy, R²", "Debiasing the amplitude"); err != nil {
		return err
	}
	s.figure("debias.png", "CNNs trained with a nuisance head behind a gradient reversal layer of weight λ: holdout accuracy, "+
		"and the R² on the holdout of a linear probe of the images' σ(log Σ) fitted on the training embeddings. "+
		"The class alone explains the third curve's share of the amplitude: an embedding that knows the class cannot go much below it.")
	return nil
}
