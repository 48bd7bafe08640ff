package plots

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"

	"github.com/turbindex/turbindex/train/metrics"
)

// confusionGrid is the 2×2 grid of row fractions of a confusion matrix,
// indexed by predicted class (column) and true class (row). Row r of the
// grid is drawn at y = r, so true class 0 (grid row 1) is on top.
type confusionGrid [2][2]float64 // [true class][predicted class]

func (g *confusionGrid) Dims() (c, r int)   { return 2, 2 }
func (g *confusionGrid) Z(c, r int) float64 { return g[1-r][c] }
func (g *confusionGrid) X(c int) float64    { return float64(c) }
func (g *confusionGrid) Y(r int) float64    { return float64(r) }

// blues is a white-to-dark-blue palette.
type blues struct{}

// Colors implements palette.Palette.
func (blues) Colors() []color.Color {
	const n = 256
	lo := [3]float64{0xf7, 0xfb, 0xff}
	hi := [3]float64{0x08, 0x30, 0x6b}
	cs := make([]color.Color, n)
	for i := range cs {
		t := float64(i) / (n - 1)
		cs[i] = color.RGBA{
			R: uint8(lo[0] + t*(hi[0]-lo[0]) + 0.5),
			G: uint8(lo[1] + t*(hi[1]-lo[1]) + 0.5),
			B: uint8(lo[2] + t*(hi[2]-lo[2]) + 0.5),
			A: 0xff,
		}
	}
	return cs
}

// ConfusionMatrix draws the confusion matrix c as a 2×2 heat map and
// writes it to path as a PNG. Rows are the true class and columns the
// predicted class; labels[0] names class 0 (Kolmogorov, negative) and
// labels[1] class 1 (Burgers, positive), and default to those names when
// empty. Each cell shows its count and its percentage of the row, and is
// shaded by that percentage; the title gives the accuracy and the number
// of samples. ConfusionMatrix returns an error if a count is negative.
func ConfusionMatrix(path string, c metrics.Confusion, labels [2]string) error {
	if c.TP < 0 || c.FP < 0 || c.TN < 0 || c.FN < 0 {
		return errorf(path, "confusion matrix: negative count in %+v", c)
	}
	if labels[0] == "" {
		labels[0] = "Kolmogorov"
	}
	if labels[1] == "" {
		labels[1] = "Burgers"
	}
	counts := [2][2]int{{c.TN, c.FP}, {c.FN, c.TP}}
	var grid confusionGrid
	var cells plotter.XYLabels
	var styles []text.Style
	for i, row := range counts {
		total := row[0] + row[1]
		for j, n := range row {
			pct := "–"
			if total > 0 {
				grid[i][j] = float64(n) / float64(total)
				pct = fmt.Sprintf("%.1f %%", 100*grid[i][j])
			}
			cells.XYs = append(cells.XYs, plotter.XY{X: float64(j), Y: float64(1 - i)})
			cells.Labels = append(cells.Labels, fmt.Sprintf("%d\n%s", n, pct))
			ink := color.Color(color.Black)
			if grid[i][j] > 0.55 {
				ink = color.White
			}
			styles = append(styles, textStyle(vg.Points(14), ink))
		}
	}

	p := plot.New()
	p.Title.Text = fmt.Sprintf("Confusion matrix: accuracy %.1f %%, N = %d", 100*c.Accuracy(), c.N())
	p.X.Label.Text = "predicted class"
	p.Y.Label.Text = "true class"
	h := plotter.NewHeatMap(&grid, blues{})
	h.Min, h.Max = 0, 1
	p.Add(h)
	l, err := plotter.NewLabels(cells)
	if err != nil {
		return errorf(path, "confusion matrix: %v", err)
	}
	l.TextStyle = styles
	p.Add(l)
	p.X.Tick.Marker = plot.ConstantTicks([]plot.Tick{{Value: 0, Label: labels[0]}, {Value: 1, Label: labels[1]}})
	p.Y.Tick.Marker = plot.ConstantTicks([]plot.Tick{{Value: 0, Label: labels[1]}, {Value: 1, Label: labels[0]}})
	p.X.Min, p.X.Max = -0.5, 1.5
	p.Y.Min, p.Y.Max = -0.5, 1.5
	return savePlot(path, p, 5.5*vg.Inch, 5*vg.Inch)
}
