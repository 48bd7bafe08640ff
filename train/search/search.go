package search

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/internal/atomicfile"
	"github.com/turbindex/turbindex/train/cnn"
	"github.com/turbindex/turbindex/train/dataset"
	"github.com/turbindex/turbindex/train/experiment"
)

// Setup is what every trial of a search shares (search.json): the data and
// the task. The trials' hyper-parameters are in trials.csv.
type Setup struct {
	Task      string `json:"task"`
	Manifest  string `json:"manifest"`  // absolute path of the campaign manifest
	Snapshots string `json:"snapshots"` // absolute path of the snapshot directory
	Cache     string `json:"cache,omitempty"`
	ImageSize int    `json:"image_size"` // pixels; 0 = N/2
	// Normalise is how the images are scaled (dataset.Normalisation; ""
	// means the training set's statistics).
	Normalise dataset.Normalisation `json:"normalise,omitempty"`
	Seed      uint64                `json:"seed"` // initialisation, dropout and shuffling of every trial
	Space     string                `json:"space"`
	Method    string                `json:"method"`
}

// A search directory holds search.json, trials.csv, the trial runs
// trial-0000, trial-0001, ... and, after Summarise, summary.csv,
// search.png and winner.json.
const (
	setupFile   = "search.json"
	trialsFile  = "trials.csv"
	summaryFile = "summary.csv"
	figureFile  = "search.png"
	winnerFile  = "winner.json"
)

var trialsHeader = []string{"trial", "lr", "dropout", "filters", "dense", "batch", "epochs"}

// TrialDir is the run directory of trial i of the search in dir.
func TrialDir(dir string, i int) string { return filepath.Join(dir, trialName(i)) }

func trialName(i int) string { return fmt.Sprintf("trial-%04d", i) }

// Plan writes the search's setup and trial manifest into dir. Planning the
// same search again is a no-op; a directory that holds another search is
// refused.
func Plan(dir string, setup Setup, trials []Trial) error {
	js, err := json.MarshalIndent(setup, "", "  ")
	if err != nil {
		return err
	}
	js = append(js, '\n')
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(trialsHeader)
	for _, t := range trials {
		w.Write([]string{strconv.Itoa(t.Index), fmtFloat(t.LR), fmtFloat(t.Dropout), joinInts(t.Filters), joinInts(t.Dense),
			strconv.Itoa(t.Batch), strconv.Itoa(t.Epochs)})
	}
	w.Flush()
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	oldJS, err1 := os.ReadFile(filepath.Join(dir, setupFile))
	oldCSV, err2 := os.ReadFile(filepath.Join(dir, trialsFile))
	if err1 == nil || err2 == nil {
		if bytes.Equal(oldJS, js) && bytes.Equal(oldCSV, b.Bytes()) {
			return nil
		}
		return fmt.Errorf("%s already holds another search (its %s or %s differ): remove it or use another --out", dir, setupFile, trialsFile)
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, trialsFile), b.Bytes()); err != nil {
		return err
	}
	// search.json last: its presence marks a complete plan.
	return atomicfile.WriteBytes(filepath.Join(dir, setupFile), js)
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, " ")
}

// ReadPlan reads the setup and trials of the search in dir.
func ReadPlan(dir string) (Setup, []Trial, error) {
	var setup Setup
	path := filepath.Join(dir, setupFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		return setup, nil, fmt.Errorf("search %s: %w (plan it with train search --space ... --out %s)", dir, err, dir)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&setup); err != nil {
		return setup, nil, fmt.Errorf("%s: %w", path, err)
	}
	path = filepath.Join(dir, trialsFile)
	f, err := os.Open(path)
	if err != nil {
		return setup, nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = len(trialsHeader)
	recs, err := r.ReadAll()
	if err != nil {
		return setup, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) < 2 || !slices.Equal(recs[0], trialsHeader) {
		return setup, nil, fmt.Errorf("%s: want the header %s and at least one trial", path, strings.Join(trialsHeader, ","))
	}
	var trials []Trial
	for i, rec := range recs[1:] {
		t, err := parseTrial(rec)
		if err == nil && t.Index != i {
			err = fmt.Errorf("trial %d, want %d", t.Index, i)
		}
		if err != nil {
			return setup, nil, fmt.Errorf("%s:%d: %w", path, i+2, err)
		}
		trials = append(trials, t)
	}
	return setup, trials, nil
}

func parseTrial(rec []string) (Trial, error) {
	var t Trial
	var errs []error
	num := func(s string, lo, hi float64) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || !(v >= lo && v <= hi) {
			errs = append(errs, fmt.Errorf("%q: want a number in [%v, %v]", s, lo, hi))
		}
		return v
	}
	ints := func(s string, minLen int) []int {
		out := []int{}
		for _, f := range strings.Fields(s) {
			out = append(out, int(num(f, 1, maxWidth)))
		}
		if len(out) < minLen || len(out) > maxLayers {
			errs = append(errs, fmt.Errorf("%q: want %d to %d layer widths", s, minLen, maxLayers))
		}
		return out
	}
	t.Index = int(num(rec[0], 0, MaxTrials-1))
	t.LR = num(rec[1], math.SmallestNonzeroFloat64, 10)
	t.Dropout = num(rec[2], 0, 0.999999)
	t.Filters = ints(rec[3], 1)
	t.Dense = ints(rec[4], 0)
	t.Batch = int(num(rec[5], 1, maxBatch))
	t.Epochs = int(num(rec[6], 1, maxEpochs))
	for _, s := range []string{rec[0], rec[5], rec[6]} {
		if strings.ContainsAny(s, ".eE") {
			errs = append(errs, fmt.Errorf("%q is not an integer", s))
		}
	}
	return t, errors.Join(errs...)
}

// Config is the training run of trial t.
func (s Setup) Config(t Trial) experiment.Config {
	cfg := experiment.Config{Task: s.Task, Manifest: s.Manifest, Snapshots: s.Snapshots, Cache: s.Cache,
		ImageSize: s.ImageSize, Normalise: s.Normalise, Epochs: t.Epochs, Seed: s.Seed}
	cfg.CNN = cnn.DefaultConfig(s.Task, s.ImageSize)
	cfg.CNN.Filters, cfg.CNN.Dense = slices.Clone(t.Filters), slices.Clone(t.Dense)
	cfg.CNN.Dropout, cfg.CNN.LearnRate, cfg.CNN.Batch, cfg.CNN.Seed = t.Dropout, t.LR, t.Batch, s.Seed
	return cfg
}

// RunTrial trains trial i of the search in dir, or finishes it: a finished
// trial is left alone, an interrupted one resumes from its last epoch. A
// lock file keeps two tasks from running the same trial at once. It
// reports whether it trained.
func RunTrial(ctx context.Context, dir string, i int, opt experiment.FitOptions) (bool, error) {
	setup, trials, err := ReadPlan(dir)
	if err != nil {
		return false, err
	}
	if i < 0 || i >= len(trials) {
		return false, fmt.Errorf("trial %d: the search in %s has trials 0 to %d", i, dir, len(trials)-1)
	}
	lock, err := campaign.AcquireLock(dir, trialName(i))
	if err != nil {
		return false, err
	}
	defer lock.Release()
	if opt.Log != nil {
		t := trials[i]
		opt.Log.Info("search trial", "trial", i, "lr", t.LR, "dropout", t.Dropout, "filters", joinInts(t.Filters),
			"dense", joinInts(t.Dense), "batch", t.Batch, "epochs", t.Epochs)
	}
	return experiment.EnsureFit(ctx, TrialDir(dir, i), setup.Config(trials[i]), opt)
}
