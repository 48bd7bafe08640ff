package study

import (
	"testing"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/internal/resources"
)

// TestKernelCaches sizes the full fits' kernel cache for the paper's counts
// (38 400 training vectors of 250² images, whose whole kernel matrix is
// 5 625 MiB) under budgets from none to too small: the whole matrix when it
// fits with a tenth of the budget to spare, else what does, never below
// 200 MiB, never more than the whole matrix; the estimate then stays within
// any budget that can hold the study at all, and a flag value is used as
// given.
func TestKernelCaches(t *testing.T) {
	m, err := campaign.Plan(campaign.PlanOptions{Preset: "paper", CampaignSeed: 1, Kolmogorov: -1, Burgers: -1, Sweep: -1, Grid: 64})
	if err != nil {
		t.Fatal(err)
	}
	const size, whole = 250, 5625
	o := Defaults()
	c := estimate(o, m, size)
	if c.train != 38400 {
		t.Fatalf("%v training vectors, want the paper's 38 400", c.train)
	}
	rest := int64(baseBytes + c.fitting())
	gib := int64(1 << 30)
	for _, tc := range []struct {
		name     string
		budget   int64 // 0: none
		fit      int   // want; -1: between 200 and the whole matrix, filling the budget
		refused  bool
		explicit int
	}{
		{name: "no budget", fit: whole},
		{name: "64 GiB", budget: 64 * gib, fit: whole},
		{name: "just enough", budget: (rest+whole<<20)*10/9 + 1<<20, fit: whole},
		{name: "a little short", budget: (rest+whole<<20)*10/9 - 64<<20, fit: -1},
		{name: "4 GiB", budget: 4 * gib, fit: -1},
		{name: "below the least cache", budget: rest + 100<<20, fit: 200, refused: true},
		{name: "--svm-cache 300", budget: 64 * gib, explicit: 300, fit: 300},
	} {
		o := o
		o.SVMCacheMB = tc.explicit
		if tc.budget > 0 {
			o.Limits = &resources.Limits{Memory: tc.budget, MemorySource: "--memory"}
		}
		sel, fit := KernelCaches(o, m, size)
		need := Memory(o, m, size)
		t.Logf("%s: budget %d MiB, the fits' besides their caches %d MiB: caches %d and %d MiB, estimate %d MiB", tc.name, tc.budget>>20, rest>>20, sel, fit, need>>20)
		wantSel := 200
		if tc.explicit > 0 {
			wantSel = tc.explicit
		}
		if sel != wantSel {
			t.Errorf("%s: selection's cache %d MiB, want %d", tc.name, sel, wantSel)
		}
		switch {
		case tc.fit >= 0 && fit != tc.fit:
			t.Errorf("%s: full fit's cache %d MiB, want %d", tc.name, fit, tc.fit)
		case tc.fit < 0 && (fit <= 200 || fit >= whole):
			t.Errorf("%s: full fit's cache %d MiB, want between 200 and %d", tc.name, fit, whole)
		case tc.fit < 0 && float64(need) < 0.85*float64(tc.budget):
			t.Errorf("%s: estimate %d MiB leaves more than 15 %% of the %d MiB budget unused with a cache short of the matrix", tc.name, need>>20, tc.budget>>20)
		}
		if tc.budget > 0 {
			if over := need > tc.budget; over != tc.refused {
				t.Errorf("%s: estimate %d MiB against a budget of %d MiB: refused %v, want %v", tc.name, need>>20, tc.budget>>20, over, tc.refused)
			}
		}
	}
}
