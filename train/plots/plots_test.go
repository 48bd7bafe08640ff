package plots

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/turbindex/turbindex/train/metrics"
)

// outDir returns the directory the test figures are written to: a
// temporary one, or $PLOTS_OUT to keep them for inspection.
func outDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("PLOTS_OUT"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// checkPNG checks that path holds a PNG that is not blank, and that
// no temporary file is left beside it.
func checkPNG(t *testing.T, path string) image.Image {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	im, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	r := im.Bounds()
	if r.Dx() <= 0 || r.Dy() <= 0 {
		t.Fatalf("%s: empty image %v", path, r)
	}
	var sum, sum2, n float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := im.At(x, y).RGBA()
			v := float64(cr+cg+cb) / 3
			sum += v
			sum2 += v * v
			n++
		}
	}
	if v := sum2/n - (sum/n)*(sum/n); v <= 0 {
		t.Fatalf("%s: blank image (variance %v)", path, v)
	}
	checkNoTemp(t, filepath.Dir(path))
	return im
}

// checkNoTemp checks that dir holds no temporary file.
func checkNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left in %s", e.Name(), dir)
		}
	}
}

// figures returns a call of every function of the package writing to
// path, on plausible data of the study.
func figures() map[string]func(path string) error {
	rnd := rand.New(rand.NewPCG(7, 8))

	epochs := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	var train, val []float64
	for _, e := range epochs {
		train = append(train, 0.7*math.Exp(-float64(e)/4)+0.1)
		val = append(val, 0.6*math.Exp(-float64(e)/5)+0.25)
	}

	scores := func(shift float64) ([]float64, []int) {
		var s []float64
		var l []int
		for i := range 400 {
			lab := i % 2
			s = append(s, 1/(1+math.Exp(-(rnd.NormFloat64()+shift*float64(2*lab-1)))))
			l = append(l, lab)
		}
		return s, l
	}
	curves := map[string][]metrics.ROCPoint{}
	aucs := map[string]float64{}
	for _, c := range []struct {
		name  string
		shift float64
	}{{"CNN", 0.9}, {"HOG + SVM", 0.6}, {"spectral slope", 0.3}} {
		s, l := scores(c.shift)
		curves[c.name] = metrics.ROC(s, l)
		aucs[c.name] = metrics.AUC(s, l)
	}
	delete(aucs, "spectral slope") // Computed from the curve.
	kScores, _ := scores(0.5)

	var truth, pred []float64
	for range 300 {
		n := 3 + 1.5*rnd.Float64()
		truth = append(truth, n)
		pred = append(pred, n+0.15*rnd.NormFloat64())
	}

	var index, prob, simIndex, simProb []float64
	for s := range 16 {
		n := 3 + 1.5*float64(s)/15
		var sum float64
		for range 48 {
			p := 1 / (1 + math.Exp(-(4*(n-3.8) + 0.8*rnd.NormFloat64())))
			index = append(index, n)
			prob = append(prob, p)
			sum += p
		}
		simIndex = append(simIndex, n)
		simProb = append(simProb, sum/48)
	}

	const size = 48
	var imgs [][]float32
	var titles []string
	for k := range 6 {
		im := make([]float32, size*size)
		for i := range im {
			x, y := float64(i%size), float64(i/size)
			im[i] = float32(math.Sin(x/float64(3+k)) + math.Cos(y/5) + 0.3*rnd.NormFloat64())
		}
		imgs = append(imgs, im)
		titles = append(titles, []string{"image", "saliency"}[k%2])
	}

	layers := []Layer{
		{"input", "(32, 128, 128, 1)", 0},
		{"conv2d_1 (Conv2D)", "(32, 126, 126, 16)", 160},
		{"max_pooling2d_1", "(32, 63, 63, 16)", 0},
		{"conv2d_2 (Conv2D)", "(32, 61, 61, 32)", 4640},
		{"flatten", "(32, 4096)", 0},
		{"dense_1 (Dense)", "(32, 128)", 524416},
		{"dropout_1", "(32, 128)", 0},
		{"dense_2 (Dense)", "(32, 1)", 129},
	}

	return map[string]func(string) error{
		"learning_curve": func(p string) error { return LearningCurve(p, epochs, train, val, "binary cross-entropy") },
		"learning_curve_train_only": func(p string) error {
			return LearningCurve(p, epochs[:3], train[:3], nil, "")
		},
		"roc": func(p string) error { return ROCCurves(p, curves, aucs) },
		"confusion": func(p string) error {
			return ConfusionMatrix(p, metrics.Confusion{TP: 1588, FP: 287, TN: 2113, FN: 812}, [2]string{"Kolmogorov", "Burgers"})
		},
		"scatter": func(p string) error {
			return Scatter(p, truth, pred, "true n", "predicted n", "Regression on holdout", true)
		},
		"sweep": func(p string) error { return SweepPlot(p, index, prob, simIndex, simProb) },
		"histogram": func(p string) error {
			return Histogram(p, map[string][]float64{"Burgers": prob, "Kolmogorov": kScores}, 30, "P(Burgers)", "Scores")
		},
		"images":  func(p string) error { return ImageGrid(p, imgs, size, titles, 4) },
		"network": func(p string) error { return Network(p, layers) },
		"panels": func(p string) error {
			return Panels(p, []Panel{
				{Title: "learning rate", X: []float64{1e-4, 1e-3, 3e-3}, Y: []float64{0.8, 0.9, 0.85}, Log: true, Highlight: 1},
				{Title: "batch", X: []float64{32, 32, 32}, Y: []float64{0.8, 0.9, 0.85}, Log: true, Highlight: 1},
				{Title: "filters", X: []float64{0, 1, 1}, Y: []float64{0.8, 0.9, 0.85}, Labels: []string{"8-16", "16-32"}, Highlight: -1},
			}, 2, "validation accuracy")
		},
	}
}

func TestFigures(t *testing.T) {
	dir := outDir(t)
	for name, f := range figures() {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name+".png")
			if err := f(path); err != nil {
				t.Fatal(err)
			}
			checkPNG(t, path)
			// Writing again replaces the figure.
			if err := f(path); err != nil {
				t.Fatal(err)
			}
			checkPNG(t, path)
		})
	}
}

func TestUnwritablePath(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-such-dir", "figure.png")
	// A directory in the way: the temporary file is written, the rename
	// fails, and the temporary file must be removed.
	inTheWay := filepath.Join(dir, "taken.png")
	if err := os.Mkdir(inTheWay, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, f := range figures() {
		for _, path := range []string{missing, inTheWay} {
			err := f(path)
			if err == nil {
				t.Errorf("%s: writing %s: no error", name, path)
				continue
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("%s: error %q does not name %s", name, err, path)
			}
		}
	}
	checkNoTemp(t, dir)
}

func TestDeterministic(t *testing.T) {
	dir := t.TempDir()
	for name, f := range figures() {
		a, b := filepath.Join(dir, name+"-a.png"), filepath.Join(dir, name+"-b.png")
		// Rebuild the inputs for each rendering: the ROC curves come from
		// a map whose iteration order varies.
		if err := f(a); err != nil {
			t.Fatal(err)
		}
		if err := figures()[name](b); err != nil {
			t.Fatal(err)
		}
		ba, _ := os.ReadFile(a)
		bb, _ := os.ReadFile(b)
		if !bytes.Equal(ba, bb) {
			t.Errorf("%s: two renderings of the same input differ", name)
		}
	}
}

// TestROCLegendOrder checks that the ROC figure does not depend on the
// order in which the curves were inserted in the map.
func TestROCLegendOrder(t *testing.T) {
	dir := t.TempDir()
	curve := func(k float64) []metrics.ROCPoint {
		return []metrics.ROCPoint{{FPR: 0, TPR: 0, Threshold: math.Inf(1)}, {FPR: 0.1 * k, TPR: 0.5, Threshold: 0.7}, {FPR: 1, TPR: 1, Threshold: 0.1}}
	}
	names := []string{"a", "b", "c", "d", "e", "f"}
	var first []byte
	for trial := range 5 {
		curves := map[string][]metrics.ROCPoint{}
		for i := range names {
			j := (i + trial) % len(names)
			curves[names[j]] = curve(float64(j + 1))
		}
		path := filepath.Join(dir, "roc.png")
		if err := ROCCurves(path, curves, nil); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		if trial == 0 {
			first = b
		} else if !bytes.Equal(b, first) {
			t.Fatalf("trial %d: ROC figure differs from the first", trial)
		}
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.png")
	nan := math.NaN()
	for name, err := range map[string]error{
		"learning no epoch":   LearningCurve(path, nil, nil, nil, ""),
		"learning lengths":    LearningCurve(path, []int{1, 2}, []float64{1}, nil, ""),
		"learning val length": LearningCurve(path, []int{1, 2}, []float64{1, 2}, []float64{1}, ""),
		"learning NaN":        LearningCurve(path, []int{1, 2}, []float64{1, nan}, nil, ""),
		"roc none":            ROCCurves(path, nil, nil),
		"roc empty curve":     ROCCurves(path, map[string][]metrics.ROCPoint{"x": nil}, nil),
		"roc outside":         ROCCurves(path, map[string][]metrics.ROCPoint{"x": {{FPR: 0, TPR: 1.5}}}, nil),
		"confusion negative":  ConfusionMatrix(path, metrics.Confusion{TP: -1}, [2]string{}),
		"scatter empty":       Scatter(path, nil, nil, "", "", "", false),
		"scatter lengths":     Scatter(path, []float64{1}, []float64{1, 2}, "", "", "", false),
		"scatter Inf":         Scatter(path, []float64{math.Inf(1)}, []float64{1}, "", "", "", false),
		"sweep empty":         SweepPlot(path, nil, nil, nil, nil),
		"sweep lengths":       SweepPlot(path, []float64{3}, nil, nil, nil),
		"sweep sim lengths":   SweepPlot(path, nil, nil, []float64{3}, []float64{0.1, 0.2}),
		"sweep NaN":           SweepPlot(path, []float64{3}, []float64{nan}, nil, nil),
		"histogram none":      Histogram(path, nil, 10, "", ""),
		"histogram bins":      Histogram(path, map[string][]float64{"x": {1}}, 0, "", ""),
		"histogram empty":     Histogram(path, map[string][]float64{"x": {}}, 10, "", ""),
		"images none":         ImageGrid(path, nil, 4, nil, 1),
		"panels none":         Panels(path, nil, 2, ""),
		"panels log zero":     Panels(path, []Panel{{X: []float64{0}, Y: []float64{1}, Log: true}}, 1, ""),
		"panels lengths":      Panels(path, []Panel{{X: []float64{1}, Y: []float64{1, 2}}}, 1, ""),
		"images size":         ImageGrid(path, [][]float32{make([]float32, 15)}, 4, nil, 1),
		"images cols":         ImageGrid(path, [][]float32{make([]float32, 16)}, 4, nil, 0),
		"images titles":       ImageGrid(path, [][]float32{make([]float32, 16)}, 4, []string{"a", "b"}, 1),
		"images NaN":          ImageGrid(path, [][]float32{{float32(nan)}}, 1, nil, 1),
		"network none":        Network(path, nil),
		"network name":        Network(path, []Layer{{Params: 3}}),
		"network params":      Network(path, []Layer{{Name: "x", Params: -3}}),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %q does not name %s", name, err, path)
		}
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("bad input wrote %s", path)
	}
	checkNoTemp(t, dir)
}

// TestEdgeCases checks degenerate but valid inputs.
func TestEdgeCases(t *testing.T) {
	dir := t.TempDir()
	for name, f := range map[string]func(string) error{
		"single point scatter": func(p string) error { return Scatter(p, []float64{3.5}, []float64{3.5}, "x", "y", "", true) },
		"constant histogram":   func(p string) error { return Histogram(p, map[string][]float64{"x": {2, 2, 2}}, 5, "", "") },
		"empty confusion row":  func(p string) error { return ConfusionMatrix(p, metrics.Confusion{TN: 5, FP: 2}, [2]string{}) },
		"sweep means only":     func(p string) error { return SweepPlot(p, nil, nil, []float64{3, 4.5}, []float64{0.2, 0.9}) },
		"constant image":       func(p string) error { return ImageGrid(p, [][]float32{{1, 1, 1, 1}, {0, 1, 2, 3}}, 2, nil, 5) },
		"one layer":            func(p string) error { return Network(p, []Layer{{Name: "dense", Params: 1234567}}) },
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".png")
		if err := f(path); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		checkPNG(t, path)
	}
}

// TestImageGridPixels checks the layout and normalisation of ImageGrid:
// a 2×2 image enlarged to 128 pixels with its minimum black and maximum
// white, row 0 at the top.
func TestImageGridPixels(t *testing.T) {
	path := filepath.Join(t.TempDir(), "grid.png")
	// Row 0: 10, 20; row 1: 30, 40.
	if err := ImageGrid(path, [][]float32{{10, 20, 30, 40}}, 2, nil, 1); err != nil {
		t.Fatal(err)
	}
	im := checkPNG(t, path)
	if got, want := im.Bounds().Size(), image.Pt(2*gridMargin+gridMinTile, 2*gridMargin+gridMinTile); got != want {
		t.Fatalf("size %v, want %v", got, want)
	}
	gray := func(x, y int) uint32 { r, _, _, _ := im.At(x, y).RGBA(); return r >> 8 }
	q := gridMinTile / 4
	for _, c := range []struct {
		x, y int
		want uint32
	}{
		{q, q, 0},           // 10: the minimum.
		{3 * q, q, 85},      // 20.
		{q, 3 * q, 170},     // 30.
		{3 * q, 3 * q, 255}, // 40: the maximum.
	} {
		if got := gray(gridMargin+c.x, gridMargin+c.y); got != c.want {
			t.Errorf("pixel (%d, %d) = %d, want %d", c.x, c.y, got, c.want)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestScatterByValue(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/tsne.png"
	x, y, v := []float64{0, 1, 2, 3}, []float64{1, 0, 3, 2}, []float64{3, 3.5, 4, 4.5}
	if err := ScatterByValue(path, x, y, v, "n", "t-SNE"); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path)
	if err := ScatterByValue(path, x, y, v[:2], "n", ""); err == nil {
		t.Error("mismatched lengths accepted")
	}
}

func TestLines(t *testing.T) {
	path := filepath.Join(outDir(t), "zoom.png")
	x := []float64{0.5, 1, 2}
	if err := Lines(path, x, map[string][]float64{"HOG+SVM": {0.6, 0.8, 0.55}, "CNN": {0.7, 0.9, 0.6}}, "zoom", "accuracy", ""); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path)
	if err := Lines(path, x, map[string][]float64{"a": {1}}, "", "", ""); err == nil {
		t.Error("short series accepted")
	}
}

// TestLegendRight checks that the legend of Lines lies outside the data
// area, whatever the lines do.
func TestReliability(t *testing.T) {
	path := filepath.Join(outDir(t), "reliability.png")
	good := []metrics.ReliabilityBin{{Predicted: 0.1, Observed: 0.12, N: 10}, {Predicted: 0.5, Observed: 0.45, N: 10}, {Predicted: 0.9, Observed: 0.93, N: 10}}
	sure := []metrics.ReliabilityBin{{Predicted: 0.02, Observed: 0.3, N: 10}, {Predicted: 0.98, Observed: 0.7, N: 10}}
	if err := Reliability(path, map[string][]metrics.ReliabilityBin{"CNN": sure, "logistic": good}); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path)
	if err := Reliability(path, map[string][]metrics.ReliabilityBin{"bad": {{Predicted: 1.5}}}); err == nil {
		t.Error("probability 1.5 accepted")
	}
}

func TestLegendRight(t *testing.T) {
	p := newPlot("t", "x", "y")
	for i, name := range []string{"HOG+SVM", "a long name for a classifier", "CNN"} {
		l := line(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: float64(i)}}, seriesColor(i), 1, nil)
		p.Add(l)
		p.Legend.Add(name, l)
	}
	c := vgimg.NewWith(vgimg.UseWH(7*vg.Inch, 4*vg.Inch), vgimg.UseDPI(dpi))
	data, legend := drawLegendRight(draw.New(c), p)
	if legend.Min.X < data.Max.X || legend.Size().X <= 0 || legend.Size().Y <= 0 {
		t.Errorf("legend %+v overlaps the data area %+v", legend, data)
	}
	if legend.Max.X > 7*vg.Inch || legend.Min.Y < 0 {
		t.Errorf("legend %+v outside the figure", legend)
	}
}
