// Command analysis runs the baselines the CNN must beat — HOG features with
// an SVM (class) and an SVR (n), and the slope of the column-density power
// spectrum — plus t-SNE maps and a zoom-invariance test, and writes the
// report of the study.
//
//	analysis run --manifest m.csv --snapshots snaps/ [--cnn run/[,run2/,…]] [--cnn-regress run/] --out report/
//	analysis resolution --campaign m32.csv,snaps32/,run32/ --campaign m64.csv,snaps64/,run64/ ... --out dir/
//	analysis hog --image X.png|X.tsnap#index [flags] --out feats.csv
//	analysis hog --images DIR|'GLOB' | --list FILE [--workers N] [flags] --out feats.csv
//	analysis svm --train a.csv --test b.csv [--kernel rbf --C 1 --gamma 0.1] [--out dec.csv]
//	analysis svr --train a.csv --test b.csv [--epsilon 0.1] [--out pred.csv]
package main

import (
	"errors"
	"flag"
	"fmt"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/turbindex/turbindex/analysis/hog"
	"github.com/turbindex/turbindex/analysis/study"
	"github.com/turbindex/turbindex/analysis/svm"
	"github.com/turbindex/turbindex/internal/atomicfile"
	"github.com/turbindex/turbindex/internal/cli"
	"github.com/turbindex/turbindex/internal/resources"
	"github.com/turbindex/turbindex/train/dataset"
)

const usage = `usage: analysis <command> [flags]

commands:
  run   the whole analysis of a campaign and its report (index.html, metrics.json)
  resolution  CNNs trained at one grid N tested at every other, and the power spectrum per N
  hog   HOG features of one image, or of many in parallel (one CSV row each)
  svm   train a C-SVC on a CSV (label first) and score a test CSV
  svr   train an ε-SVR on a CSV (target first) and score a test CSV

Run 'analysis <command> -h' for the flags of a command.
`

func main() {
	cli.Main("analysis", usage, map[string]cli.Command{
		"run":        runCmd,
		"resolution": resolutionCmd,
		"hog":        func(args []string) error { return hogCmd(args, os.Stdout) },
		"svm":        func(args []string) error { return svmCmd(args, false, os.Stdout) },
		"svr":        func(args []string) error { return svmCmd(args, true, os.Stdout) },
	}, nil)
}

func runCmd(args []string) error {
	o := study.Defaults()
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&o.Manifest, "manifest", "", "campaign manifest `file`")
	fs.StringVar(&o.Snapshots, "snapshots", "", "snapshot `directory`")
	fs.StringVar(&o.Out, "out", "report", "report `directory`")
	fs.Var((*cli.Strings)(&o.CNN), "cnn", "run `directories` of `train fit --task classify` to compare, comma-separated (several: the same network under different --normalise, side by side)")
	fs.StringVar(&o.CNNRegress, "cnn-regress", "", "run `directory` of a `train fit --task regress` to compare")
	fs.IntVar(&o.ImageSize, "image-size", 0, "image side in pixels (0: N/2; must match the CNN runs)")
	fs.StringVar(&o.Cache, "cache", "", "image cache `directory`")
	fs.IntVar(&o.Folds, "folds", o.Folds, "cross-validation folds for choosing C and γ on the training split")
	fs.Var((*cli.Floats)(&o.Cs), "C", "grid of SVM C values")
	fs.Var((*cli.Floats)(&o.GammaScales), "gamma-scale", "grid of RBF γ in units of 1/(number of features)")
	fs.IntVar(&o.SVMSubsample, "svm-subsample", o.SVMSubsample, "choose C and γ by cross-validation on at most this many training vectors, the same number from each simulation (0: all; the final fit always uses all)")
	fs.IntVar(&o.SVMCacheMB, "svm-cache", o.SVMCacheMB, "kernel cache of each SVM fit, `MiB` (0: 200 for the model selection's fits, and for each full fit its whole kernel matrix where the memory budget allows)")
	fs.IntVar(&o.TSNEPoints, "tsne-points", o.TSNEPoints, "at most this many points in a t-SNE map")
	fs.Var((*cli.Floats)(&o.Zooms), "zoom", "zoom factors of the invariance test")
	fs.Var((*cli.Strings)(&o.CNNAugmented), "cnn-augmented", "run `directories` of `train fit --augment` classifiers to compare (comma-separated)")
	fs.Var((*cli.Strings)(&o.CNNDebias), "cnn-debias", "run `directories` of `train fit --debias` classifiers with their probe.json (comma-separated)")
	fs.Var((*cli.Floats)(&o.Beams), "beam", "beam FWHMs in pixels of the degradation test (besides none)")
	fs.Var((*cli.Floats)(&o.SNRs), "snr", "signal-to-noise ratios of log Σ of the degradation test (besides none)")
	fs.Var((*cli.Floats)(&o.Gradients), "gradient", "background gradients in units of σ(log Σ) of the degradation test (besides none)")
	fs.StringVar(&o.Transfer, "transfer", "", "`directory` of a `train transfer` study to report")
	fs.StringVar(&o.Search, "search", "", "`directory` of a summarised `train search` to report")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "seed of the cross-validation folds and t-SNE")
	res := cli.AddResources(fs)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := cli.Required(fs, "manifest", "snapshots"); err != nil {
		return err
	}
	if o.SVMSubsample < 0 {
		return cli.Usage(fmt.Errorf("--svm-subsample %d: want ≥ 0 (0: all)", o.SVMSubsample))
	}
	if o.SVMCacheMB < 0 || o.SVMCacheMB > 1<<20 {
		return cli.Usage(fmt.Errorf("--svm-cache %d: want 0 (sized from the memory budget) to %d MiB", o.SVMCacheMB, 1<<20))
	}
	lim, err := res.Limits()
	if err != nil {
		return err
	}
	undo := atomicfile.UndoMkdir(o.Out)
	if err := os.MkdirAll(o.Out, 0o777); err != nil {
		return err
	}
	// A report cut short by a signal (SLURM's time limit) is removed like
	// a failed one: the study cannot resume, and its figures alone would
	// pass for a result.
	complete := cli.UndoOnSignal("analysis run", o.Out, undo)
	o.Limits = &lim
	boundHeap(lim)
	o.Log = cli.Logger(os.Stderr)
	o.Progress = os.Stderr
	r, err := study.Run(o)
	if err != nil {
		undo() // a report directory this run created and did not finish
		return err
	}
	complete()
	fmt.Printf("%s\n", filepath.Join(o.Out, "index.html"))
	for _, h := range r.Headline {
		fmt.Printf("  %s\n", h)
	}
	for _, t := range r.Tables[:1] {
		for _, row := range t.Rows {
			if row.Warning != "" {
				fmt.Printf("  %-28s WARNING, not a result: %s\n", row.Method, row.Warning)
				continue
			}
			fmt.Printf("  %-28s accuracy %.3f  AUC %.3f  per simulation %.3f\n", row.Method, row.Values["accuracy"], row.Values["auc"], row.Values["per_sim_accuracy"])
		}
	}
	return nil
}

// boundHeap makes the garbage collector keep the heap near what the
// memory estimates count (study.Memory, resolution.Memory): GOGC=25 unless
// the environment sets it, and the budget as the soft limit. At Go's
// default GOGC=100 garbage can double the live heap: `analysis run` on
// 4 608 images of 200² peaked at 451 MB with 115–157 MB live, and the CNN's
// fresh tensors every batch did the same in `analysis resolution` (200 MB
// against 128); the CNN's memory model (cnn.TrainMemory) is calibrated at
// 25, what train sets.
func boundHeap(lim resources.Limits) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(25)
	}
	debug.SetMemoryLimit(lim.Memory)
}

func svmCmd(args []string, regress bool, w io.Writer) error {
	name := "svm"
	if regress {
		name = "svr"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	trainPath := fs.String("train", "", "training CSV `file` (label or target first, then features)")
	testPath := fs.String("test", "", "test CSV `file`")
	kernel := fs.String("kernel", "rbf", "kernel: rbf or linear")
	c := fs.Float64("C", 1, "penalty C")
	gamma := fs.Float64("gamma", 0, "RBF γ (0: 1/number of features)")
	eps := fs.Float64("epsilon", 0.1, "ε of the ε-insensitive loss (svr)")
	grid := fs.Bool("grid", false, "choose C and γ by 5-fold cross-validation on the training file")
	out := fs.String("out", "", "write one decision value (svm: positive for the label of the first training row) or prediction (svr) per test row to this `file`")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := cli.Required(fs, "train", "test"); err != nil {
		return err
	}
	yTrain, xTrain, err := readCSV(*trainPath)
	if err != nil {
		return err
	}
	yTest, xTest, err := readCSV(*testPath)
	if err != nil {
		return err
	}
	if len(xTest[0]) != len(xTrain[0]) {
		return fmt.Errorf("%s has %d features, %s has %d", *testPath, len(xTest[0]), *trainPath, len(xTrain[0]))
	}
	if *gamma == 0 {
		*gamma = 1 / float64(len(xTrain[0]))
	}
	scaler := svm.FitScaler(xTrain)
	xTrain, xTest = scaler.Apply(xTrain), scaler.Apply(xTest)
	p := svm.DefaultParams(svm.Kernel{Kind: *kernel, Gamma: *gamma})
	p.C, p.Epsilon = *c, *eps
	if *grid {
		g := 1 / float64(len(xTrain[0]))
		p.C, p.Kernel.Gamma, _, err = svm.GridSearchParams(xTrain, yTrain, 5, []float64{0.1, 1, 10, 100},
			[]float64{0.1 * g, 0.3 * g, g, 3 * g, 10 * g}, regress, 1, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "grid: C = %g, gamma = %.4g\n", p.C, p.Kernel.Gamma)
	}
	var model *svm.Model
	if regress {
		model, err = svm.TrainSVR(xTrain, yTrain, p)
	} else {
		labels := make([]int, len(yTrain))
		for i, v := range yTrain {
			if v != float64(int(v)) {
				return fmt.Errorf("%s: row %d: label %g is not an integer", *trainPath, i+1, v)
			}
			labels[i] = int(v)
		}
		model, err = svm.TrainSVC(xTrain, labels, p)
	}
	if err != nil {
		return err
	}
	var b strings.Builder
	var right int
	var se float64
	for i, x := range xTest {
		pred := model.Predict(x)
		if regress {
			se += (pred - yTest[i]) * (pred - yTest[i])
			fmt.Fprintf(&b, "%.8g\n", pred)
		} else {
			if pred == yTest[i] {
				right++
			}
			fmt.Fprintf(&b, "%.8g\n", model.Decision(x))
		}
	}
	if regress {
		fmt.Fprintf(w, "%s: MSE %.6g on %d rows, %d support vectors\n", *testPath, se/float64(len(xTest)), len(xTest), model.NumSV())
	} else {
		fmt.Fprintf(w, "%s: accuracy %.4f (%d/%d), %d support vectors; decision > 0 predicts label %d\n", *testPath,
			float64(right)/float64(len(xTest)), right, len(xTest), model.NumSV(), model.Labels[0])
	}
	if *out != "" {
		return atomicfile.WriteBytes(*out, []byte(b.String()))
	}
	return nil
}

func readCSV(path string) ([]float64, [][]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return svm.ReadCSV(f, path)
}

func hogCmd(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("hog", flag.ContinueOnError)
	in := fs.String("image", "", "one image: a grayscale PNG, or SNAPSHOT.tsnap#K for image K (0–47) of a snapshot (log10 Σ)")
	many := fs.String("images", "", "many images: a `directory` (its .png and .tsnap files) or a quoted glob; a .tsnap gives its 48 images")
	list := fs.String("list", "", "many images: a `file` naming one image, snapshot or directory per line (# comments)")
	workers := fs.Int("workers", 0, "parallel workers (0: one per CPU; never more than the CPUs)")
	orient := fs.Int("orientations", 8, "orientation bins")
	ppc := fs.Int("pixels-per-cell", 0, "pixels per cell side (0: image size / 12)")
	cpb := fs.Int("cells-per-block", 1, "cells per block side")
	norm := fs.String("block-norm", "L2-Hys", "block normalisation: L1, L1-sqrt, L2, L2-Hys")
	out := fs.String("out", "", "features CSV `file` (default: standard output); with --images/--list one row per image, the image's name first")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	given := 0
	for _, s := range []string{*in, *many, *list} {
		if s != "" {
			given++
		}
	}
	if given != 1 {
		return cli.Usage(errors.New("give exactly one of --image, --images and --list"))
	}
	if *workers < 0 {
		return cli.Usage(fmt.Errorf("--workers %d: must be ≥ 0", *workers))
	}
	options := func(rows, cols int) hog.Options {
		o := hog.DefaultOptions(min(rows, cols))
		o.Orientations, o.CellsPerBlock, o.BlockNorm = *orient, [2]int{*cpb, *cpb}, *norm
		if *ppc > 0 {
			o.PixelsPerCell = [2]int{*ppc, *ppc}
		}
		return o
	}
	if *in == "" {
		specs, err := imageSpecs(*many, *list)
		if err != nil {
			return err
		}
		return hogBatch(specs, options, *workers, *out, w)
	}
	pix, rows, cols, err := loadImage(*in)
	if err != nil {
		return err
	}
	feats, err := hog.Features(pix, rows, cols, options(rows, cols))
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	var b strings.Builder
	appendFloats(&b, feats)
	if *out == "" {
		_, err = io.WriteString(w, b.String())
		return err
	}
	return atomicfile.WriteBytes(*out, []byte(b.String()))
}

// appendFloats writes v as comma-separated values and a newline.
func appendFloats(b *strings.Builder, v []float64) {
	for i, x := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatFloat(x, 'g', 8, 64))
	}
	b.WriteByte('\n')
}

// imageSpecs expands --images (a directory or a glob) or --list (a file of
// specs, each a PNG, a snapshot, SNAPSHOT.tsnap#K or a directory) into a
// sorted, non-empty list of image sources.
func imageSpecs(many, list string) ([]string, error) {
	var roots []string
	if many != "" {
		roots = []string{many}
		if st, err := os.Stat(many); err != nil || !st.IsDir() {
			m, gerr := filepath.Glob(many)
			if gerr != nil {
				return nil, cli.Usage(fmt.Errorf("--images %q: %w", many, gerr))
			}
			if len(m) == 0 {
				return nil, fmt.Errorf("--images %q: no such directory, and no file matches it as a glob", many)
			}
			roots = m
		}
	} else {
		raw, err := os.ReadFile(list)
		if err != nil {
			return nil, err
		}
		for n, line := range strings.Split(string(raw), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if !filepath.IsAbs(line) {
				line = filepath.Join(filepath.Dir(list), line)
			}
			file := line
			if p, _, ok := strings.Cut(line, ".tsnap#"); ok {
				file = p + ".tsnap"
			}
			if _, err := os.Stat(file); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", list, n+1, err)
			}
			roots = append(roots, line)
		}
	}
	var specs []string
	for _, r := range roots {
		st, err := os.Stat(r)
		if err != nil || !st.IsDir() {
			specs = append(specs, r)
			continue
		}
		ents, err := os.ReadDir(r)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if ext := filepath.Ext(e.Name()); !e.IsDir() && (ext == ".png" || ext == ".tsnap") {
				specs = append(specs, filepath.Join(r, e.Name()))
			}
		}
	}
	if len(specs) == 0 {
		return nil, fmt.Errorf("no .png or .tsnap images in %s", many+list)
	}
	return specs, nil
}

// hogBatch writes the features of every image of specs, one CSV row each
// (name, features), computed in parallel in one process.
func hogBatch(specs []string, options func(rows, cols int) hog.Options, workers int, out string, w io.Writer) error {
	sources := make([]hog.Loader, len(specs))
	for i, spec := range specs {
		sources[i] = func() ([]hog.Image, error) { return loadImages(spec) }
	}
	var b strings.Builder
	n := 0
	err := hog.Stream(sources, options, workers, func(im hog.Image, f []float64) error {
		if n == 0 {
			b.WriteString("image")
			for k := range f {
				fmt.Fprintf(&b, ",hog%d", k)
			}
			b.WriteByte('\n')
		}
		n++
		b.WriteString(csvField(im.Name))
		b.WriteByte(',')
		appendFloats(&b, f)
		return nil
	})
	if err != nil {
		return err
	}
	slog.Info("hog", "images", n, "sources", len(specs))
	if out == "" {
		_, err = io.WriteString(w, b.String())
		return err
	}
	return atomicfile.WriteBytes(out, []byte(b.String()))
}

// csvField quotes s for CSV when it needs it.
func csvField(s string) string {
	if !strings.ContainsAny(s, ",\"\n\r") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// loadImages loads one source: a PNG, image K of a snapshot, or all 48
// images of a snapshot (named SNAPSHOT#K).
func loadImages(spec string) ([]hog.Image, error) {
	if strings.HasSuffix(spec, ".tsnap") {
		row, err := dataset.RowOf(spec)
		if err != nil {
			return nil, err
		}
		images, err := dataset.FromSnapshot(spec, 0, row)
		if err != nil {
			return nil, err
		}
		out := make([]hog.Image, len(images))
		for k, im := range images {
			out[k] = hog.Image{Name: fmt.Sprintf("%s#%d", spec, k), Pix: im.Pix, Rows: im.Size, Cols: im.Size}
		}
		return out, nil
	}
	pix, rows, cols, err := loadImage(spec)
	if err != nil {
		return nil, err
	}
	return []hog.Image{{Name: spec, Pix: pix, Rows: rows, Cols: cols}}, nil
}

// loadImage reads a grayscale PNG (values 0–255) or image K of a snapshot.
func loadImage(spec string) ([]float32, int, int, error) {
	if path, k, ok := strings.Cut(spec, ".tsnap#"); ok {
		path += ".tsnap"
		idx, err := strconv.Atoi(k)
		if err != nil || idx < 0 || idx >= dataset.PerSnapshot {
			return nil, 0, 0, cli.Usage(fmt.Errorf("--image %q: image index %q is not in 0–%d", spec, k, dataset.PerSnapshot-1))
		}
		row, err := dataset.RowOf(path)
		if err != nil {
			return nil, 0, 0, err
		}
		images, err := dataset.FromSnapshot(path, 0, row)
		if err != nil {
			return nil, 0, 0, err
		}
		im := images[idx]
		return im.Pix, im.Size, im.Size, nil
	}
	f, err := os.Open(spec)
	if err != nil {
		return nil, 0, 0, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s: %w", spec, err)
	}
	b := img.Bounds()
	pix := make([]float32, 0, b.Dx()*b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			g := color.GrayModel.Convert(img.At(x, y)).(color.Gray)
			pix = append(pix, float32(g.Y))
		}
	}
	return pix, b.Dy(), b.Dx(), nil
}
