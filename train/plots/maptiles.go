package plots

import (
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot/vg"
	vgdraw "gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// MapTile is a square of a map drawn by MapTiles with its label.
type MapTile struct {
	Row, Col, Size int    // top-left pixel and side, in map pixels
	Label          string // written in the tile, e.g. "0.73"
	Flag           bool   // outline it in red instead of yellow (e.g. unlike the training set)
}

// Layout of MapTiles, in pixels.
const (
	mapMinSide = 512  // small maps are enlarged to at least this size
	mapMaxSide = 1600 // large maps are reduced to at most this size
	mapTitle   = 24   // height of the title line
)

// MapTiles draws a map (rows × cols values, row-major, row 0 at the top;
// NaN for holes, drawn dark blue) in grayscale between its minimum and
// maximum, outlines each tile and writes its label in it, with a title
// above, and writes the PNG to path. Maps are scaled by an integer factor
// (nearest pixel) to a side between 512 and 1600 pixels where possible.
func MapTiles(path string, m []float32, rows, cols int, tiles []MapTile, title string) error {
	if rows < 1 || cols < 1 || len(m) != rows*cols {
		return errorf(path, "map tiles: %d values for a %d × %d map", len(m), rows, cols)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range m {
		if finite(float64(v)) {
			lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
		}
	}
	if math.IsInf(lo, 0) {
		return errorf(path, "map tiles: no finite value")
	}
	up, down := 1, 1
	if side := max(rows, cols); side < mapMinSide {
		up = (mapMinSide + side - 1) / side
	} else if side > mapMaxSide {
		down = (side + mapMaxSide - 1) / mapMaxSide
	}
	w, h := cols*up/down, rows*up/down
	width, height := w+2*gridMargin, h+2*gridMargin+mapTitle
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(width), vg.Length(height)), vgimg.UseDPI(72))
	dst := c.Image().(*image.RGBA)
	for y := range height {
		for x := range width {
			dst.SetRGBA(x, y, color.RGBA{255, 255, 255, 255})
		}
	}
	for y := range h {
		for x := range w {
			v := float64(m[(y*down/up)*cols+x*down/up])
			px := color.RGBA{20, 20, 90, 255}
			if finite(v) {
				g := uint8(0x80)
				if hi > lo {
					g = uint8(math.Round(255 * (v - lo) / (hi - lo)))
				}
				px = color.RGBA{g, g, g, 255}
			}
			dst.SetRGBA(gridMargin+x, mapTitle+gridMargin+y, px)
		}
	}
	dc := vgdraw.New(c)
	sty := textStyle(vg.Points(14), color.Black)
	drawText(dc, sty, vg.Point{X: vg.Length(width) / 2, Y: vg.Length(height - mapTitle/2)}, title, vg.Length(width))
	for _, t := range tiles {
		x0 := vg.Length(gridMargin + t.Col*up/down)
		s := vg.Length(t.Size * up / down)
		yTop := vg.Length(height - mapTitle - gridMargin - t.Row*up/down) // vg's y grows upwards
		col := color.Color(color.RGBA{255, 200, 0, 255})
		if t.Flag {
			col = color.RGBA{230, 30, 30, 255}
		}
		line := vgdraw.LineStyle{Color: col, Width: vg.Points(2)}
		dc.StrokeLines(line, []vg.Point{{X: x0 + 1, Y: yTop - 1}, {X: x0 + s - 1, Y: yTop - 1}, {X: x0 + s - 1, Y: yTop - s + 1}, {X: x0 + 1, Y: yTop - s + 1}, {X: x0 + 1, Y: yTop - 1}})
		if t.Label != "" {
			ls := textStyle(vg.Points(math.Max(8, math.Min(18, float64(s)/4))), col)
			drawText(dc, ls, vg.Point{X: x0 + s/2, Y: yTop - s/2}, t.Label, s-4)
		}
	}
	return saveCanvas(path, c)
}
