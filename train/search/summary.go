package search

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/internal/atomicfile"
	"github.com/turbindex/turbindex/train/experiment"
	"github.com/turbindex/turbindex/train/plots"
)

// Result is one finished trial, scored on the validation (test) split at
// its best epoch: the one with the lowest validation loss, whose model is
// the run's best.cnn.
type Result struct {
	Trial
	BestEpoch int
	ValLoss   float64
	// ValScore is the validation accuracy (classify) or MSE of n (regress).
	ValScore float64
	Seconds  float64 // training time, all epochs
	Rank     int     // 1 for the winner
}

// Winner is winner.json: the best trial and its holdout metrics, the
// only holdout evaluation of the search.
type Winner struct {
	Trial     int                 `json:"trial"`
	Run       string              `json:"run"`
	LR        float64             `json:"lr"`
	Dropout   float64             `json:"dropout"`
	Filters   []int               `json:"filters"`
	Dense     []int               `json:"dense"`
	Batch     int                 `json:"batch"`
	Epochs    int                 `json:"epochs"`
	BestEpoch int                 `json:"best_epoch"`
	ValLoss   float64             `json:"val_loss"`
	ValScore  float64             `json:"val_score"` // accuracy (classify) or MSE (regress)
	Holdout   *experiment.Metrics `json:"holdout"`
}

// better reports whether a beats b: a higher validation accuracy (classify)
// or lower MSE (regress), then a lower validation loss, then the lower
// trial number.
func better(task string, a, b Result) bool {
	if a.ValScore != b.ValScore {
		return (a.ValScore > b.ValScore) == (task != experiment.Regress)
	}
	if a.ValLoss != b.ValLoss {
		return a.ValLoss < b.ValLoss
	}
	return a.Index < b.Index
}

// Summarise ranks the finished trials of the search in dir on the
// validation split, writes summary.csv and search.png, evaluates the winner
// (and only the winner) on the holdout and writes winner.json. It refuses
// while a trial is unfinished, listing them for resubmission.
func Summarise(dir string, log *slog.Logger) ([]Result, *Winner, error) {
	setup, trials, err := ReadPlan(dir)
	if err != nil {
		return nil, nil, err
	}
	var results []Result
	var missing []string
	for _, t := range trials {
		h, err := experiment.ReadHistory(TrialDir(dir, t.Index))
		if os.IsNotExist(err) || (err == nil && len(h) < t.Epochs) {
			missing = append(missing, strconv.Itoa(t.Index))
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		r := Result{Trial: t}
		best := h[0]
		for _, e := range h[:t.Epochs] {
			if e.ValLoss < best.ValLoss {
				best = e
			}
			r.Seconds += e.Seconds
		}
		r.BestEpoch, r.ValLoss, r.ValScore = best.Epoch, best.ValLoss, best.ValAcc
		results = append(results, r)
	}
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("search %s: %d of %d trials are not finished: run them (train search --trial I, or resubmit --array=%s)",
			dir, len(missing), len(trials), strings.Join(missing, ","))
	}
	order := make([]int, len(results))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if better(setup.Task, results[a], results[b]) {
			return -1
		}
		if better(setup.Task, results[b], results[a]) {
			return 1
		}
		return 0
	})
	for rank, i := range order {
		results[i].Rank = rank + 1
	}
	win := results[order[0]]
	if err := writeSummary(dir, setup.Task, results); err != nil {
		return nil, nil, err
	}
	if err := figure(dir, setup.Task, results, order[0]); err != nil {
		return nil, nil, err
	}
	run := TrialDir(dir, win.Index)
	if log != nil {
		log.Info("search winner", "trial", win.Index, "val_score", win.ValScore, "val_loss", win.ValLoss)
	}
	m, err := experiment.Eval(run, campaign.Holdout, log)
	if err != nil {
		return nil, nil, err
	}
	w := &Winner{Trial: win.Index, Run: run, LR: win.LR, Dropout: win.Dropout, Filters: win.Filters, Dense: win.Dense,
		Batch: win.Batch, Epochs: win.Epochs, BestEpoch: win.BestEpoch, ValLoss: win.ValLoss, ValScore: win.ValScore, Holdout: m}
	js, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	return results, w, atomicfile.WriteBytes(filepath.Join(dir, winnerFile), append(js, '\n'))
}

// scoreName is the validation score's name for a task.
func scoreName(task string) string {
	if task == experiment.Regress {
		return "val_mse"
	}
	return "val_accuracy"
}

func writeSummary(dir, task string, results []Result) error {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(append(slices.Clone(trialsHeader), "best_epoch", "val_loss", scoreName(task), "seconds", "rank"))
	for _, r := range results {
		w.Write([]string{strconv.Itoa(r.Index), fmtFloat(r.LR), fmtFloat(r.Dropout), joinInts(r.Filters), joinInts(r.Dense),
			strconv.Itoa(r.Batch), strconv.Itoa(r.Epochs), strconv.Itoa(r.BestEpoch), fmtFloat(r.ValLoss), fmtFloat(r.ValScore),
			strconv.FormatFloat(r.Seconds, 'f', 1, 64), strconv.Itoa(r.Rank)})
	}
	w.Flush()
	return atomicfile.WriteBytes(filepath.Join(dir, summaryFile), b.Bytes())
}

// figure draws the validation score of every trial against each
// hyper-parameter, the winner highlighted.
func figure(dir, task string, results []Result, best int) error {
	num := func(name string, log bool, f func(Result) float64) plots.Panel {
		p := plots.Panel{Title: name, Log: log, Highlight: best}
		for _, r := range results {
			p.X, p.Y = append(p.X, f(r)), append(p.Y, r.ValScore)
		}
		return p
	}
	cat := func(name string, f func(Result) string) plots.Panel {
		p := plots.Panel{Title: name, Highlight: best}
		var labels []string
		for _, r := range results {
			l := f(r)
			if !slices.Contains(labels, l) {
				labels = append(labels, l)
			}
		}
		slices.SortFunc(labels, func(a, b string) int { return cmpLayers(a, b) })
		p.Labels = labels
		for _, r := range results {
			p.X, p.Y = append(p.X, float64(slices.Index(labels, f(r)))), append(p.Y, r.ValScore)
		}
		return p
	}
	panels := []plots.Panel{
		num("learning rate", true, func(r Result) float64 { return r.LR }),
		num("dropout", false, func(r Result) float64 { return r.Dropout }),
		cat("filters", func(r Result) string { return Layers(r.Filters) }),
		cat("dense", func(r Result) string { return Layers(r.Dense) }),
		num("batch", true, func(r Result) float64 { return float64(r.Batch) }),
		num("epochs", false, func(r Result) float64 { return float64(r.Epochs) }),
	}
	ylabel := "validation accuracy"
	if task == experiment.Regress {
		ylabel = "validation MSE of n"
	}
	return plots.Panels(filepath.Join(dir, figureFile), panels, 3, ylabel)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// cmpLayers orders layer lists like "8-16" by their total width, then as
// text.
func cmpLayers(a, b string) int {
	sum := func(s string) float64 {
		t := 0.0
		for _, f := range strings.Split(s, "-") {
			v, _ := strconv.Atoi(f)
			t += float64(v)
		}
		return t
	}
	if d := sum(a) - sum(b); d != 0 {
		return int(math.Copysign(1, d))
	}
	return strings.Compare(a, b)
}

// ReadSummary reads the summary.csv and winner.json that Summarise wrote
// into the search directory dir.
func ReadSummary(dir string) ([]Result, *Winner, error) {
	_, trials, err := ReadPlan(dir)
	if err != nil {
		return nil, nil, err
	}
	path := filepath.Join(dir, winnerFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("search %s is not summarised (train search --summarise --out %s): %w", dir, dir, err)
	}
	var w Winner
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	path = filepath.Join(dir, summaryFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = len(trialsHeader) + 5
	recs, err := r.ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) != len(trials)+1 {
		return nil, nil, fmt.Errorf("%s: %d trials, the plan has %d", path, len(recs)-1, len(trials))
	}
	var out []Result
	for i, rec := range recs[1:] {
		t, err := parseTrial(rec[:len(trialsHeader)])
		if err != nil {
			return nil, nil, fmt.Errorf("%s:%d: %w", path, i+2, err)
		}
		res := Result{Trial: t}
		var errs []error
		for j, p := range []*float64{&res.ValLoss, &res.ValScore, &res.Seconds} {
			*p, err = strconv.ParseFloat(rec[len(trialsHeader)+1+j], 64)
			errs = append(errs, err)
		}
		res.BestEpoch, err = strconv.Atoi(rec[len(trialsHeader)])
		errs = append(errs, err)
		res.Rank, err = strconv.Atoi(rec[len(trialsHeader)+4])
		errs = append(errs, err)
		if err := errors.Join(errs...); err != nil {
			return nil, nil, fmt.Errorf("%s:%d: %w", path, i+2, err)
		}
		out = append(out, res)
	}
	return out, &w, nil
}

// Layers formats layer widths as in the summary's figure: "16-32-64-64",
// "none" for no layer.
func Layers(widths []int) string { return orNone(strings.ReplaceAll(joinInts(widths), " ", "-")) }
