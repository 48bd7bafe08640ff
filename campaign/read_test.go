package campaign

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/turbindex/turbindex/sim/physics"
)

// baseManifest is a valid manifest: version on line 1, parameters on
// lines 2–15 (grid on 4, mach on 6, cfl on 11, order on 12, fields on 15),
// the header row on 16 and rows on 17–20.
const baseManifest = `# turbindex manifest v1
# preset=demo
# campaign_seed=1
# grid=32
# tend_myr=0.5
# mach=1.41
# box_pc=10
# temp_k=10
# mu=2.37
# rho0_cgs=6.77e-22
# cfl=0.3
# order=2
# kmin=1
# kmax=0
# fields=
id,class,index,seed,split
kolmogorov-0000,kolmogorov,3.6666666666666665,101,train
burgers-0000,burgers,4,102,test
sweep-0000,sweep,3.25,103,holdout
sweep-0001,sweep,4.4,104,train
`

// edit returns baseManifest with 1-based line n replaced by s (deleted
// when s is "<del>").
func edit(n int, s string) string {
	lines := strings.Split(baseManifest, "\n")
	if s == "<del>" {
		lines = append(lines[:n-1], lines[n:]...)
	} else {
		lines[n-1] = s
	}
	return strings.Join(lines, "\n")
}

func TestManifestReadValid(t *testing.T) {
	m, err := Read(strings.NewReader(baseManifest), "m.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Rows) != 4 || m.Rows[2].Index != 3.25 || m.Rows[2].Seed != 103 || m.Rows[2].Line != 19 || m.Params.Rho0 != 6.77e-22 {
		t.Errorf("%+v", m)
	}
	// CRLF line ends, parameters in another order and spaces around '='
	// are accepted.
	swapped := strings.Replace(baseManifest, "# grid=32\n# tend_myr=0.5\n", "#tend_myr = 0.5\n# grid=32\n", 1)
	if _, err := Read(strings.NewReader(strings.ReplaceAll(swapped, "\n", "\r\n")), "m.csv"); err != nil {
		t.Errorf("CRLF, reordered parameters: %v", err)
	}
}

func TestManifestMalformed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		text  string
		line  int
		wants []string
	}{
		{"empty file", "", 0, []string{"m.csv: empty file"}},
		{"not a manifest", "id,class\n", 1, []string{"manifest version line"}},
		{"ends before header", strings.Join(strings.Split(baseManifest, "\n")[:10], "\n"), 10, []string{"before the header row"}},
		{"bad parameter line", edit(4, "# grid 32"), 4, []string{"bad parameter line", `"# grid 32"`}},
		{"free comment", edit(4, "# made by hand"), 4, []string{"bad parameter line"}},
		{"unknown parameter", edit(6, "# mach_number=1.41"), 6, []string{`unknown parameter "mach_number"`}},
		{"duplicate parameter", edit(5, "# grid=64"), 5, []string{`duplicate parameter "grid"`, "first on line 4"}},
		{"missing parameter", edit(6, "<del>"), 15, []string{`missing parameter line "# mach=...`}},
		{"grid not a number", edit(4, "# grid=big"), 4, []string{"grid=big: not an integer"}},
		{"grid too small", edit(4, "# grid=8"), 4, []string{"grid=8: must be at least 16"}},
		{"cfl too large", edit(11, "# cfl=0.5"), 11, []string{"cfl=0.5", "0.3333"}},
		{"order", edit(12, "# order=3"), 12, []string{"order=3: must be 1 or 2"}},
		{"mach", edit(6, "# mach=-1"), 6, []string{"mach=-1: must be positive"}},
		{"tend NaN", edit(5, "# tend_myr=NaN"), 5, []string{"tend_myr=NaN"}},
		{"kmax band", edit(14, "# kmax=0.5"), 14, []string{"kmax=0.5", "KMin"}},
		{"fields", edit(15, "# fields=density,pressure"), 15, []string{`unknown field "pressure"`}},
		{"campaign seed", edit(3, "# campaign_seed=-1"), 3, []string{"campaign_seed=-1"}},
		{"missing column", edit(16, "id,class,index,split"), 16, []string{`missing column "seed"`}},
		{"extra column", edit(16, "id,class,index,seed,split,notes"), 16, []string{`extra column "notes"`}},
		{"columns out of order", edit(16, "id,class,seed,index,split"), 16, []string{`column 3 is "seed", want "index"`}},
		{"no rows", strings.Join(strings.Split(baseManifest, "\n")[:16], "\n") + "\n", 16, []string{"no simulations"}},
		{"truncated row", edit(18, "burgers-0000,burgers,4"), 18, []string{"row has 3 fields, want 5"}},
		{"extra field", edit(18, "burgers-0000,burgers,4,102,test,x"), 18, []string{"row has 6 fields, want 5"}},
		{"index abc", edit(19, "sweep-0000,sweep,abc,103,holdout"), 19, []string{`index "abc" is not a number`, "sweep-0000"}},
		{"index 7", edit(19, "sweep-0000,sweep,7,103,holdout"), 19, []string{"index 7", "[1, 6]"}},
		{"kolmogorov index", edit(17, "kolmogorov-0000,kolmogorov,4,101,train"), 17, []string{"index 4", "11/3"}},
		{"burgers index", edit(18, "burgers-0000,burgers,3.5,102,test"), 18, []string{"index 3.5", "index 4"}},
		{"bad seed", edit(18, "burgers-0000,burgers,4,-5,test"), 18, []string{`seed "-5"`}},
		{"bad class", edit(19, "sweep-0000,kraichnan,3.25,103,holdout"), 19, []string{`unknown class "kraichnan"`}},
		{"bad split", edit(20, "sweep-0001,sweep,4.4,104,validation"), 20, []string{`unknown split "validation"`}},
		{"empty id", edit(18, ",burgers,4,102,test"), 18, []string{"empty id"}},
		{"unsafe id", edit(18, "../burgers,burgers,4,102,test"), 18, []string{`id "../burgers" is not a safe file name`}},
		{"id with space", edit(18, "burgers 0,burgers,4,102,test"), 18, []string{"not a safe file name"}},
		{"duplicate id", edit(19, "kolmogorov-0000,sweep,3.25,103,holdout"), 19, []string{`duplicate id "kolmogorov-0000"`, "first on line 17"}},
		{"duplicate seed", edit(20, "sweep-0001,sweep,4.4,102,train"), 20, []string{"duplicate seed 102", "first on line 18"}},
		{"blank line", edit(18, ""), 18, []string{"empty line"}},
		{"comment after header", edit(18, "# burgers-0000,burgers,4,102,test"), 18, []string{"comment line after the header row"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Read(strings.NewReader(tc.text), "m.csv")
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("Read: %v (manifest %v), want a *LineError", err, m != nil)
			}
			if le.Line != tc.line || le.Name != "m.csv" {
				t.Errorf("error %q at %s:%d, want line %d", err, le.Name, le.Line, tc.line)
			}
			msg := err.Error()
			if tc.line > 0 && !strings.HasPrefix(msg, "m.csv:"+itoa(tc.line)+": ") {
				t.Errorf("error %q does not start with m.csv:%d:", msg, tc.line)
			}
			for _, w := range tc.wants {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
		})
	}
}

func TestManifestReadFileMissing(t *testing.T) {
	if _, err := ReadFile(t.TempDir() + "/nope.csv"); err == nil || !strings.Contains(err.Error(), "nope.csv") {
		t.Errorf("ReadFile of a missing file: %v", err)
	}
}

func readDirNames(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names, err
}

// TestParamKeys checks that the manifest's parameter lines are the
// campaign's two and every key of physics.Params but the rows' own.
func TestParamKeys(t *testing.T) {
	var want []string
	for _, k := range physics.Keys() {
		if !slices.Contains(rowKeys, k) {
			want = append(want, k)
		}
	}
	got := slices.Clone(paramKeys[2:])
	slices.Sort(got)
	slices.Sort(want)
	if paramKeys[0] != "preset" || paramKeys[1] != "campaign_seed" || !slices.Equal(got, want) {
		t.Errorf("paramKeys %v, want preset, campaign_seed and %v", paramKeys, want)
	}
}
