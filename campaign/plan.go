package campaign

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/turbindex/turbindex/sim/physics"
)

// Preset is a named campaign: class sizes and grid; the physics comes from
// physics.Defaults.
type Preset struct {
	Name                       string
	Kolmogorov, Burgers, Sweep int // simulations per class
	Grid                       int // cells along each axis
}

// Presets are the campaigns Plan knows:
//
//	paper  the talk's study: 500 kolmogorov + 500 burgers + 1000 sweep at 500³
//	       (splits 400/50/50, 400/50/50, 800/100/100)
//	demo   a campaign for one machine: 8 kolmogorov + 8 burgers + 4 sweep at 32³
//	       (splits 6/1/1, 6/1/1, 2/1/1)
var Presets = []Preset{
	{Name: "paper", Kolmogorov: 500, Burgers: 500, Sweep: 1000, Grid: 500},
	{Name: "demo", Kolmogorov: 8, Burgers: 8, Sweep: 4, Grid: 32},
}

// Default split fractions (the holdout fraction is the rest).
const (
	DefaultTrain = 0.8
	DefaultTest  = 0.1
)

// PlanOptions choose a campaign: a preset and overrides. Zero or −1 values
// (as noted) take the preset's value.
type PlanOptions struct {
	Preset       string // name of one of Presets
	CampaignSeed uint64 // seeds every random choice of the plan: row seeds, sweep indices, splits

	// Simulations per class; −1 means the preset's count.
	Kolmogorov, Burgers, Sweep int

	Grid    int      // cells along each axis; 0 means the preset's
	TEndMyr float64  // simulated time, Myr; 0 means physics.Defaults' (0.5 Myr)
	Fields  []string // cubes to store besides the Σ maps (density, velocity); nil for none

	// Split fractions in [0, 1]; the holdout gets the rest, 1 − Train − Test.
	// 0 means DefaultTrain and DefaultTest.
	Train, Test float64
}

// Plan draws the campaign described by o. The same options give the same
// manifest, byte for byte once written.
//
// Each class draws from its own PCG streams (math/rand/v2) keyed by the
// campaign seed and the class name: one for seeds, one for sweep indices
// and one for the split shuffle. So the first k seeds of a class do not
// depend on the class sizes. Seeds are 64-bit; a seed already used anywhere
// in the manifest is drawn again, so seeds are distinct. Sweep indices are
// uniform in [SweepMin, SweepMax).
//
// Splits are by simulation and stratified per class: of a class of n
// simulations, round(n·Test) go to test, round(n·holdout) to holdout and
// the rest to train; when n ≥ 3, every split with a positive fraction gets
// at least one simulation (taken from the largest split). Which rows get
// which split is a shuffle of the class's labels.
//
// Errors about an option are *physics.Error naming its field (preset,
// kolmogorov, burgers, sweep, or the physics.Params key: grid, tend_myr,
// fields) and its value.
func Plan(o PlanOptions) (*Manifest, error) {
	i := slices.IndexFunc(Presets, func(p Preset) bool { return p.Name == o.Preset })
	if i < 0 {
		names := make([]string, len(Presets))
		for j, p := range Presets {
			names[j] = p.Name
		}
		return nil, &physics.Error{Field: "preset", Value: strconv.Quote(o.Preset), Msg: "unknown, want " + strings.Join(names, " or ")}
	}
	pr := Presets[i]
	counts := []int{pr.Kolmogorov, pr.Burgers, pr.Sweep}
	for j, c := range []int{o.Kolmogorov, o.Burgers, o.Sweep} {
		switch {
		case c == -1:
		case c < 0 || c > 1_000_000:
			return nil, &physics.Error{Field: Classes[j], Value: strconv.Itoa(c), Msg: "want a count in [0, 1000000] (-1: the preset's)"}
		default:
			counts[j] = c
		}
	}
	if counts[0]+counts[1]+counts[2] == 0 {
		return nil, fmt.Errorf("the campaign has no simulations: 0 kolmogorov, 0 burgers, 0 sweep")
	}
	p := Params{Preset: pr.Name, CampaignSeed: o.CampaignSeed, Params: physics.Defaults()}
	p.Index, p.Seed = 0, 0 // each row has its own
	p.Grid = pr.Grid
	if o.Grid != 0 {
		p.Grid = o.Grid
	}
	if o.TEndMyr != 0 {
		p.TEndMyr = o.TEndMyr
	}
	if len(o.Fields) > 0 {
		p.Fields = slices.Clone(o.Fields)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	train, test := o.Train, o.Test
	if train == 0 {
		train = DefaultTrain
	}
	if test == 0 {
		test = DefaultTest
	}
	if !(train >= 0 && train <= 1 && test >= 0 && test <= 1 && train+test <= 1+1e-12) {
		return nil, fmt.Errorf("split fractions train %g test %g: each must be in [0, 1] and their sum at most 1", train, test)
	}
	fracs := [3]float64{train, test, max(0, 1-train-test)}

	m := &Manifest{Params: p}
	used := map[uint64]bool{}
	for ci, class := range Classes {
		n := counts[ci]
		seeds := stream(p.CampaignSeed, class+"/seed")
		indices := stream(p.CampaignSeed, class+"/index")
		shuffle := stream(p.CampaignSeed, class+"/split")
		labels := splitLabels(n, fracs)
		shuffle.Shuffle(len(labels), func(a, b int) { labels[a], labels[b] = labels[b], labels[a] })
		for k := range n {
			s := seeds.Uint64()
			for used[s] {
				s = seeds.Uint64()
			}
			used[s] = true
			idx := KolmogorovIndex
			switch class {
			case Burgers:
				idx = BurgersIndex
			case Sweep:
				idx = SweepMin + (SweepMax-SweepMin)*indices.Float64()
			}
			m.Rows = append(m.Rows, Row{
				ID: fmt.Sprintf("%s-%04d", class, k), Class: class, Index: idx, Seed: s,
				Split: labels[k], Line: firstRowLine + len(m.Rows),
			})
		}
	}
	return m, nil
}

// stream returns a PCG generator keyed by the campaign seed and a purpose.
func stream(seed uint64, purpose string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte("turbindex/campaign/" + purpose))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// SplitCounts returns how many of n simulations go to train, test and
// holdout with the given fractions (see Plan for the rounding).
func SplitCounts(n int, train, test, holdout float64) [3]int {
	fr := [3]float64{train, test, holdout}
	var c [3]int
	c[1] = int(math.Round(float64(n) * fr[1]))
	c[2] = int(math.Round(float64(n) * fr[2]))
	c[0] = n - c[1] - c[2]
	if c[0] < 0 { // only through rounding at tiny n: take it from the larger
		if c[1] >= c[2] {
			c[1] += c[0]
		} else {
			c[2] += c[0]
		}
		c[0] = 0
	}
	if n >= 3 {
		for s := range 3 {
			if fr[s] > 0 && c[s] == 0 {
				big := 0
				for t := range 3 {
					if c[t] > c[big] {
						big = t
					}
				}
				c[big]--
				c[s]++
			}
		}
	}
	return c
}

// splitLabels returns n split names, train first, in SplitCounts' numbers.
func splitLabels(n int, fr [3]float64) []string {
	c := SplitCounts(n, fr[0], fr[1], fr[2])
	labels := make([]string, 0, n)
	for s, k := range c {
		for range k {
			labels = append(labels, Splits[s])
		}
	}
	return labels
}

// Counts returns the number of rows per class and split:
// Counts()[class][split] with class and split indices into Classes and
// Splits.
func (m *Manifest) Counts() [3][3]int {
	var c [3][3]int
	for _, r := range m.Rows {
		c[slices.Index(Classes, r.Class)][slices.Index(Splits, r.Split)]++
	}
	return c
}
