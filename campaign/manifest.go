package campaign

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/turbindex/turbindex/internal/atomicfile"
	"github.com/turbindex/turbindex/sim/physics"
)

// Version is the first line of every manifest.
const Version = "# turbindex manifest v1"

// Header is the CSV header row of a manifest.
const Header = "id,class,index,seed,split"

// Classes of simulations, in the order the planner writes them.
const (
	Kolmogorov = "kolmogorov" // spectral index exactly 11/3
	Burgers    = "burgers"    // spectral index exactly 4
	Sweep      = "sweep"      // spectral index drawn from [SweepMin, SweepMax)
)

// Classes lists the classes in manifest order.
var Classes = []string{Kolmogorov, Burgers, Sweep}

// Splits of the data set, by simulation.
const (
	Train   = "train"
	Test    = "test"
	Holdout = "holdout"
)

// Splits lists the splits.
var Splits = []string{Train, Test, Holdout}

// Spectral indices of the classes (n in P(k) ∝ k^−n) and the range the
// sweep's indices are drawn from.
const (
	KolmogorovIndex = 11.0 / 3
	BurgersIndex    = 4.0
	SweepMin        = 3.0
	SweepMax        = 4.5
)

// Lock protocol: a task that runs a row holds LockPath and refreshes its
// modification time at least every Heartbeat; Status takes a lock older
// than StaleAfter for the remains of a task that died.
const (
	Heartbeat  = time.Minute
	StaleAfter = 5 * time.Minute
)

// Params are the campaign parameters shared by every row: how the plan was
// drawn, and the physical parameters of every box but the spectral index
// and the seed, which each row has its own (Index and Seed are zero here;
// see Manifest.Run).
type Params struct {
	Preset         string // preset the plan started from (informational)
	CampaignSeed   uint64 // seed the rows' seeds, indices and splits were drawn from (informational)
	physics.Params        // the boxes' parameters
}

// Row is one simulation of the manifest.
type Row struct {
	ID    string  // unique; a safe file name, the base name of the row's outputs
	Class string  // Kolmogorov, Burgers or Sweep
	Index float64 // spectral index n, P(k) ∝ k^−n (dimensionless)
	Seed  uint64  // random seed of the initial velocity field; unique in the manifest
	Split string  // Train, Test or Holdout
	Line  int     // 1-based line of the row in the manifest file, for error messages
}

// Manifest is a campaign: its parameters and its simulations in row order.
type Manifest struct {
	Params Params
	Rows   []Row
}

// LineError is an error in a manifest file at a line. Line 0 means the
// file as a whole.
type LineError struct {
	Name string // file name as given to Read
	Line int    // 1-based line number, 0 for the whole file
	Msg  string
}

// Error formats the error as "name:line: msg" ("name: msg" for line 0).
func (e *LineError) Error() string {
	if e.Line == 0 {
		return e.Name + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.Name, e.Line, e.Msg)
}

// paramKeys are the parameter keys in the order Write writes them: the
// campaign's own two, then the keys of physics.Params but index and seed
// (each row has its own) in the order manifests have always had them, then
// any other key of physics.Params in struct order. So a parameter added to
// physics.Params needs no change here, and manifests are written byte for
// byte as before.
var paramKeys = func() []string {
	keys := []string{"preset", "campaign_seed", "grid", "tend_myr", "mach", "box_pc", "temp_k", "mu", "rho0_cgs", "cfl", "order", "kmin", "kmax", "fields"}
	for _, k := range physics.Keys() {
		if !slices.Contains(keys, k) && !slices.Contains(rowKeys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}()

// rowKeys are the keys of physics.Params that each row has its own.
var rowKeys = []string{"index", "seed"}

// firstRowLine is the line of row 0 in a file written by Write: the
// version line, one line per parameter, the header row.
var firstRowLine = 1 + len(paramKeys) + 1 + 1

// SnapshotPath returns the snapshot file of row id in outdir: outdir/id.tsnap.
func SnapshotPath(outdir, id string) string { return filepath.Join(outdir, id+".tsnap") }

// CheckpointPath returns the checkpoint file of row id in outdir:
// outdir/id.ckpt.
func CheckpointPath(outdir, id string) string { return filepath.Join(outdir, id+".ckpt") }

// LockPath returns the lock file of row id in outdir: outdir/id.lock. It
// exists while a task runs the row, and its modification time is refreshed
// at least every Heartbeat.
func LockPath(outdir, id string) string { return filepath.Join(outdir, id+".lock") }

// Run returns the physical parameters of row r's box: the manifest's, with
// the row's index and seed.
func (m *Manifest) Run(r Row) physics.Params {
	p := m.Params.Params
	p.Fields = slices.Clone(p.Fields)
	p.Index, p.Seed = r.Index, r.Seed
	return p
}

// NumTasks returns the number of array tasks of perTask rows each (≥ 1)
// that cover the manifest: task IDs run from 0 to NumTasks−1.
func (m *Manifest) NumTasks(perTask int) int {
	if perTask < 1 {
		panic("campaign: perTask must be at least 1")
	}
	if len(m.Rows) == 0 {
		return 0
	}
	return (len(m.Rows)-1)/perTask + 1 // no overflow for a huge perTask
}

// TaskRows returns the rows array task task runs with perTask rows per
// task: rows task·perTask … task·perTask+perTask−1 (fewer for the last
// task). A task ID outside [0, NumTasks) or perTask < 1 is an error.
func (m *Manifest) TaskRows(task, perTask int) ([]Row, error) {
	if perTask < 1 {
		return nil, fmt.Errorf("%d rows per task: must be at least 1", perTask)
	}
	n := m.NumTasks(perTask)
	if task < 0 || task >= n {
		return nil, fmt.Errorf("task %d: out of range, %d rows at %d per task make tasks 0-%d", task, len(m.Rows), perTask, n-1)
	}
	lo := task * perTask
	return m.Rows[lo:min(lo+perTask, len(m.Rows))], nil
}

// Write writes the manifest in the format described in the package
// documentation. It does not validate m; Plan and Read return valid
// manifests.
func (m *Manifest) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := m.Params
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	bw.WriteString(Version + "\n")
	for _, k := range paramKeys {
		var v string
		switch k {
		case "preset":
			v = p.Preset
		case "campaign_seed":
			v = strconv.FormatUint(p.CampaignSeed, 10)
		default:
			v, _ = p.Get(k)
		}
		bw.WriteString("# " + k + "=" + v + "\n")
	}
	bw.WriteString(Header + "\n")
	for _, r := range m.Rows {
		bw.WriteString(r.ID + "," + r.Class + "," + g(r.Index) + "," + strconv.FormatUint(r.Seed, 10) + "," + r.Split + "\n")
	}
	return bw.Flush()
}

// WriteFile writes m to path atomically: a temporary file in the same
// directory, fsynced, renamed into place, and the directory fsynced, so
// path holds either its old content or the whole new manifest. Without
// force it refuses to replace an existing file.
func WriteFile(path string, m *Manifest, force bool) error {
	return atomicfile.Write(path, force, func(f *os.File) error { return m.Write(f) })
}

// ReadFile reads and validates the manifest at path (see Read).
func ReadFile(path string) (*Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	defer f.Close()
	return Read(f, path)
}

// Read parses and validates a manifest. Errors are one line, a *LineError
// "name:line: what", naming the first problem found: a missing, unknown,
// duplicate or invalid parameter, a wrong header row, a row with the wrong
// number of fields, a bad id, class, index, seed or split, a duplicate id
// or seed (naming the line of the first), or no rows at all.
func Read(r io.Reader, name string) (*Manifest, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	fail := func(ln int, format string, args ...any) error {
		return &LineError{Name: name, Line: ln, Msg: fmt.Sprintf(format, args...)}
	}
	next := func() (string, bool) {
		if !sc.Scan() {
			return "", false
		}
		line++
		return strings.TrimSuffix(sc.Text(), "\r"), true
	}

	text, ok := next()
	if !ok {
		if err := sc.Err(); err != nil {
			return nil, fail(line+1, "%v", err)
		}
		return nil, fail(0, "empty file, want a manifest starting %q", Version)
	}
	if text != Version {
		return nil, fail(line, "got %q, want the manifest version line %q", truncate(text), Version)
	}

	// Parameter lines, up to the header row.
	vals := map[string]string{}
	lines := map[string]int{}
	headerLine := 0
	for {
		text, ok = next()
		if !ok {
			if err := sc.Err(); err != nil {
				return nil, fail(line+1, "%v", err)
			}
			return nil, fail(line, "file ends before the header row %q", Header)
		}
		if !strings.HasPrefix(text, "#") {
			headerLine = line
			break
		}
		key, val, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(text, "#")), "=")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		switch {
		case !ok || key == "":
			return nil, fail(line, "bad parameter line %q, want \"# key=value\"", truncate(text))
		case !slices.Contains(paramKeys, key):
			return nil, fail(line, "unknown parameter %q, want one of %s", truncate(key), strings.Join(paramKeys, ", "))
		case lines[key] != 0:
			return nil, fail(line, "duplicate parameter %q (first on line %d)", key, lines[key])
		}
		vals[key], lines[key] = val, line
	}
	for _, k := range paramKeys {
		if lines[k] == 0 {
			return nil, fail(headerLine, "missing parameter line \"# %s=...\" before the header row", k)
		}
	}
	p, pe := parseParams(vals)
	var fe *physics.Error
	if pe == nil && errors.As(p.Validate(), &fe) {
		pe = &paramError{fe.Field, fe.Msg}
	}
	if pe != nil {
		return nil, fail(lines[pe.key], "%s=%s: %s", pe.key, truncate(vals[pe.key]), pe.msg)
	}

	if err := checkHeader(text); err != nil {
		return nil, fail(headerLine, "%v", err)
	}

	m := &Manifest{Params: p}
	ids := map[string]int{}
	seeds := map[uint64]int{}
	for {
		text, ok = next()
		if !ok {
			break
		}
		row, msg := parseRow(text)
		if msg != "" {
			return nil, fail(line, "%s", msg)
		}
		if first, dup := ids[row.ID]; dup {
			return nil, fail(line, "duplicate id %q (first on line %d)", row.ID, first)
		}
		if first, dup := seeds[row.Seed]; dup {
			return nil, fail(line, "duplicate seed %d (first on line %d): seeds must be distinct", row.Seed, first)
		}
		ids[row.ID], seeds[row.Seed] = line, line
		row.Line = line
		m.Rows = append(m.Rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fail(line+1, "%v", err)
	}
	if len(m.Rows) == 0 {
		return nil, fail(headerLine, "no simulations after the header row")
	}
	return m, nil
}

// checkHeader checks the CSV header row, naming the first wrong column.
func checkHeader(text string) error {
	want := strings.Split(Header, ",")
	got := strings.Split(text, ",")
	for i, w := range want {
		switch {
		case i >= len(got):
			return fmt.Errorf("header row %q: missing column %q, want %q", truncate(text), w, Header)
		case strings.TrimSpace(got[i]) != w:
			if slices.Contains(got, w) {
				return fmt.Errorf("header row %q: column %d is %q, want %q (columns must be %q in this order)", truncate(text), i+1, truncate(got[i]), w, Header)
			}
			return fmt.Errorf("header row %q: missing column %q, want %q", truncate(text), w, Header)
		}
	}
	if len(got) > len(want) {
		return fmt.Errorf("header row %q: extra column %q, want %q", truncate(text), truncate(got[len(want)]), Header)
	}
	return nil
}

var safeID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// maxIDLen bounds ids so that id + ".tsnap" and temporary names stay well
// inside NAME_MAX (255 bytes).
const maxIDLen = 128

// parseRow parses one manifest row; a non-empty msg says what is wrong.
func parseRow(text string) (Row, string) {
	if text == "" {
		return Row{}, "empty line (no blank lines are allowed after the header row)"
	}
	if strings.HasPrefix(text, "#") {
		return Row{}, "comment line after the header row (comments must come before it)"
	}
	f := strings.Split(text, ",")
	if len(f) != 5 {
		return Row{}, fmt.Sprintf("row has %d fields, want 5 (%s)", len(f), Header)
	}
	r := Row{ID: f[0], Class: f[1], Split: f[4]}
	if msg := checkID(r.ID); msg != "" {
		return Row{}, msg
	}
	if !slices.Contains(Classes, r.Class) {
		return Row{}, fmt.Sprintf("id %s: unknown class %q, want %s", r.ID, truncate(r.Class), strings.Join(Classes, ", "))
	}
	x, err := strconv.ParseFloat(f[2], 64)
	if err != nil {
		return Row{}, fmt.Sprintf("id %s: index %q is not a number", r.ID, truncate(f[2]))
	}
	if msg := checkIndex(r.Class, x); msg != "" {
		return Row{}, fmt.Sprintf("id %s: %s", r.ID, msg)
	}
	r.Index = x
	if r.Seed, err = strconv.ParseUint(f[3], 10, 64); err != nil {
		return Row{}, fmt.Sprintf("id %s: seed %q is not an unsigned 64-bit decimal integer", r.ID, truncate(f[3]))
	}
	if !slices.Contains(Splits, r.Split) {
		return Row{}, fmt.Sprintf("id %s: unknown split %q, want %s", r.ID, truncate(r.Split), strings.Join(Splits, ", "))
	}
	return r, ""
}

// checkID says what is wrong with an id, or returns "".
func checkID(id string) string {
	switch {
	case id == "":
		return "empty id"
	case len(id) > maxIDLen:
		return fmt.Sprintf("id %q is longer than %d bytes", truncate(id), maxIDLen)
	case !safeID.MatchString(id):
		return fmt.Sprintf("id %q is not a safe file name (want letters, digits, '.', '_', '-', starting with a letter or digit)", truncate(id))
	}
	return ""
}

// checkIndex says what is wrong with a row's spectral index, or returns "".
func checkIndex(class string, x float64) string {
	switch {
	case !(x >= physics.MinIndex && x <= physics.MaxIndex):
		return fmt.Sprintf("index %g: spectral index must be in [%g, %g]", x, physics.MinIndex, physics.MaxIndex)
	case class == Kolmogorov && x != KolmogorovIndex:
		return fmt.Sprintf("index %g: a kolmogorov row has index 11/3 (%s)", x, strconv.FormatFloat(KolmogorovIndex, 'g', -1, 64))
	case class == Burgers && x != BurgersIndex:
		return fmt.Sprintf("index %g: a burgers row has index 4", x)
	}
	return ""
}

// truncate shortens s for an error message.
func truncate(s string) string {
	const n = 60
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// paramError is an invalid campaign parameter.
type paramError struct{ key, msg string }

// parseParams converts the parameter values; a value that does not parse
// is a paramError.
func parseParams(v map[string]string) (Params, *paramError) {
	var p Params
	p.Preset = v["preset"]
	var err error
	if p.CampaignSeed, err = strconv.ParseUint(v["campaign_seed"], 10, 64); err != nil {
		return p, &paramError{"campaign_seed", "not an unsigned 64-bit decimal integer"}
	}
	for _, k := range paramKeys[2:] {
		if err := p.Set(k, v[k]); err != nil {
			return p, &paramError{k, err.Error()}
		}
	}
	return p, nil
}

var safePreset = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Validate returns a *physics.Error for the first invalid parameter: a
// preset that is not a safe name, or what physics.Params.Validate refuses.
func (p Params) Validate() error {
	if !safePreset.MatchString(p.Preset) {
		return &physics.Error{Field: "preset", Value: strconv.Quote(p.Preset), Msg: "want a name of letters, digits, '.', '_', '-'"}
	}
	// The rows' indices are checked with their rows; any valid one stands
	// in for them here.
	box := p.Params
	box.Index = KolmogorovIndex
	return box.Validate()
}
