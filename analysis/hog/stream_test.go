package hog

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestStreamOrderAndErrors: the features come out in source order, equal
// to Features of each image, whatever the number of workers; a failing
// loader, a bad image and a size change each stop the stream with an error
// naming the culprit.
func TestStreamOrderAndErrors(t *testing.T) {
	imgs := sigmaImages(t, 30, 48)
	sources := make([]Loader, 10)
	for i := range sources {
		sources[i] = func() ([]Image, error) {
			var out []Image
			for k := range 3 {
				out = append(out, Image{Name: fmt.Sprint(3*i + k), Pix: imgs[3*i+k], Rows: 48, Cols: 48})
			}
			return out, nil
		}
	}
	opts := func(r, c int) Options { return DefaultOptions(min(r, c)) }
	for _, workers := range []int{0, 1, 2, 7} {
		var names []string
		err := Stream(sources, opts, workers, func(im Image, f []float64) error {
			want, _ := Features(im.Pix, im.Rows, im.Cols, opts(48, 48))
			if !slices.Equal(f, want) {
				t.Errorf("workers %d: image %s: features differ from Features", workers, im.Name)
			}
			names = append(names, im.Name)
			return nil
		})
		if err != nil || len(names) != 30 {
			t.Fatalf("workers %d: %v, %d images", workers, err, len(names))
		}
		for i, n := range names {
			if n != fmt.Sprint(i) {
				t.Fatalf("workers %d: image %d is %s: out of order", workers, i, n)
			}
		}
	}
	bad := slices.Clone(imgs[5])
	bad[7] = float32(0) / float32(len(bad)-len(bad)) // NaN
	for _, tc := range []struct {
		src  Loader
		want string
	}{
		{func() ([]Image, error) { return nil, errors.New("x.tsnap: corrupt") }, "x.tsnap: corrupt"},
		{func() ([]Image, error) { return []Image{{Name: "nan.png", Pix: bad, Rows: 48, Cols: 48}}, nil }, "nan.png"},
		{func() ([]Image, error) {
			return []Image{{Name: "small.png", Pix: imgs[0][:40*40], Rows: 40, Cols: 40}}, nil
		}, "small.png: 40×40"},
	} {
		src := slices.Clone(sources)
		src[6] = tc.src
		n := 0
		err := Stream(src, opts, 2, func(Image, []float64) error { n++; return nil })
		if err == nil || !strings.Contains(err.Error(), tc.want) || n != 18 {
			t.Errorf("stream with a bad source 6: %v after %d images; want an error naming %q after 18", err, n, tc.want)
		}
	}
}
