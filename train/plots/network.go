package plots

import (
	"fmt"
	"image/color"
	"strconv"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Layer describes a layer of a network for Network, as a line of a
// Keras-style model summary.
type Layer struct {
	// Name is the name of the layer, for instance "conv2d_1 (Conv2D)".
	Name string
	// Output is the shape of the layer's output, for instance
	// "(32, 62, 62, 16)".
	Output string
	// Params is the number of trainable parameters of the layer.
	Params int
}

// Network draws a network as a column of boxes, one per layer from the
// input at the top, joined by arrows, and writes the figure to path as a
// PNG. Each box shows the layer's name, output shape and parameter count,
// and is tinted by the kind of layer its name suggests (convolution,
// pooling, dense, dropout); the total parameter count is written at the
// bottom. Network returns an error if there is no layer, if a layer has
// no name or if a parameter count is negative.
func Network(path string, layers []Layer) error {
	if len(layers) == 0 {
		return errorf(path, "network: no layer")
	}
	total := 0
	for i, l := range layers {
		if l.Name == "" {
			return errorf(path, "network: layer %d has no name", i)
		}
		if l.Params < 0 {
			return errorf(path, "network: layer %d (%s) has %d parameters", i, l.Name, l.Params)
		}
		total += l.Params
	}

	var (
		nameStyle = textStyle(vg.Points(12), color.Black)
		infoStyle = textStyle(vg.Points(9), color.Gray{Y: 0x30})
		boxH      = vg.Points(40)
		gap       = vg.Points(22)
		margin    = vg.Points(18)
		header    = vg.Points(34)
		footer    = vg.Points(34)
	)
	infos := make([]string, len(layers))
	boxW := 3 * vg.Inch
	for i, l := range layers {
		infos[i] = fmt.Sprintf("output %s    %s parameters", orDash(l.Output), thousands(l.Params))
		boxW = max(boxW, nameStyle.Width(l.Name)+vg.Points(24), infoStyle.Width(infos[i])+vg.Points(24))
	}
	width := boxW + 2*margin
	height := header + vg.Length(len(layers))*boxH + vg.Length(len(layers)-1)*gap + footer

	c, err := render(path, width, height, func(c *vgimg.Canvas) {
		dc := draw.New(c)
		title := textStyle(vg.Points(14), color.Black)
		dc.FillText(title, vg.Point{X: width / 2, Y: height - header/2}, "Network")
		edge := draw.LineStyle{Color: color.Gray{Y: 0x40}, Width: vg.Points(1)}
		x0, x1 := margin, margin+boxW
		for i, l := range layers {
			top := height - header - vg.Length(i)*(boxH+gap)
			bot := top - boxH
			box := []vg.Point{{X: x0, Y: bot}, {X: x1, Y: bot}, {X: x1, Y: top}, {X: x0, Y: top}}
			dc.FillPolygon(layerColor(l.Name), box)
			dc.StrokeLines(edge, append(box, box[0]))
			dc.FillText(nameStyle, vg.Point{X: width / 2, Y: top - boxH*0.33}, l.Name)
			dc.FillText(infoStyle, vg.Point{X: width / 2, Y: top - boxH*0.73}, infos[i])
			if i+1 < len(layers) {
				arrow(dc, edge, vg.Point{X: width / 2, Y: bot}, vg.Point{X: width / 2, Y: bot - gap})
			}
		}
		dc.FillText(nameStyle, vg.Point{X: width / 2, Y: footer / 2}, "total: "+thousands(total)+" parameters")
	})
	if err != nil {
		return err
	}
	return saveCanvas(path, c)
}

// arrow draws a vertical arrow from a down to b with a filled head.
func arrow(dc draw.Canvas, sty draw.LineStyle, a, b vg.Point) {
	head := vg.Points(6)
	dc.StrokeLines(sty, []vg.Point{a, {X: b.X, Y: b.Y + head}})
	dc.FillPolygon(sty.Color, []vg.Point{
		b,
		{X: b.X - head/2, Y: b.Y + head},
		{X: b.X + head/2, Y: b.Y + head},
	})
}

// layerColor returns the fill colour of a layer given its name.
func layerColor(name string) color.Color {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "conv"):
		return color.RGBA{R: 0xc6, G: 0xdb, B: 0xef, A: 0xff}
	case strings.Contains(n, "pool"):
		return color.RGBA{R: 0xc7, G: 0xe9, B: 0xc0, A: 0xff}
	case strings.Contains(n, "dense"), strings.Contains(n, "linear"):
		return color.RGBA{R: 0xfd, G: 0xd0, B: 0xa2, A: 0xff}
	case strings.Contains(n, "drop"):
		return color.RGBA{R: 0xe0, G: 0xe0, B: 0xe0, A: 0xff}
	default:
		return color.RGBA{R: 0xff, G: 0xf7, B: 0xbc, A: 0xff}
	}
}

// orDash returns s, or "–" if s is empty.
func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// thousands formats n with commas between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
