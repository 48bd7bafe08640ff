package dataset

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// chunk is one PNG chunk.
type chunk struct {
	typ  string
	data []byte
}

// parseChunks splits a PNG file into chunks, checking the signature and
// every CRC.
func parseChunks(t *testing.T, b []byte) []chunk {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatal("no PNG signature")
	}
	b = b[8:]
	var out []chunk
	for len(b) > 0 {
		if len(b) < 12 {
			t.Fatalf("truncated chunk: %d bytes left", len(b))
		}
		n := int(binary.BigEndian.Uint32(b))
		if len(b) < 12+n {
			t.Fatalf("chunk of %d bytes with %d left", n, len(b)-12)
		}
		typ, data := string(b[4:8]), b[8:8+n]
		if got, want := binary.BigEndian.Uint32(b[8+n:]), crc32.ChecksumIEEE(b[4:8+n]); got != want {
			t.Errorf("chunk %s: CRC %08x, want %08x", typ, got, want)
		}
		out = append(out, chunk{typ, data})
		b = b[12+n:]
	}
	return out
}

func TestWritePNG(t *testing.T) {
	const lo, hi = -1.7, -1.6
	img := Image{Size: 3, Pix: []float32{
		lo, hi, -1.65,
		-1.8, -1.5, -1.68,
		-1.7 + 0.1/255, -1.6 - 0.1/255, lo,
	}, Label: Label{ID: "burgers-0007", Class: "burgers", Index: 4, Split: "holdout", Projection: 1, Flip: 2, Quadrant: 3}}
	// lo → 0, hi → 255, the middle → 127.5 rounded up, clamped outside the
	// range, 0.2 of the range → 51, one gray step from each end → 1 and 254.
	want := []uint8{0, 255, 128, 0, 255, 51, 1, 254, 0}
	path := filepath.Join(t.TempDir(), "im.png")
	if err := WritePNG(path, img, lo, hi); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	g, ok := dec.(*image.Gray)
	if !ok || g.Bounds() != image.Rect(0, 0, 3, 3) {
		t.Fatalf("decoded %T of bounds %v, want 3 × 3 *image.Gray", dec, dec.Bounds())
	}
	for i, w := range want {
		if got := g.GrayAt(i%3, i/3).Y; got != w {
			t.Errorf("pixel (%d,%d) = %d, want %d", i/3, i%3, got, w)
		}
	}

	chunks := parseChunks(t, b)
	if chunks[0].typ != "IHDR" || chunks[len(chunks)-1].typ != "IEND" {
		t.Errorf("chunks start with %s and end with %s", chunks[0].typ, chunks[len(chunks)-1].typ)
	}
	text := map[string]string{}
	for _, c := range chunks {
		if c.typ == "tEXt" {
			k, v, ok := strings.Cut(string(c.data), "\x00")
			if !ok {
				t.Errorf("tEXt chunk %q without separator", c.data)
			}
			text[k] = v
		}
	}
	for k, v := range map[string]string{
		"lo": "-1.7", "hi": "-1.6", "unit": "log10(g cm^-2)", "id": "burgers-0007",
		"projection": "sigma_y", "flip": "vertical", "quadrant": "bottom-right",
		"class": "burgers", "index": "4", "split": "holdout",
	} {
		if text[k] != v {
			t.Errorf("tEXt %s = %q, want %q", k, text[k], v)
		}
	}

	// No temporary file is left next to it.
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries, want the PNG only", len(ents))
	}

	for _, c := range []struct {
		img    Image
		lo, hi float64
		want   string
	}{
		{img, hi, lo, "range"},
		{img, lo, math.NaN(), "range"},
		{Image{Size: 2, Pix: make([]float32, 3)}, lo, hi, "side 2 has 3 pixels"},
	} {
		err := WritePNG(filepath.Join(t.TempDir(), "x.png"), c.img, c.lo, c.hi)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one containing %q", err, c.want)
		}
	}
}

func TestCampaignRange(t *testing.T) {
	imgs := []Image{
		{Size: 2, Pix: []float32{-1.6863, -1.68, -1.675, -1.6712}},
		{Size: 1, Pix: []float32{-1.679}},
	}
	lo, hi, err := CampaignRange(imgs)
	if err != nil {
		t.Fatal(err)
	}
	// Spread 0.0151 dex: step 0.001.
	if math.Abs(lo+1.687) > 1e-12 || math.Abs(hi+1.671) > 1e-12 {
		t.Errorf("range [%v, %v], want [-1.687, -1.671]", lo, hi)
	}
	if lo > -1.6863 || hi < float64(float32(-1.6712)) {
		t.Errorf("range [%v, %v] does not contain the pixels", lo, hi)
	}
	lo, hi, err = CampaignRange([]Image{{Size: 1, Pix: []float32{2}}})
	if err != nil || !(lo <= 2 && hi >= 2 && hi > lo) {
		t.Errorf("constant: [%v, %v], %v", lo, hi, err)
	}
	if _, _, err := CampaignRange(nil); err == nil {
		t.Error("no images: no error")
	}
	if _, _, err := CampaignRange([]Image{{Size: 1, Pix: []float32{float32(math.Inf(-1))}}}); err == nil {
		t.Error("-Inf pixel: no error")
	}
}
