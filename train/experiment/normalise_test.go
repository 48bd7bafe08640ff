package experiment

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/turbindex/turbindex/train/dataset"
)

// TestReadConfigNormalise reads the normalisation of config.json files as
// this and older versions wrote them.
func TestReadConfigNormalise(t *testing.T) {
	for _, c := range []struct {
		json string
		want dataset.Normalisation
	}{
		{`{"task": "classify", "per_image": true}`, dataset.PerImageStats},
		{`{"task": "classify", "per_image": false}`, dataset.TrainStats},
		{`{"task": "classify"}`, dataset.TrainStats},
		{`{"task": "classify", "normalise": "keras8"}`, dataset.Keras8},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(c.json), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := ReadConfig(dir)
		if err != nil || cfg.Normalise != c.want || cfg.PerImage {
			t.Errorf("%s: normalise %q (per_image %v), %v; want %q", c.json, cfg.Normalise, cfg.PerImage, err, c.want)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"normalise": "minmax"}`), 0o644)
	if _, err := ReadConfig(dir); err == nil {
		t.Error("unknown normalisation accepted")
	}
}
