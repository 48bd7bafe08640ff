package plots

import (
	"fmt"
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/turbindex/turbindex/train/metrics"
)

// Spectral indices of the two classes: Kolmogorov (K41) and Burgers
// turbulence.
const (
	kolmogorovIndex = 11.0 / 3
	burgersIndex    = 4.0
)

var (
	grey      = color.Gray{Y: 0x80}
	lightGrey = color.Gray{Y: 0xb0}
	dashes    = []vg.Length{vg.Points(5), vg.Points(3)}
	dots      = []vg.Length{vg.Points(1.5), vg.Points(2.5)}
)

// newPlot returns a plot with the given title and axis labels and a
// light grid.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 0xe0}
	g.Horizontal.Color = color.Gray{Y: 0xe0}
	p.Add(g)
	return p
}

// line returns a line through pts with the given colour, width and
// dashes.
func line(pts plotter.XYs, c color.Color, width vg.Length, dash []vg.Length) *plotter.Line {
	return &plotter.Line{
		XYs:       pts,
		LineStyle: draw.LineStyle{Color: c, Width: width, Dashes: dash},
	}
}

// scatter returns a scatter of pts drawn as filled circles.
func scatter(pts plotter.XYs, c color.Color, radius vg.Length) *plotter.Scatter {
	return &plotter.Scatter{
		XYs:        pts,
		GlyphStyle: draw.GlyphStyle{Color: c, Radius: radius, Shape: draw.CircleGlyph{}},
	}
}

// LearningCurve draws the training and validation loss against the epoch
// and writes the figure to path as a PNG. The train and val slices hold
// one value per epoch; val may be empty when there is no validation
// split. The y axis is labelled ylabel, or "loss" if ylabel is empty.
// LearningCurve returns an error if there is no epoch, if the lengths
// differ or if a value is not finite.
func LearningCurve(path string, epochs []int, train, val []float64, ylabel string) error {
	if len(epochs) == 0 {
		return errorf(path, "learning curve: no epoch")
	}
	if len(train) != len(epochs) {
		return errorf(path, "learning curve: %d training values for %d epochs", len(train), len(epochs))
	}
	if len(val) != 0 && len(val) != len(epochs) {
		return errorf(path, "learning curve: %d validation values for %d epochs", len(val), len(epochs))
	}
	if err := checkFinite(path, "train", train); err != nil {
		return err
	}
	if err := checkFinite(path, "val", val); err != nil {
		return err
	}
	if ylabel == "" {
		ylabel = "loss"
	}
	x := make([]float64, len(epochs))
	for i, e := range epochs {
		x[i] = float64(e)
	}
	p := newPlot("Learning curve", "epoch", ylabel)
	series := []struct {
		name string
		y    []float64
		dash []vg.Length
	}{
		{"training", train, nil},
		{"validation", val, dashes},
	}
	for i, s := range series {
		if len(s.y) == 0 {
			continue
		}
		pts := xys(x, s.y)
		l := line(pts, seriesColor(i), vg.Points(1.5), s.dash)
		g := scatter(pts, seriesColor(i), vg.Points(2.5))
		p.Add(l, g)
		p.Legend.Add(s.name, l, g)
	}
	placeLegend(p, true, false)
	if len(epochs) <= 20 {
		p.X.Tick.Marker = integerTicks{}
	}
	return savePlot(path, p, 6*vg.Inch, 4.5*vg.Inch)
}

// integerTicks marks every integer of the axis range.
type integerTicks struct{}

// Ticks implements plot.Ticker.
func (integerTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for v := math.Ceil(min); v <= max; v++ {
		ticks = append(ticks, plot.Tick{Value: v, Label: fmt.Sprint(v)})
	}
	return ticks
}

// ROCCurves draws several ROC curves on one plot, with the chance
// diagonal, and writes the figure to path as a PNG. The legend (in the
// lower right corner, or beside the axes for more than three curves) lists
// the curves in increasing order of name, each with its area under the curve:
// aucs[name] if present, otherwise the trapezoid area of the curve
// (metrics.ROCArea). Names of aucs without a curve are ignored.
// ROCCurves returns an error if there is no curve, if a curve is empty or
// if a rate is not in [0, 1].
func ROCCurves(path string, curves map[string][]metrics.ROCPoint, aucs map[string]float64) error {
	if len(curves) == 0 {
		return errorf(path, "ROC curves: no curve")
	}
	names := make([]string, 0, len(curves))
	for name, c := range curves {
		if len(c) == 0 {
			return errorf(path, "ROC curves: curve %q is empty", name)
		}
		for i, pt := range c {
			if !(pt.FPR >= 0 && pt.FPR <= 1 && pt.TPR >= 0 && pt.TPR <= 1) {
				return errorf(path, "ROC curves: point %d of %q is (%v, %v), outside the unit square", i, name, pt.FPR, pt.TPR)
			}
		}
		names = append(names, name)
	}
	sort.Strings(names)

	p := newPlot("ROC", "false positive rate", "true positive rate")
	diag := line(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}}, grey, vg.Points(1), dashes)
	p.Add(diag)
	for i, name := range names {
		c := curves[name]
		pts := make(plotter.XYs, len(c))
		for j, pt := range c {
			pts[j].X, pts[j].Y = pt.FPR, pt.TPR
		}
		auc, ok := aucs[name]
		if !ok {
			auc = metrics.ROCArea(c)
		}
		l := line(pts, seriesColor(i), vg.Points(1.5), nil)
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (AUC %.3f)", name, auc), l)
	}
	p.Legend.Add("chance", diag)
	p.X.Min, p.X.Max = 0, 1
	p.Y.Min, p.Y.Max = 0, 1
	if len(names) > 3 { // in a corner the legend would hide curves
		return savePlotLegendRight(path, p, 8*vg.Inch, 5*vg.Inch)
	}
	placeLegend(p, false, false)
	return savePlot(path, p, 5.5*vg.Inch, 5*vg.Inch)
}

// Scatter draws y against x, for instance the predicted against the true
// spectral index of a regressor, and writes the figure to path as a PNG.
// If diagonal is true the line y = x is drawn across the range of the
// data. Scatter returns an error if there is no point, if the lengths
// differ or if a value is not finite.
func Scatter(path string, x, y []float64, xlabel, ylabel, title string, diagonal bool) error {
	if len(x) == 0 {
		return errorf(path, "scatter: no point")
	}
	if len(x) != len(y) {
		return errorf(path, "scatter: %d x values but %d y values", len(x), len(y))
	}
	if err := checkFinite(path, "x", x); err != nil {
		return err
	}
	if err := checkFinite(path, "y", y); err != nil {
		return err
	}
	p := newPlot(title, xlabel, ylabel)
	radius := vg.Points(2.5)
	alpha := uint8(0xc0)
	if len(x) > 500 {
		radius, alpha = vg.Points(1.5), 0x60
	}
	p.Add(scatter(xys(x, y), withAlpha(seriesColor(0), alpha), radius))
	if diagonal {
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := range x {
			lo = math.Min(lo, math.Min(x[i], y[i]))
			hi = math.Max(hi, math.Max(x[i], y[i]))
		}
		if lo == hi {
			lo, hi = lo-0.5, hi+0.5
		}
		d := line(plotter.XYs{{X: lo, Y: lo}, {X: hi, Y: hi}}, seriesColor(3), vg.Points(1), dashes)
		p.Add(d)
		p.Legend.Add("y = x", d)
		placeLegend(p, true, true)
	}
	return savePlot(path, p, 5.5*vg.Inch, 5*vg.Inch)
}

// SweepPlot draws the predicted probability of Burgers turbulence against
// the true spectral index n on the sweep simulations — the talk's
// "testing on different indices" figure — and writes it to path as a
// PNG. Each image is a small grey point (index[i], prob[i]), each
// simulation's mean a large point (perSimIndex[i], perSimProb[i]);
// dashed vertical lines mark the Kolmogorov (n = 11/3) and Burgers (n = 4)
// indices, a dotted line the threshold 1/2. The y axis spans at least
// [0, 1]. Either set of points may be empty, not both. SweepPlot returns
// an error if the lengths of a pair differ or if a value is not finite.
func SweepPlot(path string, index []float64, prob []float64, perSimIndex, perSimProb []float64) error {
	if len(index) != len(prob) {
		return errorf(path, "sweep: %d indices but %d probabilities", len(index), len(prob))
	}
	if len(perSimIndex) != len(perSimProb) {
		return errorf(path, "sweep: %d simulation indices but %d simulation probabilities", len(perSimIndex), len(perSimProb))
	}
	if len(index) == 0 && len(perSimIndex) == 0 {
		return errorf(path, "sweep: no point")
	}
	for _, v := range []struct {
		name string
		xs   []float64
	}{{"index", index}, {"prob", prob}, {"perSimIndex", perSimIndex}, {"perSimProb", perSimProb}} {
		if err := checkFinite(path, v.name, v.xs); err != nil {
			return err
		}
	}

	p := newPlot("P(Burgers) against the spectral index", "true spectral index n", "P(Burgers)")
	ymin, ymax := 0.0, 1.0
	for _, y := range append(append([]float64(nil), prob...), perSimProb...) {
		ymin, ymax = math.Min(ymin, y), math.Max(ymax, y)
	}
	xmin, xmax := math.Inf(1), math.Inf(-1)
	for _, x := range append(append([]float64(nil), index...), perSimIndex...) {
		xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
	}
	xmin, xmax = math.Min(xmin, kolmogorovIndex), math.Max(xmax, burgersIndex)
	pad := 0.05 * (xmax - xmin)

	thr := line(plotter.XYs{{X: xmin - pad, Y: 0.5}, {X: xmax + pad, Y: 0.5}}, lightGrey, vg.Points(1), dots)
	k41 := line(plotter.XYs{{X: kolmogorovIndex, Y: ymin}, {X: kolmogorovIndex, Y: ymax}}, seriesColor(0), vg.Points(1.2), dashes)
	bur := line(plotter.XYs{{X: burgersIndex, Y: ymin}, {X: burgersIndex, Y: ymax}}, seriesColor(3), vg.Points(1.2), dashes)
	p.Add(thr, k41, bur)
	if len(index) > 0 {
		s := scatter(xys(index, prob), withAlpha(grey, 0x80), vg.Points(1.2))
		p.Add(s)
		p.Legend.Add("image", s)
	}
	if len(perSimIndex) > 0 {
		s := scatter(xys(perSimIndex, perSimProb), color.Black, vg.Points(3.5))
		p.Add(s)
		p.Legend.Add("simulation mean", s)
	}
	p.Legend.Add("Kolmogorov n = 11/3", k41)
	p.Legend.Add("Burgers n = 4", bur)
	placeLegend(p, false, false) // High n, low P(Burgers) is empty for a useful classifier.
	p.X.Min, p.X.Max = xmin-pad, xmax+pad
	p.Y.Min, p.Y.Max = ymin-0.02, ymax+0.02
	return savePlot(path, p, 6.5*vg.Inch, 4.5*vg.Inch)
}

// Histogram draws the histograms of several series of values on common
// bins, for instance the scores of each class, and writes the figure to
// path as a PNG. The bins evenly divide the range of all the values into
// bins intervals; the series are drawn translucent and listed in the
// legend in increasing order of name. Histogram returns an error if there
// is no series, if a series is empty, if bins is not positive or if a
// value is not finite.
func Histogram(path string, series map[string][]float64, bins int, xlabel, title string) error {
	if len(series) == 0 {
		return errorf(path, "histogram: no series")
	}
	if bins <= 0 {
		return errorf(path, "histogram: %d bins", bins)
	}
	names := make([]string, 0, len(series))
	lo, hi := math.Inf(1), math.Inf(-1)
	for name, vs := range series {
		if len(vs) == 0 {
			return errorf(path, "histogram: series %q is empty", name)
		}
		if err := checkFinite(path, name, vs); err != nil {
			return err
		}
		for _, v := range vs {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	if lo == hi {
		lo, hi = lo-0.5, hi+0.5
	}
	width := (hi - lo) / float64(bins)

	p := newPlot(title, xlabel, "count")
	var top float64
	for i, name := range names {
		h := &plotter.Histogram{
			Bins:      make([]plotter.HistogramBin, bins),
			Width:     width,
			FillColor: withAlpha(seriesColor(i), 0x60),
			LineStyle: draw.LineStyle{Color: seriesColor(i), Width: vg.Points(0.8)},
		}
		for b := range h.Bins {
			h.Bins[b].Min = lo + float64(b)*width
			h.Bins[b].Max = lo + float64(b+1)*width
		}
		h.Bins[bins-1].Max = hi
		for _, v := range series[name] {
			b := min(int((v-lo)/width), bins-1)
			h.Bins[b].Weight++
			top = math.Max(top, h.Bins[b].Weight)
		}
		p.Add(h)
		p.Legend.Add(name, h)
	}
	placeLegend(p, true, false)
	// Room for the legend, rounded up to a multiple of a power of ten.
	room := top * (1.1 + 0.06*float64(len(names)))
	step := math.Pow(10, math.Floor(math.Log10(room))) / 2
	p.Y.Max = math.Max(p.Y.Max, math.Ceil(room/step)*step)
	return savePlot(path, p, 6*vg.Inch, 4.5*vg.Inch)
}

// Reliability draws the reliability (calibration) diagram of classifiers:
// for each, the fraction of positive samples against the mean predicted
// probability in each bin (metrics.Reliability), with the diagonal of a
// calibrated classifier, and writes the figure to path as a PNG. The
// legend, in increasing order of name with each curve's expected
// calibration error, stands to the right of the axes. Reliability returns
// an error if there is no curve, if a curve is empty or if a value is not
// in [0, 1].
func Reliability(path string, curves map[string][]metrics.ReliabilityBin) error {
	if len(curves) == 0 {
		return errorf(path, "reliability: no curve")
	}
	names := make([]string, 0, len(curves))
	for name, c := range curves {
		if len(c) == 0 {
			return errorf(path, "reliability: curve %q is empty", name)
		}
		for i, b := range c {
			if !(b.Predicted >= 0 && b.Predicted <= 1 && b.Observed >= 0 && b.Observed <= 1) {
				return errorf(path, "reliability: bin %d of %q is (%v, %v), outside the unit square", i, name, b.Predicted, b.Observed)
			}
		}
		names = append(names, name)
	}
	sort.Strings(names)
	p := newPlot("Reliability", "predicted P(Burgers)", "fraction of Burgers images")
	diag := line(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}}, grey, vg.Points(1), dashes)
	p.Add(diag)
	for i, name := range names {
		c := curves[name]
		pts := make(plotter.XYs, len(c))
		for j, b := range c {
			pts[j].X, pts[j].Y = b.Predicted, b.Observed
		}
		l, s := line(pts, seriesColor(i), vg.Points(1.5), nil), scatter(pts, seriesColor(i), vg.Points(2))
		p.Add(l, s)
		p.Legend.Add(fmt.Sprintf("%s (ECE %.3f)", name, metrics.ECE(c)), l, s)
	}
	p.Legend.Add("calibrated", diag)
	p.X.Min, p.X.Max = 0, 1
	p.Y.Min, p.Y.Max = 0, 1
	return savePlotLegendRight(path, p, 8*vg.Inch, 5*vg.Inch)
}
