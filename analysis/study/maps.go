package study

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/turbindex/turbindex/analysis/report"
	"github.com/turbindex/turbindex/analysis/tsne"
	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/train/dataset"
	"github.com/turbindex/turbindex/train/plots"
)

// tsne maps the HOG features of the holdout and sweep images, and the
// CNN's penultimate layer (written by `train embed`) if a CNN run is given.
func (s *state) tsne() error {
	pts := s.all.where(func(l dataset.Label) bool { return l.Split == campaign.Holdout || l.Class == campaign.Sweep })
	if fig, err := tsneFigure(s.o, pts, "tsne_hog.png"); err != nil {
		s.note("t-SNE of HOG features: %v", err)
	} else {
		s.r.Figures = append(s.r.Figures, fig)
	}
	if len(s.o.CNN) > 0 {
		run := s.o.CNN[0]
		if fig, err := tsneCSV(s.o, filepath.Join(run, "embeddings.csv"), "tsne_cnn.png"); err != nil {
			s.note("t-SNE of CNN embeddings: %v (run `train embed --run %s` first)", err, run)
		} else {
			s.r.Figures = append(s.r.Figures, fig)
		}
	}
	return nil
}

// zoom scores every classifier on the holdout images zoomed by each of
// the options' factors.
func (s *state) zoom() error {
	acc := map[string][]float64{}
	for _, f := range s.o.Zooms {
		z, err := s.derive(s.clsHold, func(pix []float32) ([]float32, error) { return dataset.Zoom(pix, s.size, f) })
		if err != nil {
			return err
		}
		a, err := s.accuracies(z)
		if err != nil {
			return err
		}
		for name, v := range a {
			acc[name] = append(acc[name], v)
		}
	}
	if len(acc) == 0 {
		s.note("Zoom invariance: no classifier passed the sanity check.")
		return nil
	}
	if err := plots.Lines(filepath.Join(s.o.Out, "zoom.png"), s.o.Zooms, acc, "zoom factor", "holdout accuracy", "Zoom invariance"); err != nil {
		return err
	}
	s.figure("zoom.png", "Accuracy on holdout images zoomed by 0.5–2 (crop and magnify, or shrink and tile periodically); the classifiers were trained at zoom 1")
	t := report.Table{Title: "Zoom invariance: holdout accuracy", Columns: zoomColumns(s.o.Zooms)}
	for _, name := range sortedKeys(acc) {
		v := map[string]float64{}
		for i, col := range t.Columns {
			v[col] = acc[name][i]
		}
		t.Rows = append(t.Rows, report.Row{Method: name, Values: v})
	}
	s.r.Tables = append(s.r.Tables, t)
	return nil
}

func zoomColumns(z []float64) []string {
	out := make([]string, len(z))
	for i, f := range z {
		out[i] = "×" + strconv.FormatFloat(f, 'g', -1, 64)
	}
	return out
}

func tsneFigure(o Options, d *data, file string) (report.Figure, error) {
	if len(d.hog) < 8 {
		return report.Figure{}, fmt.Errorf("only %d points", len(d.hog))
	}
	x, n := d.hog, d.index()
	if len(x) > o.TSNEPoints {
		step := float64(len(x)) / float64(o.TSNEPoints)
		var xs [][]float64
		var ns []float64
		for i := 0; i < o.TSNEPoints; i++ {
			j := int(float64(i) * step)
			xs, ns = append(xs, x[j]), append(ns, n[j])
		}
		x, n = xs, ns
	}
	perp := math.Min(30, float64(len(x)-1)/3)
	emb, err := tsne.Embed(x, tsne.Options{Perplexity: perp, Iterations: 1000, Theta: 0.5, Seed: o.Seed, PCA: 50})
	if err != nil {
		return report.Figure{}, err
	}
	ex, ey := make([]float64, len(emb)), make([]float64, len(emb))
	for i, p := range emb {
		ex[i], ey[i] = p[0], p[1]
	}
	title := "t-SNE of HOG features"
	if strings.Contains(file, "cnn") {
		title = "t-SNE of CNN embeddings"
	}
	if err := plots.ScatterByValue(filepath.Join(o.Out, file), ex, ey, n, "n", title); err != nil {
		return report.Figure{}, err
	}
	return report.Figure{File: file, Caption: fmt.Sprintf("t-SNE of the HOG features of %d holdout and sweep images, coloured by n", len(x))}, nil
}

// tsneCSV maps the embeddings.csv of `train embed` (id, class, split, index,
// projection, flip, quadrant, then the activations) with t-SNE.
func tsneCSV(o Options, path, file string) (report.Figure, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return report.Figure{}, err
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	d := &data{}
	for i, line := range lines[1:] {
		f := strings.Split(line, ",")
		if len(f) < 8 {
			return report.Figure{}, fmt.Errorf("%s:%d: %d fields", path, i+2, len(f))
		}
		n, err := strconv.ParseFloat(f[3], 64)
		if err != nil {
			return report.Figure{}, fmt.Errorf("%s:%d: index %q", path, i+2, f[3])
		}
		v := make([]float64, len(f)-7)
		for j, s := range f[7:] {
			if v[j], err = strconv.ParseFloat(s, 64); err != nil {
				return report.Figure{}, fmt.Errorf("%s:%d: %q", path, i+2, s)
			}
		}
		d.images = append(d.images, dataset.Image{Label: dataset.Label{Index: n}})
		d.hog = append(d.hog, v)
	}
	fig, err := tsneFigure(o, d, file)
	fig.Caption = strings.Replace(fig.Caption, "HOG features", "CNN embeddings (penultimate layer)", 1)
	return fig, err
}
