package experiment

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"github.com/turbindex/turbindex/train/cnn"
	"github.com/turbindex/turbindex/train/dataset"
)

// initFrom copies the convolution blocks of the best model of the run in
// dir into model (Config.InitFrom); nothing when dir is "".
func initFrom(model *cnn.Model, dir string) error {
	if dir == "" {
		return nil
	}
	src, err := loadModel(filepath.Join(dir, "best.cnn"))
	if err != nil {
		return fmt.Errorf("init_from %s: %w", dir, err)
	}
	if err := model.CopyConv(src); err != nil {
		return fmt.Errorf("init_from %s: %w", dir, err)
	}
	return nil
}

// checkFraction validates Config.TrainFraction (0 means all).
func checkFraction(f float64) error {
	if f == 0 || (f > 0 && f <= 1) {
		return nil
	}
	return fmt.Errorf("train_fraction %v: want a fraction in (0, 1]", f)
}

// trainSubset returns the images of a fraction of the training
// simulations, whole simulations at a time: for each class, the first
// max(1, round(fraction·n)) of its n simulations in an order fixed by
// their ids alone. The subsets are nested (10 % ⊂ 30 % ⊂ 100 %) and the
// same whatever the seed, so runs that differ only in initialisation see
// the same simulations. fraction 0 or 1 keeps everything.
func trainSubset(images []dataset.Image, fraction float64) []dataset.Image {
	if fraction == 0 || fraction == 1 {
		return images
	}
	byClass := map[string][]string{}
	seen := map[string]bool{}
	for _, im := range images {
		if l := im.Label; !seen[l.ID] {
			seen[l.ID] = true
			byClass[l.Class] = append(byClass[l.Class], l.ID)
		}
	}
	keep := map[string]bool{}
	for _, ids := range byClass {
		slices.Sort(ids)
		// One permutation for all fractions and seeds: a fixed stream.
		r := rand.New(rand.NewPCG(0x7472616e73666572, uint64(len(ids)))) // "transfer"
		r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		k := fractionCount(len(ids), fraction)
		for _, id := range ids[:k] {
			keep[id] = true
		}
	}
	var out []dataset.Image
	for _, im := range images {
		if keep[im.Label.ID] {
			out = append(out, im)
		}
	}
	return out
}

// fractionCount is how many of n simulations of a class a training
// fraction keeps: max(1, round(fraction·n)), all for 0.
func fractionCount(n int, fraction float64) int {
	if fraction == 0 {
		return n
	}
	return min(n, max(1, int(math.Round(fraction*float64(n)))))
}

// simulations counts the distinct simulations of images.
func simulations(images []dataset.Image) int {
	seen := map[string]bool{}
	for _, im := range images {
		seen[im.Label.ID] = true
	}
	return len(seen)
}

// EnsureFit makes dir a finished run of cfg, doing only what is missing: a
// run with all cfg.Epochs epochs is left alone, an interrupted one resumes
// from its last epoch, and an empty or absent directory starts from
// scratch. It refuses a directory that holds a different run (another
// task, network or data), so that reruns of an experiment are idempotent.
// It reports whether it trained.
func EnsureFit(ctx context.Context, dir string, cfg Config, opt FitOptions) (bool, error) {
	saved, err := ReadConfig(dir)
	if err != nil {
		if _, statErr := os.Stat(filepath.Join(dir, "config.json")); !os.IsNotExist(statErr) {
			return false, err
		}
		opt.Resume = false
		return true, Fit(ctx, dir, cfg, opt)
	}
	if why := differs(saved, cfg); why != "" {
		return false, fmt.Errorf("run directory %s holds another run (%s): remove it or choose another directory", dir, why)
	}
	h, err := ReadHistory(dir)
	if os.IsNotExist(err) {
		// Interrupted before the first epoch ended: start again.
		opt.Resume = false
		return true, Fit(ctx, dir, cfg, opt)
	}
	if err != nil {
		return false, err
	}
	if len(h) >= cfg.Epochs {
		return false, nil
	}
	opt.Resume = true
	return true, Fit(ctx, dir, cfg, opt)
}

// allIfZero reads a training fraction, where 0 means all (1).
func allIfZero(f float64) float64 {
	if f == 0 {
		return 1
	}
	return f
}

// differs says how the run saved differs from the run cfg asks for, or "".
func differs(saved, cfg Config) string {
	a, b := saved.CNN, cfg.CNN
	a.Task, a.ImageSize, b.Task, b.ImageSize = "", 0, "", 0
	switch {
	case saved.Task != cfg.Task:
		return fmt.Sprintf("task %s, not %s", saved.Task, cfg.Task)
	case saved.Manifest != cfg.Manifest:
		return fmt.Sprintf("manifest %s, not %s", saved.Manifest, cfg.Manifest)
	case cfg.ImageSize != 0 && saved.ImageSize != cfg.ImageSize:
		return fmt.Sprintf("image size %d, not %d", saved.ImageSize, cfg.ImageSize)
	case saved.InitFrom != cfg.InitFrom:
		return fmt.Sprintf("initialised from %q, not %q", saved.InitFrom, cfg.InitFrom)
	case allIfZero(saved.TrainFraction) != allIfZero(cfg.TrainFraction):
		return fmt.Sprintf("train fraction %v, not %v", saved.TrainFraction, cfg.TrainFraction)
	case saved.normalisation() != cfg.normalisation():
		return fmt.Sprintf("normalisation %s, not %s", saved.normalisation(), cfg.normalisation())
	case fmt.Sprint(a) != fmt.Sprint(b):
		return fmt.Sprintf("network %+v, not %+v", a, b)
	}
	return ""
}
