package plots

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
)

// valueGrid is a heat map's grid: row r of values is drawn at y = rows−1−r
// (the first row on top).
type valueGrid struct{ v [][]float64 }

func (g valueGrid) Dims() (c, r int)   { return len(g.v[0]), len(g.v) }
func (g valueGrid) Z(c, r int) float64 { return g.v[len(g.v)-1-r][c] }
func (g valueGrid) X(c int) float64    { return float64(c) }
func (g valueGrid) Y(r int) float64    { return float64(r) }

// Matrix draws values (rows × columns, each in [lo, hi], NaN for none) as a
// heat map with the value printed in each cell, rows labelled rowLabels from
// the top, columns colLabels from the left, and writes it to path as a PNG
// (the cross-resolution accuracy matrix: train N × test N).
func Matrix(path string, values [][]float64, rowLabels, colLabels []string, lo, hi float64, xlabel, ylabel, title string) error {
	if len(values) == 0 || len(values) != len(rowLabels) {
		return errorf(path, "matrix: %d rows for %d labels", len(values), len(rowLabels))
	}
	for i, row := range values {
		if len(row) != len(colLabels) {
			return errorf(path, "matrix: row %d has %d values for %d columns", i, len(row), len(colLabels))
		}
	}
	if !(hi > lo) {
		return errorf(path, "matrix: range [%v, %v] is empty", lo, hi)
	}
	filled := make([][]float64, len(values))
	var cells plotter.XYLabels
	var styles []text.Style
	for i, row := range values {
		filled[i] = slices.Clone(row)
		for j, v := range row {
			label := "–"
			t := 0.0
			if !math.IsNaN(v) {
				label = fmt.Sprintf("%.3f", v)
				t = (v - lo) / (hi - lo)
			}
			filled[i][j] = lo + math.Max(0, math.Min(1, t))*(hi-lo)
			cells.XYs = append(cells.XYs, plotter.XY{X: float64(j), Y: float64(len(values) - 1 - i)})
			cells.Labels = append(cells.Labels, label)
			ink := color.Color(color.Black)
			if t > 0.55 {
				ink = color.White
			}
			styles = append(styles, textStyle(vg.Points(12), ink))
		}
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = xlabel, ylabel
	h := plotter.NewHeatMap(valueGrid{filled}, blues{})
	h.Min, h.Max = lo, hi
	p.Add(h)
	l, err := plotter.NewLabels(cells)
	if err != nil {
		return errorf(path, "matrix: %v", err)
	}
	l.TextStyle = styles
	p.Add(l)
	var xt, yt []plot.Tick
	for j, s := range colLabels {
		xt = append(xt, plot.Tick{Value: float64(j), Label: s})
	}
	for i, s := range rowLabels {
		yt = append(yt, plot.Tick{Value: float64(len(rowLabels) - 1 - i), Label: s})
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.ConstantTicks(xt), plot.ConstantTicks(yt)
	p.X.Min, p.X.Max = -0.5, float64(len(colLabels))-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(len(rowLabels))-0.5
	return savePlot(path, p, vg.Length(1.2*float64(len(colLabels))+2.5)*vg.Inch, vg.Length(1.1*float64(len(rowLabels))+1.8)*vg.Inch)
}

// Curve is one series of a figure whose series have their own abscissae.
type Curve struct {
	Name string
	X, Y []float64
	// Dashed draws the line dashed (a second family of curves in the
	// same colours).
	Dashed bool
	// Color is the index of the series colour.
	Color int
}

// LogLog draws curves on logarithmic axes (every x and y must be > 0) with
// a legend in the lower left, and writes it to path as a PNG (power spectra
// of several resolutions).
func LogLog(path string, curves []Curve, xlabel, ylabel, title string) error {
	if len(curves) == 0 {
		return errorf(path, "loglog: no data")
	}
	p := newPlot(title, xlabel, ylabel)
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	for _, c := range curves {
		if len(c.X) != len(c.Y) || len(c.X) == 0 {
			return errorf(path, "loglog: series %q has %d x and %d y values", c.Name, len(c.X), len(c.Y))
		}
		for i := range c.X {
			if !(c.X[i] > 0) || !(c.Y[i] > 0) || !finite(c.X[i]) || !finite(c.Y[i]) {
				return errorf(path, "loglog: series %q: point %d is (%v, %v), want both > 0", c.Name, i, c.X[i], c.Y[i])
			}
		}
		l, err := plotter.NewLine(xys(c.X, c.Y))
		if err != nil {
			return errorf(path, "loglog: %v", err)
		}
		l.Color = seriesColor(c.Color)
		l.Width = vg.Points(1.5)
		if c.Dashed {
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(l)
		p.Legend.Add(c.Name, l)
	}
	placeLegend(p, false, true)
	return savePlot(path, p, 6*vg.Inch, 4.5*vg.Inch)
}
