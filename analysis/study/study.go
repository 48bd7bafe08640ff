// Package study runs the analysis of a campaign: the hand-made baselines
// (HOG + SVM for the class, HOG + SVR for n), the physicist's baseline (the
// slope of the column-density power spectrum), the CNN runs if given, t-SNE
// maps, the zoom-invariance test, and the report that compares them.
//
// # Scores
//
// Every classifier of the study gives each image a score whose sign is the
// prediction: score ≥ 0 means Burgers (label 1), < 0 Kolmogorov, whatever
// the model's own convention (an SVM's decision value is positive for the
// class of its first training sample; see svm.Model.DecisionFor). Every
// use of a score — accuracy, ROC, per-simulation accuracy, zoom — relies on
// this, and every run checks it: a classifier whose holdout AUC is below
// chance by more than 3σ, or whose holdout accuracy is far below its own
// estimate from the training data, is flagged in the report and the log
// instead of being reported as a result (see sanity).
//
// # Stages
//
// Run is a list of stages (the variable stages) over one shared state:
// each stage is a method of *state that reads what the earlier stages left
// there and adds classifiers, regressors, tables, figures or notes. The same
// list drives the run and its progress bar. To add a stage:
//
//  1. write func (s *state) myStage() error beside the code it uses;
//  2. add {"my stage", (*state).myStage} to stages, after the stages whose
//     results it needs: images and features exist after "features";
//     s.classifiers and s.regressors are complete after "CNN"; their
//     holdout figures are computed by "holdout" and "regression".
//
// A new method is a stage that appends a classifier (name, scoring
// function and its own accuracy estimate) to s.classifiers or a regressor
// to s.regressors, placed before "holdout"; it then appears in every table,
// figure and test. A stage that scores every classifier on modified holdout
// images (zoom, and likewise beam or noise) builds them with s.derive,
// which recomputes the features, and scores them with s.accuracies.
package study

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/turbindex/turbindex/analysis/report"
	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/internal/buildinfo"
	"github.com/turbindex/turbindex/internal/progress"
	"github.com/turbindex/turbindex/internal/resources"
	"github.com/turbindex/turbindex/train/dataset"
)

// Options configure a study.
type Options struct {
	Manifest, Snapshots string
	Out                 string // report directory
	// CNN are run directories of `train fit --task classify` (optional):
	// several runs, for instance the same network under different
	// normalisations, are compared side by side.
	CNN             []string
	CNNRegress      string    // run directory of `train fit --task regress` (optional)
	ImageSize       int       // pixels; 0 = N/2
	Cache           string    // image cache directory (optional)
	Folds           int       // cross-validation folds for C and γ
	Cs, GammaScales []float64 // grid of C, and of γ in units of 1/(number of features)
	SVMSubsample    int       // C and γ are chosen on at most this many training vectors (0: all)
	SVMCacheMB      int       // kernel cache of each SVM fit, MiB (0: sized by KernelCaches)
	TSNEPoints      int       // at most this many points per t-SNE map
	Zooms           []float64 // zoom factors of the invariance test
	// CNNAugmented are classifier runs trained with augmentation (train fit
	// --augment), compared with every method; CNNDebias are runs trained
	// with --debias, each with its probe.json (train probe).
	CNNAugmented, CNNDebias []string
	// The test-time degradations (package degrade), besides none: beam
	// FWHMs in pixels, signal-to-noise ratios of log Σ, and background
	// gradients in units of each image's σ(log Σ).
	Beams, SNRs, Gradients []float64
	// Transfer is the directory of a `train transfer` study, Search that of
	// a summarised `train search`; each adds its tables and figures.
	Transfer, Search string
	Seed             uint64
	// Limits, if not nil, is the memory budget: Run refuses with a
	// *resources.TooBigError, before it reads anything, a study whose
	// estimate (Memory) exceeds it.
	Limits   *resources.Limits
	Log      *slog.Logger
	Progress io.Writer // terminal for a progress bar over the study's stages (optional)
}

// Defaults returns the study's default settings.
func Defaults() Options {
	return Options{Folds: 3, Cs: []float64{1, 10}, GammaScales: []float64{0.3, 1, 3}, SVMSubsample: 4000,
		TSNEPoints: 4800, Zooms: []float64{0.5, 0.75, 1, 1.5, 2}, Seed: 1,
		Beams: []float64{1, 2, 4, 8}, SNRs: []float64{100, 30, 10, 3}, Gradients: []float64{0.5, 1, 2, 4}}
}

// stage is one step of Run.
type stage struct {
	name string
	run  func(*state) error
}

// stages are the steps of Run, in order (see the package documentation).
var stages = []stage{
	{"images", (*state).loadImages},
	{"features", (*state).features},
	{"HOG+SVM", (*state).hogSVM},
	{"power-spectrum slope", (*state).slope},
	{"baselines", (*state).baselines},
	{"CNN", (*state).cnn},
	{"augmented CNN", (*state).augmented},
	{"holdout", (*state).holdout},
	{"protocols", (*state).protocols},
	{"regression", (*state).regression},
	{"t-SNE", (*state).tsne},
	{"zoom", (*state).zoom},
	{"telescope", (*state).telescope},
	{"debiasing", (*state).debias},
	{"transfer learning", (*state).transfer},
	{"hyper-parameter search", (*state).search},
}

// state is what the stages share.
type state struct {
	o   Options
	log *slog.Logger
	t0  time.Time

	manifest *campaign.Manifest
	size     int // image side in pixels
	// all holds every image; the others are its parts: Kolmogorov and
	// Burgers (cls) or sweep (sw) images of the train or holdout split.
	all, clsTrain, clsTest, clsHold, swTrain, swHold *data
	gammas                                           []float64 // RBF γ grid for the HOG features
	selectionCacheMB, fitCacheMB                     int       // kernel caches of the SVMs' fits (KernelCaches)

	classifiers []classifier
	regressors  []regressor

	r *report.Report
}

// Run performs the study and writes the report into o.Out.
func Run(o Options) (*report.Report, error) {
	s := &state{o: o, log: o.Log, t0: time.Now()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if s.manifest, err = campaign.ReadFile(o.Manifest); err != nil {
		return nil, err
	}
	if err := s.planMemory(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Out, 0o777); err != nil {
		return nil, err
	}
	s.r = &report.Report{Title: "turbindex: can the spectral index be read off column-density maps?",
		CodeVersion: buildinfo.Version(), Created: time.Now().UTC().Format(time.RFC3339),
		Parameters: map[string]string{
			"manifest": o.Manifest, "snapshots": o.Snapshots,
			"grid": strconv.Itoa(s.manifest.Params.Grid), "tend_myr": fmt.Sprint(s.manifest.Params.TEndMyr),
			"cv_folds": strconv.Itoa(o.Folds),
		}}
	prog := progress.New(o.Progress, s.log, "analysis", float64(len(stages)+1), 0)
	for i, st := range stages {
		if err := st.run(s); err != nil {
			return nil, fmt.Errorf("%s: %w", st.name, err)
		}
		prog.Update(float64(i+1), slog.String("done", st.name), slog.Float64("seconds", s.seconds()))
	}
	if err := report.Write(o.Out, *s.r); err != nil {
		return nil, err
	}
	prog.Finish(slog.Float64("seconds", s.seconds()))
	return s.r, nil
}

func (s *state) seconds() float64 { return time.Since(s.t0).Seconds() }

// figure adds a figure to the report.
func (s *state) figure(file, caption string) {
	s.r.Figures = append(s.r.Figures, report.Figure{File: file, Caption: caption})
}

// note adds a note to the report.
func (s *state) note(format string, args ...any) {
	s.r.Notes = append(s.r.Notes, fmt.Sprintf(format, args...))
}

// loadImages makes sure the image cache holds the campaign's images and
// opens them as a stream.
func (s *state) loadImages() error {
	cache := s.o.Cache
	if cache == "" {
		cache = filepath.Join(s.o.Out, "cache")
	}
	prog := progress.New(s.o.Progress, s.log, "image cache", float64(len(s.manifest.Rows)), 30*time.Second)
	src, err := dataset.OpenStream(s.manifest, s.o.Snapshots, dataset.Options{Size: s.o.ImageSize, Cache: cache,
		Warn:     func(msg string) { s.log.Warn(msg) },
		Progress: func(done, _ int) { prog.Update(float64(done)) }})
	if err != nil {
		return err
	}
	prog.Finish()
	s.size = src.Size
	s.all = &data{src: src, img: make([]int, src.Len()), lab: make([]dataset.Label, src.Len())}
	for i := range s.all.img {
		s.all.img[i], s.all.lab[i] = i, src.Label(i)
	}
	s.r.Parameters["image_size"] = strconv.Itoa(s.size)
	s.r.Parameters["images"] = strconv.Itoa(src.Len())
	s.log.Info("images", "images", src.Len(), "size", s.size, "cache", cache)
	return nil
}

// features computes every image's features and splits the data.
func (s *state) features() error {
	if err := s.computeFeatures(s.all, "features"); err != nil {
		return err
	}
	s.r.Parameters["hog"] = "8 orientations, 12×12 cells, 1 cell per block, L2-Hys"
	s.log.Info("features", "hog_dims", len(s.all.hog[0]))
	isClass := func(l dataset.Label) bool { return l.Class != campaign.Sweep }
	s.clsTrain = s.all.where(func(l dataset.Label) bool { return isClass(l) && l.Split == campaign.Train })
	s.clsTest = s.all.where(func(l dataset.Label) bool { return isClass(l) && l.Split == campaign.Test })
	s.clsHold = s.all.where(func(l dataset.Label) bool { return isClass(l) && l.Split == campaign.Holdout })
	s.swTrain = s.all.where(func(l dataset.Label) bool { return !isClass(l) && l.Split == campaign.Train })
	s.swHold = s.all.where(func(l dataset.Label) bool { return !isClass(l) && l.Split == campaign.Holdout })
	if len(s.clsTrain.lab) == 0 || len(s.clsHold.lab) == 0 {
		return fmt.Errorf("%s: the classification needs Kolmogorov and Burgers simulations in train and holdout", s.o.Manifest)
	}
	s.gammas = scaled(s.o.GammaScales, len(s.all.hog[0]))
	return nil
}
