package dataset

import "testing"

func TestZoom(t *testing.T) {
	const n = 8
	img := make([]float32, n*n)
	for i := range img {
		img[i] = float32(i)
	}
	same, _ := Zoom(img, n, 1)
	for i := range img {
		if same[i] != img[i] {
			t.Fatal("factor 1 changed the image")
		}
	}
	// ×2: the central 4×4 crop, each pixel repeated as a 2×2 block by the
	// bilinear upsampling's centre (check the crop's corners' neighbourhood).
	big, err := Zoom(img, n, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(big) != n*n || big[0] < img[2*n+2]-0.5 || big[0] > img[2*n+2]+0.5 {
		t.Errorf("×2: top-left %v, want about the crop's corner %v", big[0], img[2*n+2])
	}
	// ×½: the 4×4 box average tiled twice in each direction.
	small, err := Zoom(img, n, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	want := (img[0] + img[1] + img[n] + img[n+1]) / 4
	if small[0] != want || small[4] != want || small[4*n] != want {
		t.Errorf("×½: %v %v %v, want the tiled box average %v", small[0], small[4], small[4*n], want)
	}
	if _, err := Zoom(img, n, 0); err == nil {
		t.Error("factor 0 accepted")
	}
	if _, err := Zoom(img[:10], n, 2); err == nil {
		t.Error("wrong size accepted")
	}
}
