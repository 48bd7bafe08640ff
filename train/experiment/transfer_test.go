package experiment

import (
	"fmt"
	"testing"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/train/dataset"
)

// TestTrainSubset checks that a training fraction keeps whole simulations,
// round(f·n) of each class (at least one), nested across fractions.
func TestTrainSubset(t *testing.T) {
	var images []dataset.Image
	for _, c := range []struct {
		class string
		n     int
	}{{campaign.Kolmogorov, 20}, {campaign.Burgers, 7}} {
		for i := range c.n {
			for range 3 {
				images = append(images, dataset.Image{Label: dataset.Label{ID: fmt.Sprintf("%s-%04d", c.class, i), Class: c.class}})
			}
		}
	}
	ids := func(ims []dataset.Image) map[string]int {
		m := map[string]int{}
		for _, im := range ims {
			m[im.Label.ID]++
		}
		return m
	}
	var prev map[string]int
	for _, tc := range []struct {
		f    float64
		want int // simulations kept: Kolmogorov + Burgers
	}{{0.01, 1 + 1}, {0.1, 2 + 1}, {0.3, 6 + 2}, {0.5, 10 + 4}, {1, 27}} {
		got := ids(trainSubset(images, tc.f))
		if len(got) != tc.want {
			t.Errorf("fraction %v: %d simulations, want %d", tc.f, len(got), tc.want)
		}
		for id, n := range got {
			if n != 3 {
				t.Errorf("fraction %v: %s has %d of its 3 images", tc.f, id, n)
			}
		}
		for id := range prev {
			if got[id] == 0 {
				t.Errorf("fraction %v lost %s, kept by a smaller fraction", tc.f, id)
			}
		}
		if again := ids(trainSubset(images, tc.f)); fmt.Sprint(again) != fmt.Sprint(got) {
			t.Errorf("fraction %v: not deterministic", tc.f)
		}
		prev = got
	}
}
