package plots

import (
	"image/color"
	"math"
	"path/filepath"
	"testing"
)

// TestMapTiles: a 40 × 60 map with a hole is drawn enlarged to at least
// 512 pixels, the hole dark blue, a flagged tile's outline red.
func TestMapTiles(t *testing.T) {
	rows, cols := 40, 60
	m := make([]float32, rows*cols)
	for i := range m {
		m[i] = float32(i % cols)
	}
	m[0] = float32(math.NaN())
	path := filepath.Join(outDir(t), "maptiles.png")
	tiles := []MapTile{{Row: 0, Col: 0, Size: 20, Label: "0.10"}, {Row: 20, Col: 40, Size: 20, Label: "0.90", Flag: true}}
	if err := MapTiles(path, m, rows, cols, tiles, "test map"); err != nil {
		t.Fatal(err)
	}
	im := checkPNG(t, path)
	up := (mapMinSide + cols - 1) / cols // 9
	if w := im.Bounds().Dx(); w != cols*up+2*gridMargin {
		t.Errorf("width %d, want %d", w, cols*up+2*gridMargin)
	}
	// The hole: map pixel (0, 0) at the canvas' top-left, inside the tile outline.
	r, g, b, _ := im.At(gridMargin+up/2+2, mapTitle+gridMargin+up/2+2).RGBA()
	if !(b > r && b > g) {
		t.Errorf("the hole is drawn as %v, want dark blue", color.RGBA64{uint16(r), uint16(g), uint16(b), 0xffff})
	}
	// The flagged tile's left edge is red.
	r, g, b, _ = im.At(gridMargin+40*up+1, mapTitle+gridMargin+30*up).RGBA()
	if !(r > 2*g && r > 2*b) {
		t.Errorf("the flagged outline is %v, want red", color.RGBA64{uint16(r), uint16(g), uint16(b), 0xffff})
	}
	if err := MapTiles(path, m[:10], rows, cols, nil, ""); err == nil {
		t.Error("10 values for a 40 × 60 map were accepted")
	}
}
