package plots

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	vgdraw "gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Layout of ImageGrid, in pixels.
const (
	gridMinTile = 128 // Small images are enlarged to at least this size.
	gridMargin  = 8   // Space around and between tiles.
	gridTitle   = 20  // Height of a title line above a tile.
)

// ImageGrid draws grayscale images in a grid of cols columns and writes
// it to path as a PNG, for instance column-density maps beside their
// saliency maps. Each image holds size×size pixels in row-major order,
// row 0 drawn at the top, and is normalised to its own minimum and
// maximum: the minimum is black and the maximum white; a constant image
// is mid-grey. Images smaller than 128 pixels are enlarged by an integer
// factor without interpolation. titles, if not nil, holds one title per
// image, written above it. ImageGrid returns an error if there is no
// image, if size or cols is not positive, if an image does not hold
// size×size pixels, if a pixel is not finite or if the number of titles
// differs from the number of images.
func ImageGrid(path string, images [][]float32, size int, titles []string, cols int) error {
	if len(images) == 0 {
		return errorf(path, "image grid: no image")
	}
	if size <= 0 {
		return errorf(path, "image grid: size %d", size)
	}
	if cols <= 0 {
		return errorf(path, "image grid: %d columns", cols)
	}
	if titles != nil && len(titles) != len(images) {
		return errorf(path, "image grid: %d titles for %d images", len(titles), len(images))
	}
	for i, im := range images {
		if len(im) != size*size {
			return errorf(path, "image grid: image %d has %d pixels, want %d×%d", i, len(im), size, size)
		}
		for j, v := range im {
			if !finite(float64(v)) {
				return errorf(path, "image grid: pixel (%d, %d) of image %d is %v", j/size, j%size, i, v)
			}
		}
	}
	cols = min(cols, len(images))
	rows := (len(images) + cols - 1) / cols
	scale := max(1, (gridMinTile+size-1)/size)
	tile := size * scale
	title := 0
	if titles != nil {
		title = gridTitle
	}
	cellW := tile + gridMargin
	cellH := tile + gridMargin + title
	width := gridMargin + cols*cellW
	height := gridMargin + rows*cellH

	// One point per pixel.
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(width), vg.Length(height)), vgimg.UseDPI(72))
	dst := c.Image()
	b := dst.Bounds()
	if b.Dx() != width || b.Dy() != height {
		return errorf(path, "image grid: canvas is %v, want %d×%d", b.Size(), width, height)
	}
	sty := textStyle(vg.Points(12), color.Black)
	sty.YAlign = vgdraw.YBottom
	dc := vgdraw.New(c)
	for i, im := range images {
		x0 := gridMargin + (i%cols)*cellW
		y0 := gridMargin + (i/cols)*cellH + title // Top of the tile, image coordinates.
		draw.Draw(dst, image.Rect(x0, y0, x0+tile, y0+tile), grayTile(im, size, scale), image.Point{}, draw.Src)
		if titles != nil && titles[i] != "" {
			pt := vg.Point{X: vg.Length(x0) + vg.Length(tile)/2, Y: vg.Length(height - y0 + 4)}
			drawText(dc, sty, pt, titles[i], vg.Length(cellW))
		}
	}
	return saveCanvas(path, c)
}

// drawText writes txt at pt, shrinking the font if txt is wider than w.
func drawText(dc vgdraw.Canvas, sty vgdraw.TextStyle, pt vg.Point, txt string, w vg.Length) {
	if tw := sty.Width(txt); tw > w {
		sty.Font = font.From(sty.Font, sty.Font.Size*w/tw)
	}
	dc.FillText(sty, pt, txt)
}

// grayTile returns im normalised to its minimum and maximum as an 8-bit
// gray image enlarged by scale.
func grayTile(im []float32, size, scale int) *image.Gray {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range im {
		lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
	}
	tile := size * scale
	g := image.NewGray(image.Rect(0, 0, tile, tile))
	for y := range tile {
		for x := range tile {
			v := float64(im[(y/scale)*size+x/scale])
			var level uint8 = 0x80
			if hi > lo {
				level = uint8(math.Round(255 * (v - lo) / (hi - lo)))
			}
			g.Pix[y*g.Stride+x] = level
		}
	}
	return g
}
