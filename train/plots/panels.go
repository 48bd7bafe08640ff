package plots

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Panel is one small scatter of a figure of Panels: Y against X, with the
// point Highlight (an index; −1 for none) drawn larger in another colour.
// With Labels, X holds category positions 0, 1, ... and Labels their tick
// labels; with Log, the X axis is logarithmic (X must be positive).
type Panel struct {
	Title     string
	X, Y      []float64
	Labels    []string
	Log       bool
	Highlight int
}

// Panels draws the panels side by side in rows of cols, all with the
// y axis labelled ylabel (for instance the validation accuracy of the
// trials of a hyper-parameter search against each hyper-parameter), and
// writes the figure to path as a PNG.
func Panels(path string, panels []Panel, cols int, ylabel string) error {
	if len(panels) == 0 || cols < 1 {
		return errorf(path, "panels: no data")
	}
	var plts []*plot.Plot
	for _, pn := range panels {
		if len(pn.X) == 0 || len(pn.X) != len(pn.Y) {
			return errorf(path, "panels: %q has %d x and %d y values", pn.Title, len(pn.X), len(pn.Y))
		}
		if err := checkFinite(path, pn.Title, pn.X); err != nil {
			return err
		}
		if err := checkFinite(path, pn.Title, pn.Y); err != nil {
			return err
		}
		p := newPlot("", pn.Title, ylabel)
		if pn.Log {
			for _, x := range pn.X {
				if !(x > 0) {
					return errorf(path, "panels: %q: %v on a log axis", pn.Title, x)
				}
			}
			p.X.Scale = plot.LogScale{}
			p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		}
		if pn.Labels != nil {
			p.X.Tick.Marker = categoryTicks(pn.Labels)
			p.X.Min, p.X.Max = -0.5, float64(len(pn.Labels))-0.5
		} else {
			// Room around the points, also when they all share one value.
			xlo, xhi := pn.X[0], pn.X[0]
			for _, x := range pn.X {
				xlo, xhi = min(xlo, x), max(xhi, x)
			}
			if pn.Log {
				f := math.Max(math.Pow(xhi/xlo, 0.08), 1.25)
				p.X.Min, p.X.Max = xlo/f, xhi*f
				if xlo == xhi {
					p.X.Tick.Marker = categoryTicksAt{xlo}
				}
			} else {
				pad := 0.08 * (xhi - xlo)
				if pad == 0 {
					pad = math.Max(0.25*math.Abs(xlo), 0.5)
				}
				p.X.Min, p.X.Max = xlo-pad, xhi+pad
			}
		}
		p.Add(scatter(xys(pn.X, pn.Y), withAlpha(seriesColor(0), 0xc0), vg.Points(3)))
		if h := pn.Highlight; h >= 0 && h < len(pn.X) {
			p.Add(scatter(plotter.XYs{{X: pn.X[h], Y: pn.Y[h]}}, seriesColor(3), vg.Points(5)))
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, y := range pn.Y {
			lo, hi = min(lo, y), max(hi, y)
		}
		pad := max(0.05*(hi-lo), 1e-3)
		p.Y.Min, p.Y.Max = lo-pad, hi+pad
		plts = append(plts, p)
	}
	rows := (len(plts) + cols - 1) / cols
	w, h := vg.Length(cols)*3*vg.Inch, vg.Length(rows)*2.6*vg.Inch
	c, err := render(path, w, h, func(c *vgimg.Canvas) {
		dc := draw.New(c)
		tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(6), PadY: vg.Points(6),
			PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(6)}
		for i, p := range plts {
			p.Draw(tiles.At(dc, i%cols, i/cols))
		}
	})
	if err != nil {
		return err
	}
	return saveCanvas(path, c)
}

// categoryTicks labels the integer positions 0, 1, ... with names.
type categoryTicks []string

func (ct categoryTicks) Ticks(min, max float64) []plot.Tick {
	var ts []plot.Tick
	for i, l := range ct {
		ts = append(ts, plot.Tick{Value: float64(i), Label: l})
	}
	return ts
}

// categoryTicksAt labels the given values only (a log axis around one value).
type categoryTicksAt []float64

func (ct categoryTicksAt) Ticks(min, max float64) []plot.Tick {
	var ts []plot.Tick
	for _, v := range ct {
		ts = append(ts, plot.Tick{Value: v, Label: fmt.Sprint(v)})
	}
	return ts
}
