package campaign

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/turbindex/turbindex/sim/driver"
)

func mustPlan(t *testing.T, o PlanOptions) *Manifest {
	t.Helper()
	m, err := Plan(o)
	if err != nil {
		t.Fatalf("Plan(%+v): %v", o, err)
	}
	return m
}

func defaults(preset string, seed uint64) PlanOptions {
	return PlanOptions{Preset: preset, CampaignSeed: seed, Kolmogorov: -1, Burgers: -1, Sweep: -1}
}

func bytesOf(t *testing.T, m *Manifest) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := m.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestPlanPresets(t *testing.T) {
	for _, tc := range []struct {
		preset string
		grid   int
		counts [3][3]int // class × split (train, test, holdout)
	}{
		{"paper", 500, [3][3]int{{400, 50, 50}, {400, 50, 50}, {800, 100, 100}}},
		{"demo", 32, [3][3]int{{6, 1, 1}, {6, 1, 1}, {2, 1, 1}}},
	} {
		t.Run(tc.preset, func(t *testing.T) {
			m := mustPlan(t, defaults(tc.preset, 1))
			total := 0
			for _, c := range tc.counts {
				total += c[0] + c[1] + c[2]
			}
			if len(m.Rows) != total {
				t.Fatalf("%d rows, want %d", len(m.Rows), total)
			}
			if got := m.Counts(); got != tc.counts {
				t.Errorf("class × split counts %v, want %v", got, tc.counts)
			}
			p := m.Params
			if p.Preset != tc.preset || p.Grid != tc.grid || p.TEndMyr != 0.5 || p.Mach != 1.41 || p.CFL != 0.3 || p.Order != 2 || p.Fields != nil {
				t.Errorf("params %+v", p)
			}
			splitOf := map[string]string{}
			seeds := map[uint64]string{}
			number := map[string]int{}
			for i, r := range m.Rows {
				if s, dup := splitOf[r.ID]; dup {
					t.Fatalf("id %s twice (splits %s and %s)", r.ID, s, r.Split)
				}
				splitOf[r.ID] = r.Split
				if other, dup := seeds[r.Seed]; dup {
					t.Fatalf("seed %d of %s also used by %s", r.Seed, r.ID, other)
				}
				seeds[r.Seed] = r.ID
				// Rows in class order, numbered within the class.
				if want := r.Class + "-" + pad4(number[r.Class]); r.ID != want {
					t.Fatalf("row %d id %s, want %s", i, r.ID, want)
				}
				number[r.Class]++
				if i > 0 && classRank(m.Rows[i-1].Class) > classRank(r.Class) {
					t.Fatalf("row %d: class %s after %s", i, r.Class, m.Rows[i-1].Class)
				}
				switch r.Class {
				case Kolmogorov:
					if r.Index != 11.0/3 {
						t.Errorf("%s: index %v, want exactly 11/3", r.ID, r.Index)
					}
				case Burgers:
					if r.Index != 4 {
						t.Errorf("%s: index %v, want 4", r.ID, r.Index)
					}
				case Sweep:
					if r.Index < 3 || r.Index > 4.5 {
						t.Errorf("%s: index %v outside [3, 4.5]", r.ID, r.Index)
					}
				}
				if r.Line != firstRowLine+i {
					t.Errorf("%s: Line %d, want %d", r.ID, r.Line, firstRowLine+i)
				}
			}
			// Same options, same bytes; the file reads back.
			b1 := bytesOf(t, m)
			if b2 := bytesOf(t, mustPlan(t, defaults(tc.preset, 1))); !bytes.Equal(b1, b2) {
				t.Error("the same options gave different manifests")
			}
			if _, err := Read(bytes.NewReader(b1), "m.csv"); err != nil {
				t.Errorf("planned manifest does not read back: %v", err)
			}
			// Another campaign seed: other seeds and other splits.
			o := mustPlan(t, defaults(tc.preset, 2))
			sameSeed, sameSplits := 0, true
			for i, r := range o.Rows {
				if _, ok := seeds[r.Seed]; ok {
					sameSeed++
				}
				sameSplits = sameSplits && r.Split == m.Rows[i].Split
			}
			if sameSeed > 0 || sameSplits {
				t.Errorf("campaign seed 2 vs 1: %d shared seeds, identical splits %v", sameSeed, sameSplits)
			}
			if o.Counts() != tc.counts {
				t.Errorf("campaign seed 2: counts %v", o.Counts())
			}
		})
	}
	// Sweep indices fill [3, 4.5): the paper's 1000 cover both ends.
	lo, hi := 5.0, 0.0
	for _, r := range mustPlan(t, defaults("paper", 1)).Rows {
		if r.Class == Sweep {
			lo, hi = min(lo, r.Index), max(hi, r.Index)
		}
	}
	if lo > 3.02 || hi < 4.48 {
		t.Errorf("sweep indices span [%g, %g], want about [3, 4.5]", lo, hi)
	}
}

func pad4(n int) string { s := "000" + itoa(n); return s[len(s)-4:] }
func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
func classRank(c string) int { return strings.Index("kbs", c[:1]) }

func TestPlanOverrides(t *testing.T) {
	o := defaults("demo", 7)
	o.Kolmogorov, o.Burgers, o.Sweep, o.Grid, o.TEndMyr, o.Fields = 3, 0, 10, 16, 0.01, []string{"density", "velocity"}
	m := mustPlan(t, o)
	want := [3][3]int{{1, 1, 1}, {0, 0, 0}, {8, 1, 1}}
	if got := m.Counts(); got != want {
		t.Errorf("counts %v, want %v", got, want)
	}
	if p := m.Params; p.Grid != 16 || p.TEndMyr != 0.01 || !reflect.DeepEqual(p.Fields, o.Fields) || p.CampaignSeed != 7 || p.Preset != "demo" {
		t.Errorf("params %+v", p)
	}
	// Growing a class keeps the seeds of its first rows.
	o2 := o
	o2.Sweep = 20
	m2 := mustPlan(t, o2)
	for i := range 13 {
		if m.Rows[i].Seed != m2.Rows[i].Seed || m.Rows[i].Index != m2.Rows[i].Index {
			t.Fatalf("row %d changed when the sweep grew: %+v vs %+v", i, m.Rows[i], m2.Rows[i])
		}
	}
}

func TestPlanErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*PlanOptions)
		want string
	}{
		{"preset", func(o *PlanOptions) { o.Preset = "huge" }, `preset "huge": unknown`},
		{"count", func(o *PlanOptions) { o.Burgers = -2 }, "burgers -2"},
		{"empty", func(o *PlanOptions) { o.Kolmogorov, o.Burgers, o.Sweep = 0, 0, 0 }, "no simulations"},
		{"grid", func(o *PlanOptions) { o.Grid = 8 }, "grid 8: must be at least 16"},
		{"tend", func(o *PlanOptions) { o.TEndMyr = -1 }, "tend_myr -1: must be positive"},
		{"fields", func(o *PlanOptions) { o.Fields = []string{"pressure"} }, `fields pressure: unknown field "pressure"`},
		{"fields twice", func(o *PlanOptions) { o.Fields = []string{"density", "density"} }, "listed twice"},
		{"fractions", func(o *PlanOptions) { o.Train, o.Test = 0.95, 0.1 }, "split fractions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := defaults("demo", 1)
			tc.edit(&o)
			_, err := Plan(o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Plan: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestPlanSplitCounts(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want [3]int
	}{
		{0, [3]int{0, 0, 0}},
		{1, [3]int{1, 0, 0}},
		{2, [3]int{2, 0, 0}},
		{3, [3]int{1, 1, 1}},
		{4, [3]int{2, 1, 1}},
		{5, [3]int{3, 1, 1}},
		{8, [3]int{6, 1, 1}},
		{10, [3]int{8, 1, 1}},
		{15, [3]int{11, 2, 2}},
		{500, [3]int{400, 50, 50}},
		{1000, [3]int{800, 100, 100}},
	} {
		if got := SplitCounts(tc.n, DefaultTrain, DefaultTest, 1-DefaultTrain-DefaultTest); got != tc.want {
			t.Errorf("SplitCounts(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
	// A zero holdout fraction gets no simulation.
	if got := SplitCounts(4, 0.75, 0.25, 0); got != [3]int{3, 1, 0} {
		t.Errorf("SplitCounts(4, 0.75, 0.25, 0) = %v", got)
	}
}

func TestManifestRoundTrip(t *testing.T) {
	withFields := defaults("demo", 3)
	withFields.Fields = []string{"velocity", "density"}
	withFields.TEndMyr = 0.123456789
	for name, o := range map[string]PlanOptions{"paper": defaults("paper", 1), "demo+fields": withFields} {
		t.Run(name, func(t *testing.T) {
			m := mustPlan(t, o)
			b := bytesOf(t, m)
			back, err := Read(bytes.NewReader(b), "m.csv")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, m) {
				t.Errorf("Read(Write(m)) differs:\nparams %+v\nwant   %+v", back.Params, m.Params)
			}
			if !bytes.Equal(bytesOf(t, back), b) {
				t.Error("rewriting changed the bytes")
			}
		})
	}
}

func TestManifestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/m.csv"
	m := mustPlan(t, defaults("demo", 1))
	if err := WriteFile(path, m, false); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, m, false); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second WriteFile without force: %v", err)
	}
	m.Params.Grid = 64
	if err := WriteFile(path, m, true); err != nil {
		t.Fatal(err)
	}
	back, err := ReadFile(path)
	if err != nil || back.Params.Grid != 64 {
		t.Fatalf("ReadFile: %v, grid %v", err, back)
	}
	if err := WriteFile(dir, m, true); err == nil {
		t.Error("WriteFile onto a directory succeeded")
	}
	if ents, _ := readDirNames(dir); len(ents) != 1 {
		t.Errorf("directory holds %v, want only m.csv (no temporary files)", ents)
	}
}

func TestManifestConfigAndTasks(t *testing.T) {
	o := defaults("demo", 1)
	o.Fields = []string{"density"}
	m := mustPlan(t, o)
	dir := t.TempDir()
	r := m.Rows[17]
	c := driver.Turbulence(m.Run(r), SnapshotPath(dir, r.ID))
	if c.Problem != "turbulence" || c.Index != r.Index || c.Seed != r.Seed || c.Grid != 32 || c.Out != dir+"/"+r.ID+".tsnap" ||
		!c.Force || c.Ranks != 1 || !reflect.DeepEqual(c.Fields, []string{"density"}) || c.Mach != 1.41 {
		t.Errorf("Config: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Config does not validate: %v", err)
	}
	if SnapshotPath("s", "a") != "s/a.tsnap" || CheckpointPath("s", "a") != "s/a.ckpt" || LockPath("s", "a") != "s/a.lock" {
		t.Error("paths")
	}
	for _, tc := range []struct {
		task, perTask int
		first, n      int // first row, rows; n < 0: error
	}{
		{0, 1, 0, 1}, {19, 1, 19, 1}, {20, 1, 0, -1}, {-1, 1, 0, -1},
		{0, 3, 0, 3}, {6, 3, 18, 2}, {7, 3, 0, -1}, {0, 20, 0, 20}, {0, 64, 0, 20}, {0, 0, 0, -1},
	} {
		rows, err := m.TaskRows(tc.task, tc.perTask)
		switch {
		case tc.n < 0 && err == nil:
			t.Errorf("TaskRows(%d, %d): no error", tc.task, tc.perTask)
		case tc.n >= 0 && (err != nil || len(rows) != tc.n || rows[0].ID != m.Rows[tc.first].ID):
			t.Errorf("TaskRows(%d, %d): %d rows, %v; want %d from row %d", tc.task, tc.perTask, len(rows), err, tc.n, tc.first)
		}
	}
	if m.NumTasks(3) != 7 || m.NumTasks(1) != 20 {
		t.Errorf("NumTasks: %d, %d", m.NumTasks(3), m.NumTasks(1))
	}
}
