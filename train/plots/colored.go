package plots

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ScatterByValue draws the points (x[i], y[i]) coloured by value[i] on a
// blue (low) to red (high) scale, for instance a t-SNE embedding coloured
// by the spectral index n, and writes it to path as a PNG. The legend
// gives the colours of the lowest and highest values.
func ScatterByValue(path string, x, y, value []float64, valueName, title string) error {
	if len(x) == 0 {
		return errorf(path, "scatter: no point")
	}
	if len(x) != len(y) || len(x) != len(value) {
		return errorf(path, "scatter: %d x, %d y and %d values", len(x), len(y), len(value))
	}
	for name, v := range map[string][]float64{"x": x, "y": y, valueName: value} {
		if err := checkFinite(path, name, v); err != nil {
			return err
		}
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range value {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	shade := func(v float64) color.Color {
		f := 0.5
		if hi > lo {
			f = (v - lo) / (hi - lo)
		}
		return color.RGBA{R: uint8(40 + 200*f), G: 60, B: uint8(240 - 200*f), A: 0xff}
	}
	p := newPlot(title, "", "")
	s, err := plotter.NewScatter(xys(x, y))
	if err != nil {
		return errorf(path, "scatter: %v", err)
	}
	radius := vg.Points(2.5)
	if len(x) > 500 {
		radius = vg.Points(1.5)
	}
	s.GlyphStyleFunc = func(i int) draw.GlyphStyle {
		return draw.GlyphStyle{Color: shade(value[i]), Radius: radius, Shape: draw.CircleGlyph{}}
	}
	p.Add(s)
	for _, v := range []float64{lo, hi} {
		l, _ := plotter.NewScatter(plotter.XYs{})
		l.GlyphStyle = draw.GlyphStyle{Color: shade(v), Radius: vg.Points(3), Shape: draw.CircleGlyph{}}
		p.Legend.Add(fmt.Sprintf("%s = %.3g", valueName, v), l)
	}
	placeLegend(p, true, false)
	return savePlot(path, p, 5.5*vg.Inch, 5*vg.Inch)
}

// Lines draws one line with markers per series against the shared x values
// (for instance the accuracy of each classifier against the zoom factor)
// and writes the figure to path as a PNG. The legend, sorted by name,
// stands to the right of the axes so that it never hides a line.
func Lines(path string, x []float64, series map[string][]float64, xlabel, ylabel, title string) error {
	if len(x) == 0 || len(series) == 0 {
		return errorf(path, "lines: no data")
	}
	names := make([]string, 0, len(series))
	for name, y := range series {
		if len(y) != len(x) {
			return errorf(path, "lines: series %q has %d values for %d x values", name, len(y), len(x))
		}
		if err := checkFinite(path, name, y); err != nil {
			return err
		}
		names = append(names, name)
	}
	slices.Sort(names)
	p := newPlot(title, xlabel, ylabel)
	for i, name := range names {
		l, pts, err := plotter.NewLinePoints(xys(x, series[name]))
		if err != nil {
			return errorf(path, "lines: %v", err)
		}
		l.Color, pts.Color = seriesColor(i), seriesColor(i)
		p.Add(l, pts)
		p.Legend.Add(name, l, pts)
	}
	return savePlotLegendRight(path, p, 7*vg.Inch, 4*vg.Inch)
}
