// Package search is hyper-parameter search for the CNN: a search space
// read from a TOML or JSON file, the trials drawn from it (a grid, or
// seeded random draws), a trial manifest that a SLURM array runs one row
// per task, and the summary that picks the best trial on the validation
// split.
//
// A space file names the values each hyper-parameter may take; a
// hyper-parameter left out keeps the talk's network's value:
//
//	method  = "random"            # or "grid": every combination
//	seed    = 7                   # of the random draws
//	trials  = 16                  # random draws (train search --trials overrides)
//	lr      = {min = 1e-4, max = 3e-3, scale = "log"}   # or a list: [1e-4, 1e-3]
//	dropout = [0.25, 0.5]         # or {min = 0, max = 0.6}
//	filters = [[8, 16, 32, 32], [16, 32, 64, 64]]   # one list per network
//	dense   = [[64, 32], [128, 64]]
//	batch   = [16, 32]
//	epochs  = 10
//
// The same in JSON is one object with the same keys ({"min": ..., "max":
// ..., "scale": "log"} for a range). Ranges are for random search only.
package search

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"

	"github.com/turbindex/turbindex/train/cnn"
)

// Methods of drawing the trials.
const (
	Grid   = "grid"   // every combination of the choices, in a fixed order
	Random = "random" // Trials independent draws, seeded
)

// Limits on a space (SLURM arrays and sanity).
const (
	MaxTrials = 10000
	maxLayers = 8
	maxWidth  = 4096
	maxBatch  = 4096
	maxEpochs = 10000
)

// Float is the values a real hyper-parameter may take: a list of Choices,
// or a range [Min, Max] drawn uniformly (Log: uniformly in log).
type Float struct {
	Choices []float64 `json:"choices,omitempty"`
	Min     float64   `json:"min,omitempty"`
	Max     float64   `json:"max,omitempty"`
	Log     bool      `json:"log,omitempty"`
}

// IsRange reports whether f is a range rather than a list.
func (f Float) IsRange() bool { return len(f.Choices) == 0 }

// Space is a search space.
type Space struct {
	Method  string   `json:"method"`
	Seed    uint64   `json:"seed"`
	Trials  int      `json:"trials"` // random draws; 0: not set
	LR      Float    `json:"lr"`
	Dropout Float    `json:"dropout"`
	Filters [][]int  `json:"filters"`
	Dense   [][]int  `json:"dense"`
	Batch   []int    `json:"batch"`
	Epochs  []int    `json:"epochs"`
	keys    []string // the keys the file set, for error messages
	lines   map[string]int
}

// Trial is one point of a space: the hyper-parameters of one training run.
type Trial struct {
	Index   int
	LR      float64 // RMSprop learning rate
	Dropout float64 // dropout rate of the hidden dense layers
	Filters []int   // channels of the convolution blocks
	Dense   []int   // widths of the hidden dense layers
	Batch   int     // images per step
	Epochs  int
}

// DefaultEpochs is the epochs of a trial when the space does not say.
const DefaultEpochs = 10

// ParseSpace reads a space file, TOML or JSON by the name's extension
// (.toml, .json). Errors name the file, the line and the field.
func ParseSpace(name string, data []byte) (*Space, error) {
	var entries []entry
	var err error
	switch strings.ToLower(filepath.Ext(name)) {
	case ".toml":
		entries, err = parseTOML(data)
	case ".json":
		entries, err = parseJSON(data)
	default:
		return nil, fmt.Errorf("%s: a space file is .toml or .json", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s, err := fromEntries(entries)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

var keys = []string{"method", "seed", "trials", "lr", "dropout", "filters", "dense", "batch", "epochs"}

func fromEntries(entries []entry) (*Space, error) {
	def := cnn.DefaultConfig(cnn.TaskClassify, 0)
	s := &Space{Method: Grid, LR: Float{Choices: []float64{def.LearnRate}}, Dropout: Float{Choices: []float64{def.Dropout}},
		Filters: [][]int{def.Filters}, Dense: [][]int{def.Dense}, Batch: []int{def.Batch}, Epochs: []int{DefaultEpochs},
		lines: map[string]int{}}
	for _, e := range entries {
		if !slices.Contains(keys, e.key) {
			return nil, fmt.Errorf("line %d: unknown setting %q (want one of %s)", e.line, e.key, strings.Join(keys, ", "))
		}
		if _, dup := s.lines[e.key]; dup {
			return nil, fmt.Errorf("line %d: %s given twice (also line %d)", e.line, e.key, s.lines[e.key])
		}
		s.lines[e.key] = e.line
		var err error
		switch e.key {
		case "method":
			m, ok := e.val.(string)
			if !ok || (m != Grid && m != Random) {
				err = fmt.Errorf("want %q or %q", Grid, Random)
			}
			s.Method = m
		case "seed":
			var v int
			v, err = toInt(e.val, 0, 1<<53)
			s.Seed = uint64(v)
		case "trials":
			s.Trials, err = toInt(e.val, 1, MaxTrials)
		case "lr":
			s.LR, err = toFloat(e.val, func(x float64) error {
				if !(x > 0 && x <= 10) {
					return fmt.Errorf("%v: want a learning rate in (0, 10]", x)
				}
				return nil
			})
		case "dropout":
			s.Dropout, err = toFloat(e.val, func(x float64) error {
				if !(x >= 0 && x < 1) {
					return fmt.Errorf("%v: want a fraction in [0, 1)", x)
				}
				return nil
			})
		case "filters":
			s.Filters, err = toLayers(e.val, 1)
		case "dense":
			s.Dense, err = toLayers(e.val, 0)
		case "batch":
			s.Batch, err = toInts(e.val, 1, maxBatch)
		case "epochs":
			s.Epochs, err = toInts(e.val, 1, maxEpochs)
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %s: %w", e.line, e.key, err)
		}
	}
	if s.Method == Grid {
		for _, k := range []string{"lr", "dropout"} {
			f := map[string]Float{"lr": s.LR, "dropout": s.Dropout}[k]
			if f.IsRange() {
				return nil, fmt.Errorf("line %d: %s: a range needs method = %q (a grid takes a list of values)", s.lines[k], k, Random)
			}
		}
		if l, ok := s.lines["trials"]; ok {
			return nil, fmt.Errorf("line %d: trials: a grid has one trial per combination (%d here); trials is for method = %q", l, s.GridSize(), Random)
		}
		if n := s.GridSize(); n > MaxTrials {
			return nil, fmt.Errorf("the grid has %d combinations, more than %d", n, MaxTrials)
		}
	}
	return s, nil
}

func toInt(v any, lo, hi int) (int, error) {
	f, ok := v.(float64)
	if !ok || f != math.Trunc(f) {
		return 0, fmt.Errorf("%v is not an integer", show(v))
	}
	if f < float64(lo) || f > float64(hi) {
		return 0, fmt.Errorf("%v: want an integer in [%d, %d]", f, lo, hi)
	}
	return int(f), nil
}

// toInts reads an integer or a non-empty list of integers.
func toInts(v any, lo, hi int) ([]int, error) {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	if len(list) == 0 {
		return nil, errors.New("an empty list")
	}
	var out []int
	for _, x := range list {
		n, err := toInt(x, lo, hi)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// toLayers reads one list of layer widths ([16, 32]) or a list of them
// ([[8, 16], [16, 32]]); each has at least minLen layers.
func toLayers(v any, minLen int) ([][]int, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: want a list of layer widths, or a list of such lists", show(v))
	}
	lists := 0
	for _, x := range list {
		if _, ok := x.([]any); ok {
			lists++
		}
	}
	if lists > 0 && lists < len(list) {
		return nil, fmt.Errorf("%s: mixes widths and lists of widths", show(v))
	}
	if lists == 0 {
		list = []any{list}
	}
	var out [][]int
	for _, x := range list {
		l, ok := x.([]any)
		if !ok {
			return nil, fmt.Errorf("%s: mixes widths and lists of widths", show(v))
		}
		if len(l) < minLen || len(l) > maxLayers {
			return nil, fmt.Errorf("%s: want %d to %d layers", show(x), minLen, maxLayers)
		}
		widths := []int{}
		for _, w := range l {
			n, err := toInt(w, 1, maxWidth)
			if err != nil {
				return nil, err
			}
			widths = append(widths, n)
		}
		out = append(out, widths)
	}
	return out, nil
}

// toFloat reads a number, a non-empty list of numbers, or a range table
// {min, max, scale}.
func toFloat(v any, check func(float64) error) (Float, error) {
	var f Float
	switch v := v.(type) {
	case map[string]any:
		for k := range v {
			if k != "min" && k != "max" && k != "scale" {
				return f, fmt.Errorf("range key %q: want min, max and scale", k)
			}
		}
		lo, ok1 := v["min"].(float64)
		hi, ok2 := v["max"].(float64)
		if !ok1 || !ok2 {
			return f, errors.New("a range needs numbers min and max")
		}
		if err := check(lo); err != nil {
			return f, fmt.Errorf("min %w", err)
		}
		if err := check(hi); err != nil {
			return f, fmt.Errorf("max %w", err)
		}
		if !(lo < hi) {
			return f, fmt.Errorf("min %v is not below max %v", lo, hi)
		}
		switch sc, _ := v["scale"]; sc {
		case nil, "linear":
		case "log":
			if lo <= 0 {
				return f, fmt.Errorf("scale log needs min > 0, not %v", lo)
			}
			f.Log = true
		default:
			return f, fmt.Errorf("scale %v: want \"linear\" or \"log\"", show(sc))
		}
		f.Min, f.Max = lo, hi
		return f, nil
	case []any:
		if len(v) == 0 {
			return f, errors.New("an empty list")
		}
		for _, x := range v {
			n, ok := x.(float64)
			if !ok {
				return f, fmt.Errorf("%s is not a number", show(x))
			}
			if err := check(n); err != nil {
				return f, err
			}
			f.Choices = append(f.Choices, n)
		}
		return f, nil
	case float64:
		if err := check(v); err != nil {
			return f, err
		}
		f.Choices = []float64{v}
		return f, nil
	}
	return f, fmt.Errorf("%s: want a number, a list of numbers or {min, max, scale}", show(v))
}

// show formats a parsed value for an error message, shortened.
func show(v any) string {
	s := fmt.Sprint(v)
	if str, ok := v.(string); ok {
		s = fmt.Sprintf("%q", str)
	}
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return s
}

// GridSize is the number of combinations of the space's lists (ranges
// count as one).
func (s *Space) GridSize() int {
	n := 1
	for _, k := range []int{max(1, len(s.LR.Choices)), max(1, len(s.Dropout.Choices)), len(s.Filters), len(s.Dense), len(s.Batch), len(s.Epochs)} {
		n *= k
		if n > MaxTrials {
			return MaxTrials + 1
		}
	}
	return n
}

// Draw returns the trials of the space: for a grid, every combination
// (trials must be 0 or the grid's size); for random, trials draws (0: the
// file's trials), independent per hyper-parameter, from a stream fixed
// by the seed, so the same file and count give the same trials.
func (s *Space) Draw(trials int) ([]Trial, error) {
	if s.Method == Grid {
		n := s.GridSize()
		if trials != 0 && trials != n {
			return nil, fmt.Errorf("--trials %d: the grid has %d combinations (use method = %q for fewer)", trials, n, Random)
		}
		var out []Trial
		for _, lr := range s.LR.Choices {
			for _, d := range s.Dropout.Choices {
				for _, f := range s.Filters {
					for _, de := range s.Dense {
						for _, b := range s.Batch {
							for _, e := range s.Epochs {
								out = append(out, Trial{Index: len(out), LR: lr, Dropout: d, Filters: f, Dense: de, Batch: b, Epochs: e})
							}
						}
					}
				}
			}
		}
		return out, nil
	}
	if trials == 0 {
		trials = s.Trials
	}
	if trials < 1 || trials > MaxTrials {
		return nil, fmt.Errorf("random search: %d trials: want 1 to %d (trials in the file, or --trials)", trials, MaxTrials)
	}
	r := rand.New(rand.NewPCG(s.Seed, 0x736561726368)) // "search"
	out := make([]Trial, trials)
	for i := range out {
		out[i] = Trial{Index: i, LR: s.LR.draw(r), Dropout: s.Dropout.draw(r),
			Filters: s.Filters[r.IntN(len(s.Filters))], Dense: s.Dense[r.IntN(len(s.Dense))],
			Batch: s.Batch[r.IntN(len(s.Batch))], Epochs: s.Epochs[r.IntN(len(s.Epochs))]}
	}
	return out, nil
}

func (f Float) draw(r *rand.Rand) float64 {
	if !f.IsRange() {
		return f.Choices[r.IntN(len(f.Choices))]
	}
	u := r.Float64()
	if f.Log {
		return math.Exp(math.Log(f.Min) + u*(math.Log(f.Max)-math.Log(f.Min)))
	}
	return f.Min + u*(f.Max-f.Min)
}
