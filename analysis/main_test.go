package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/turbindex/turbindex/internal/cli/clitest"
)

var bin string

func TestMain(m *testing.M) {
	dir, err := clitest.Build(".")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "analysis")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return clitest.Run(t, bin, args...)
}

// blobs writes n rows of two Gaussian blobs (labels 0/1) with d features.
func blobs(t *testing.T, path string, n, d int, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	for i := range n {
		label := i % 2
		fmt.Fprintf(&b, "%d", label)
		for range d {
			fmt.Fprintf(&b, ",%.6f", r.NormFloat64()+2*float64(label))
		}
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSVMAndSVR(t *testing.T) {
	dir := t.TempDir()
	train, test := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
	blobs(t, train, 200, 5, 1)
	blobs(t, test, 100, 5, 2)
	out := filepath.Join(dir, "dec.csv")
	stdout, stderr, code := run(t, "svm", "--train", train, "--test", test, "--grid", "--out", out)
	if code != 0 || !strings.Contains(stdout, "accuracy") {
		t.Fatalf("svm: exit %d %s %s", code, stdout, stderr)
	}
	var acc float64
	fmt.Sscanf(stdout[strings.Index(stdout, "accuracy"):], "accuracy %f", &acc)
	if acc < 0.95 {
		t.Errorf("svm accuracy %v on well-separated blobs", acc)
	}
	if raw, _ := os.ReadFile(out); strings.Count(string(raw), "\n") != 100 {
		t.Errorf("decision values: %d lines, want 100", strings.Count(string(raw), "\n"))
	}
	if stdout, stderr, code := run(t, "svr", "--train", train, "--test", test); code != 0 || !strings.Contains(stdout, "MSE") {
		t.Errorf("svr: exit %d %s %s", code, stdout, stderr)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.csv")
	blobs(t, good, 20, 3, 1)
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	ragged := write("ragged.csv", "0,1,2,3\n1,1,2\n")
	nan := write("nan.csv", "0,1,2,3\n1,1,x,3\n")
	oneClass := write("one.csv", "1,1,2,3\n1,2,2,3\n1,3,2,3\n")
	// Two PNGs of different sizes.
	for _, s := range []int{16, 24} {
		img := image.NewGray(image.Rect(0, 0, s, s))
		for i := range img.Pix {
			img.Pix[i] = uint8(i)
		}
		var b bytes.Buffer
		png.Encode(&b, img)
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("img%d.png", s)), b.Bytes(), 0o644)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"svm", "--train", ragged, "--test", good}, "ragged.csv:2"},
		{[]string{"svm", "--train", nan, "--test", good}, "nan.csv:2"},
		{[]string{"svm", "--train", oneClass, "--test", good}, "class"},
		{[]string{"svm", "--train", good, "--test", good, "--gamma", "-1"}, "gamma > 0"},
		{[]string{"svm", "--train", good}, "--test is required"},
		{[]string{"hog", "--image", filepath.Join(dir, "none.png")}, "none.png"},
		{[]string{"run", "--snapshots", dir}, "--manifest is required"},
		{[]string{"run", "--manifest", "m", "--snapshots", dir, "--beam", "0,2"}, "--beam"},
		{[]string{"run", "--manifest", "m", "--snapshots", dir, "--svm-cache", "-1"}, "--svm-cache -1"},
		{[]string{"run", "--manifest", "m", "--snapshots", dir, "--svm-cache", "9999999999"}, "--svm-cache"},
		{[]string{"resolution", "--campaign", "m.csv"}, "manifest,snapshots[,run]"},
		{[]string{"resolution", "--campaign", "a.csv,s"}, "at least twice"},
		{[]string{"resolution", "--campaign", filepath.Join(dir, "none.csv") + ",s", "--campaign", "a.csv,s"}, "none.csv"},
		{[]string{"nope"}, "unknown command"},
	} {
		_, stderr, code := run(t, tc.args...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q; want an error mentioning %q", tc.args, code, stderr, tc.want)
		}
	}
	// HOG of a PNG works and gives 12×12 cells × 8 orientations.
	stdout, stderr, code := run(t, "hog", "--image", filepath.Join(dir, "img24.png"))
	if code != 0 || strings.Count(stdout, ",") != 12*12*8-1 {
		t.Errorf("hog: exit %d, %d values: %s", code, strings.Count(stdout, ",")+1, stderr)
	}
}

// TestHOGBatch checks that one process over a directory, a glob and a list
// file gives, row for row, the features of the single-image command, and
// that a batch of mixed sizes is refused naming both images.
func TestHOGBatch(t *testing.T) {
	dir := t.TempDir()
	imgs := filepath.Join(dir, "imgs")
	os.Mkdir(imgs, 0o755)
	r := rand.New(rand.NewPCG(3, 4))
	names := []string{"a.png", "b.png", "c.png", "d.png", "e.png"}
	for _, name := range names {
		img := image.NewGray(image.Rect(0, 0, 36, 36))
		for i := range img.Pix {
			img.Pix[i] = uint8(r.IntN(256))
		}
		var b bytes.Buffer
		png.Encode(&b, img)
		os.WriteFile(filepath.Join(imgs, name), b.Bytes(), 0o644)
	}
	os.WriteFile(filepath.Join(imgs, "notes.txt"), []byte("not an image"), 0o644)
	want := map[string]string{}
	for _, name := range names {
		stdout, stderr, code := run(t, "hog", "--image", filepath.Join(imgs, name))
		if code != 0 {
			t.Fatalf("hog %s: exit %d: %s", name, code, stderr)
		}
		want[filepath.Join(imgs, name)] = strings.TrimSpace(stdout)
	}
	list := filepath.Join(dir, "list.txt")
	os.WriteFile(list, []byte("# three of them\nimgs/c.png\nimgs/a.png\n\n"+filepath.Join(imgs, "e.png")+"\n"), 0o644)
	for _, tc := range []struct {
		args  []string
		order []string
	}{
		{[]string{"--images", imgs}, names},
		{[]string{"--images", filepath.Join(imgs, "[bd].png"), "--workers", "1"}, []string{"b.png", "d.png"}},
		{[]string{"--list", list, "--workers", "64"}, []string{"c.png", "a.png", "e.png"}},
	} {
		out := filepath.Join(dir, "feats.csv")
		_, stderr, code := run(t, append(append([]string{"hog"}, tc.args...), "--out", out)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, stderr)
		}
		raw, _ := os.ReadFile(out)
		lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
		if len(lines) != len(tc.order)+1 || !strings.HasPrefix(lines[0], "image,hog0,") || strings.Count(lines[0], ",") != 12*12*8 {
			t.Fatalf("%v: %d lines, header %.40q", tc.args, len(lines), lines[0])
		}
		for i, name := range tc.order {
			path := filepath.Join(imgs, name)
			got, ok := strings.CutPrefix(lines[i+1], path+",")
			if !ok || got != want[path] {
				t.Errorf("%v: row %d is not the single-image features of %s: %.60q", tc.args, i+1, name, lines[i+1])
			}
		}
	}
	// A smaller image in the batch is refused, naming it.
	small := image.NewGray(image.Rect(0, 0, 24, 24))
	var b bytes.Buffer
	png.Encode(&b, small)
	os.WriteFile(filepath.Join(imgs, "f.png"), b.Bytes(), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"hog", "--images", imgs}, "f.png: 24×24 pixels"},
		{[]string{"hog", "--images", filepath.Join(dir, "*.nope")}, "no file matches"},
		{[]string{"hog", "--images", imgs, "--image", filepath.Join(imgs, "a.png")}, "exactly one of"},
		{[]string{"hog", "--list", list, "--workers", "-1"}, "--workers -1"},
	} {
		_, stderr, code := run(t, tc.args...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q; want an error mentioning %q", tc.args, code, stderr, tc.want)
		}
	}
}
