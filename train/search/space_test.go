package search

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

const spaceTOML = `# a random search
method  = "random"
seed    = 7
trials  = 40
lr      = {min = 1e-4, max = 1e-2, scale = "log"}
dropout = [0.25, 0.5]
filters = [
  [8, 16, 32, 32],   # small
  [16, 32, 64, 64],
]
dense   = [[64, 32], [128, 64], []]
batch   = [16, 32]
epochs  = 3
`

const spaceJSON = `{
  "method": "random", "seed": 7, "trials": 40,
  "lr": {"min": 1e-4, "max": 1e-2, "scale": "log"},
  "dropout": [0.25, 0.5],
  "filters": [[8, 16, 32, 32], [16, 32, 64, 64]],
  "dense": [[64, 32], [128, 64], []],
  "batch": [16, 32],
  "epochs": 3
}`

func TestParseSpace(t *testing.T) {
	a, err := ParseSpace("s.toml", []byte(spaceTOML))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseSpace("s.json", []byte(spaceJSON))
	if err != nil {
		t.Fatal(err)
	}
	a.lines, b.lines = nil, nil
	if !reflect.DeepEqual(a, b) {
		t.Errorf("TOML and JSON differ:\n%+v\n%+v", a, b)
	}
	want := &Space{Method: Random, Seed: 7, Trials: 40, LR: Float{Min: 1e-4, Max: 1e-2, Log: true},
		Dropout: Float{Choices: []float64{0.25, 0.5}}, Filters: [][]int{{8, 16, 32, 32}, {16, 32, 64, 64}},
		Dense: [][]int{{64, 32}, {128, 64}, {}}, Batch: []int{16, 32}, Epochs: []int{3}}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("parsed\n%+v\nwant\n%+v", a, want)
	}
	trials, err := a.Draw(0)
	if err != nil || len(trials) != 40 {
		t.Fatalf("Draw: %d trials, %v", len(trials), err)
	}
	again, _ := b.Draw(40)
	if !reflect.DeepEqual(trials, again) {
		t.Error("the same space and seed drew different trials")
	}
	seen := map[string]bool{}
	many, _ := a.Draw(200)
	if !reflect.DeepEqual(many[:40], trials) {
		t.Error("the first 40 of 200 draws are not the 40 draws")
	}
	for i, tr := range many {
		if tr.Index != i || !(tr.LR >= 1e-4 && tr.LR <= 1e-2) || (tr.Dropout != 0.25 && tr.Dropout != 0.5) || tr.Epochs != 3 {
			t.Errorf("trial %+v outside the space", tr)
		}
		seen[fmt.Sprint(tr.Filters, tr.Dense, tr.Batch)] = true
		if tr.LR < 1e-3 {
			seen["low lr"] = true
		} else {
			seen["high lr"] = true
		}
	}
	// 2 × 3 × 2 combinations and both decades of the log range, in 200 draws.
	if len(seen) != 12+2 {
		t.Errorf("200 draws covered %d of the 12 combinations and 2 decades: %v", len(seen), seen)
	}

	g, err := ParseSpace("g.toml", []byte("lr = [1e-3, 3e-4]\ndropout = [0, 0.5]\nbatch = [8, 16, 32]\n"))
	if err != nil {
		t.Fatal(err)
	}
	grid, err := g.Draw(0)
	if err != nil || len(grid) != 12 || g.GridSize() != 12 {
		t.Fatalf("grid: %d trials, %v", len(grid), err)
	}
	if tr := grid[11]; tr.LR != 3e-4 || tr.Dropout != 0.5 || tr.Batch != 32 || !reflect.DeepEqual(tr.Filters, []int{16, 32, 64, 64}) || tr.Epochs != DefaultEpochs {
		t.Errorf("last grid point %+v", tr)
	}
	if _, err := g.Draw(5); err == nil || !strings.Contains(err.Error(), "12 combinations") {
		t.Errorf("grid with --trials 5: %v", err)
	}
}

func TestParseSpaceErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"s.yaml", "lr = 1", "s.yaml: a space file is .toml or .json"},
		{"s.toml", "lr = 1e-3\nlearning_rate = 3", `s.toml: line 2: unknown setting "learning_rate"`},
		{"s.toml", "\n\nlr = 1e-3\nlr = 2e-3", "line 4: lr given twice (also line 3)"},
		{"s.toml", "[params]\nlr = 1", "line 1: tables"},
		{"s.toml", "dropout = [0.5, 1.5]", "line 1: dropout: 1.5: want a fraction in [0, 1)"},
		{"s.toml", "lr = -1", "line 1: lr: -1: want a learning rate"},
		{"s.toml", "lr = {min = 1e-4, max = 1e-2}", `line 1: lr: a range needs method = "random"`},
		{"s.toml", "method = \"random\"\nlr = {min = 1e-2, max = 1e-4}", "line 2: lr: min 0.01 is not below max 0.0001"},
		{"s.toml", "method = \"random\"\nlr = {min = 0, max = 1, scale = \"log\"}", "line 2: lr: min 0: want a learning rate"},
		{"s.toml", "method = 'anneal'", `line 1: method: want "grid" or "random"`},
		{"s.toml", "batch = 2.5", "line 1: batch: 2.5 is not an integer"},
		{"s.toml", "batch = []", "line 1: batch: an empty list"},
		{"s.toml", "epochs = 0", "line 1: epochs: 0: want an integer in [1, 10000]"},
		{"s.toml", "filters = [[8, 16], 32]", "line 1: filters: [[8 16] 32]: mixes"},
		{"s.toml", "filters = []", "line 1: filters: []: want 1 to 8 layers"},
		{"s.toml", "filters = [\n  [8, 16],\n  [8, 0],\n]", "line 1: filters: 0: want an integer in [1, 4096]"},
		{"s.toml", "filters = [8, 16", "line 1: filters: array not closed"},
		{"s.toml", "lr = 1e-3 3", `line 1: lr: unexpected "3"`},
		{"s.toml", "lr 1e-3", "line 1: lr: want = after the key"},
		{"s.toml", "lr = 0x10", `line 1: lr: "0x10" is not a number`},
		{"s.toml", "lr = nan", `"nan" is not a number`},
		{"s.toml", "trials = 4", "line 1: trials: a grid has one trial per combination"},
		{"s.toml", "method = \"random\"\ntrials = 20000", "line 2: trials: 20000: want an integer in [1, 10000]"},
		{"s.toml", "batch = [1,2,3,4,5,6,7,8,9,10]\nepochs = [1,2,3,4,5,6,7,8,9,10]\nlr = [1,2,3,4,5,6,7,8,9,10]\ndropout = [0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9]\nfilters = [[1],[2]]", "the grid has 10001 combinations"},
		{"s.json", "{\"lr\": 1e-3,\n \"lr\": 2e-3}", "line 2: lr given twice"},
		{"s.json", "{\"lr\": 1e-3,\n \"dropout\": null}", "line 2: dropout: null is not a value"},
		{"s.json", "{\"lr\": 1e-3,\n \"batch\": [16, 32,]}", "line 2: invalid character ']'"},
		{"s.json", "[1]", "line 1: a space file is one JSON object"},
		{"s.json", "{\"lr\": 1e-3} {}", "data after the object"},
		{"s.json", "{\"lr\": 1e-3,\n\n \"epochs\": \"many\"}", `line 3: epochs: "many" is not an integer`},
		{"s.json", "{\"lr\": 1e-3", "unexpected end"},
	} {
		_, err := ParseSpace(tc.name, []byte(tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %q: %v, want an error with %q", tc.name, tc.text, err, tc.want)
		}
	}
}

// FuzzParseSpace: no input makes the parser or the draws panic, and what it
// accepts is within the limits.
func FuzzParseSpace(f *testing.F) {
	f.Add("s.toml", []byte(spaceTOML))
	f.Add("s.json", []byte(spaceJSON))
	f.Add("s.toml", []byte("lr = [1e-3, 3e-4]\ndropout = [0, 0.5]\nbatch = [8, 16, 32]\n"))
	f.Add("s.toml", []byte("filters = [[[[[1]]]]]\nlr = {min = 1, max = 2}\n"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		if !strings.HasSuffix(name, ".json") {
			name = "s.toml"
		}
		s, err := ParseSpace(name, data)
		if err != nil {
			return
		}
		trials, err := s.Draw(3)
		if err != nil {
			if s.Method == Random {
				t.Fatalf("random space drew no trials: %v", err)
			}
			return
		}
		for _, tr := range trials {
			if !(tr.LR > 0 && tr.LR <= 10) || math.IsNaN(tr.Dropout) || tr.Dropout < 0 || tr.Dropout >= 1 ||
				tr.Batch < 1 || tr.Epochs < 1 || len(tr.Filters) < 1 || len(tr.Filters) > maxLayers || len(tr.Dense) > maxLayers {
				t.Fatalf("accepted trial out of bounds: %+v", tr)
			}
		}
	})
}
