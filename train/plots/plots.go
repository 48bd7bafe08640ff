// Package plots draws the figures of the study with gonum/plot: learning
// curves, ROC curves, confusion matrices, scatter plots of predictions,
// the sweep of P(Burgers) against the spectral index, histograms, image
// grids and a drawing of the network.
//
// Every function renders a PNG image and writes it to the given path
// atomically: the image is written to a temporary file in the same
// directory, which is renamed to path once complete, so that a reader
// never sees a partial figure. The directory must exist. Every error
// returned names the path. The figures use the fonts embedded in
// gonum/plot and so render without network access or system fonts, and
// the same input always gives the same bytes.
package plots // import "github.com/turbindex/turbindex/train/plots"

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/turbindex/turbindex/internal/atomicfile"
)

// dpi is the resolution of the figures drawn with gonum/plot.
const dpi = 150

// colors is the Tableau 10 palette, used in order for series.
var colors = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, // Blue.
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, // Orange.
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, // Green.
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, // Red.
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, // Purple.
	color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff}, // Brown.
	color.RGBA{R: 0xe3, G: 0x77, B: 0xc2, A: 0xff}, // Pink.
	color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}, // Grey.
	color.RGBA{R: 0xbc, G: 0xbd, B: 0x22, A: 0xff}, // Olive.
	color.RGBA{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff}, // Cyan.
}

// seriesColor returns the colour of the i-th series.
func seriesColor(i int) color.Color { return colors[i%len(colors)] }

// withAlpha returns c with its alpha set to a, premultiplied.
func withAlpha(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA()
	f := float64(a) / 0xff
	return color.RGBA{
		R: uint8(float64(r>>8) * f),
		G: uint8(float64(g>>8) * f),
		B: uint8(float64(b>>8) * f),
		A: a,
	}
}

// textStyle returns the default text style at the given size, aligned by
// its centre.
func textStyle(size vg.Length, c color.Color) text.Style {
	return text.Style{
		Color:   c,
		Font:    font.From(plot.DefaultFont, size),
		XAlign:  draw.XCenter,
		YAlign:  draw.YCenter,
		Handler: plot.DefaultTextHandler,
	}
}

// errorf returns an error naming path.
func errorf(path, format string, args ...any) error {
	return fmt.Errorf("plots: %s: %s", path, fmt.Sprintf(format, args...))
}

// savePlot renders p at w×h and writes it to path as a PNG.
func savePlot(path string, p *plot.Plot, w, h vg.Length) error {
	c, err := render(path, w, h, func(c *vgimg.Canvas) {
		const m = vg.Length(6) // Margin around the plot, in points.
		p.Draw(draw.Crop(draw.New(c), m, -m, m, -m))
	})
	if err != nil {
		return err
	}
	return saveCanvas(path, c)
}

// savePlotLegendRight renders p at w×h with its legend to the right of
// the axes, where it cannot cover the data, and writes it to path as a PNG.
func savePlotLegendRight(path string, p *plot.Plot, w, h vg.Length) error {
	c, err := render(path, w, h, func(c *vgimg.Canvas) { drawLegendRight(draw.New(c), p) })
	if err != nil {
		return err
	}
	return saveCanvas(path, c)
}

// drawLegendRight draws p on dc with its legend in a column to the right
// of the plot, top-aligned, and returns the data area and the legend's
// rectangle.
func drawLegendRight(dc draw.Canvas, p *plot.Plot) (data, legend vg.Rectangle) {
	const m = vg.Length(6) // Margin around the plot, in points.
	leg := p.Legend
	p.Legend = plot.NewLegend() // empty: p.Draw draws no legend
	defer func() { p.Legend = leg }()
	leg.Top, leg.Left, leg.XOffs, leg.YOffs = true, true, 0, 0
	width := leg.Rectangle(dc).Size().X + 2*m
	pc := draw.Crop(dc, m, -m-width, m, -m)
	p.Draw(pc)
	data = p.DataCanvas(pc).Rectangle
	// Top-aligned with the data area, below the title.
	lc := draw.Crop(dc, dc.Size().X-width+m, -m, m, data.Max.Y-dc.Max.Y)
	leg.Draw(lc)
	return data, leg.Rectangle(lc)
}

// render returns a new image canvas of size w×h at the figure resolution
// after calling draw on it. A panic in gonum/plot is returned as an error.
func render(path string, w, h vg.Length, fn func(*vgimg.Canvas)) (c *vgimg.Canvas, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, errorf(path, "rendering failed: %v", r)
		}
	}()
	c = vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))
	fn(c)
	return c, nil
}

// saveCanvas encodes c as a PNG and writes it to path.
func saveCanvas(path string, c *vgimg.Canvas) error {
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return fmt.Errorf("plots: %s: encoding PNG: %w", path, err)
	}
	if err := atomicfile.WriteBytes(path, buf.Bytes()); err != nil {
		return fmt.Errorf("plots: %s: %w", path, err)
	}
	return nil
}

// placeLegend puts the legend of p in a corner, inset from the axes.
func placeLegend(p *plot.Plot, top, left bool) {
	const inset = vg.Length(6)
	p.Legend.Top, p.Legend.Left = top, left
	p.Legend.XOffs, p.Legend.YOffs = inset, inset
	if !left {
		p.Legend.XOffs = -inset
	}
	if top {
		p.Legend.YOffs = -inset
	}
}

// finite reports whether x is neither NaN nor infinite.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// checkFinite returns an error naming path if a value of xs is not
// finite.
func checkFinite(path, name string, xs []float64) error {
	for i, x := range xs {
		if !finite(x) {
			return errorf(path, "%s[%d] is %v", name, i, x)
		}
	}
	return nil
}

// xys returns the points (x[i], y[i]).
func xys(x, y []float64) plotter.XYs {
	pts := make(plotter.XYs, len(x))
	for i := range x {
		pts[i].X, pts[i].Y = x[i], y[i]
	}
	return pts
}
