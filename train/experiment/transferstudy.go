package experiment

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/train/cnn"
	"github.com/turbindex/turbindex/train/plots"
)

// TransferStudy compares a network that starts from another run's
// convolution blocks with one trained from scratch, at several fractions
// of the training simulations (the talk's "transfer learning from the
// regression problem to this one").
type TransferStudy struct {
	// Source is the run whose best model's convolution blocks are
	// transferred; its network (filters, dense sizes, dropout, learning
	// rate, batch), image size, standardisation, campaign and cache are
	// those of every run of the study.
	Source string
	// Task is the task learnt (Classify or Regress); "" means the other
	// task than the source's.
	Task string
	// Fractions are the fractions of the training simulations, each in
	// (0, 1].
	Fractions []float64
	// Epochs of every run.
	Epochs int
	// Freeze is cnn.FreezeConv to train only the dense head of the
	// transferred network, or cnn.FreezeNone to fine-tune everything.
	Freeze string
	// Seed of initialisation, dropout and shuffling, the same for all runs.
	Seed uint64
}

// TransferRow is one line of transfer.csv: one run of the study, scored on
// the holdout.
type TransferRow struct {
	Fraction  float64 // fraction of the training simulations
	Init      string  // "transfer" or "scratch"
	TrainSims int     // training simulations learnt from
	// Score is the holdout accuracy (classify) or MSE of n (regress) of the
	// run's best model; Score2 its AUC (classify) or R² (regress).
	Score, Score2 float64
}

// Names of the two starts compared.
const (
	InitTransfer = "transfer"
	InitScratch  = "scratch"
)

// RunTransfer runs (or completes: finished runs are kept) the study into
// out: a run directory per fraction and start (f0.10-transfer, ...), each
// evaluated on the holdout, then transfer.csv (holdout scores),
// transfer_curves.csv (validation curves), transfer_holdout.png and
// transfer_curves.png.
func RunTransfer(ctx context.Context, out string, st TransferStudy, opt FitOptions) ([]TransferRow, error) {
	src, err := ReadConfig(st.Source)
	if err != nil {
		return nil, fmt.Errorf("transfer source: %w", err)
	}
	abs, err := filepath.Abs(st.Source)
	if err != nil {
		return nil, err
	}
	if st.Task == "" {
		st.Task = Classify
		if src.Task == Classify {
			st.Task = Regress
		}
	}
	if st.Task != Classify && st.Task != Regress {
		return nil, fmt.Errorf("transfer: task %q: want %s or %s", st.Task, Classify, Regress)
	}
	if len(st.Fractions) == 0 {
		return nil, errors.New("transfer: no training fractions")
	}
	for _, f := range st.Fractions {
		if !(f > 0 && f <= 1) {
			return nil, fmt.Errorf("transfer: fraction %v: want a fraction in (0, 1]", f)
		}
	}
	m, err := campaign.ReadFile(src.Manifest)
	if err != nil {
		return nil, err
	}
	perClass := map[string]int{}
	for _, r := range m.Rows {
		if r.Split == campaign.Train {
			perClass[r.Class]++
		}
	}
	if err := os.MkdirAll(out, 0o777); err != nil {
		return nil, err
	}
	var rows []TransferRow
	curves := [][]string{{"fraction", "init", "epoch", "train_loss", "val_loss", "val_acc"}}
	for _, f := range st.Fractions {
		sims := 0
		for _, c := range classesFor(st.Task) {
			sims += fractionCount(perClass[c], f)
		}
		for _, init := range []string{InitTransfer, InitScratch} {
			cfg := Config{Task: st.Task, Manifest: src.Manifest, Snapshots: src.Snapshots, Cache: src.Cache,
				ImageSize: src.ImageSize, Normalise: src.Normalise, Epochs: st.Epochs, Seed: st.Seed, TrainFraction: f}
			cfg.CNN = src.CNN
			cfg.CNN.Task, cfg.CNN.Seed, cfg.CNN.Freeze = st.Task, st.Seed, cnn.FreezeNone
			if init == InitTransfer {
				cfg.InitFrom, cfg.CNN.Freeze = abs, st.Freeze
			}
			dir := filepath.Join(out, fmt.Sprintf("f%.2f-%s", f, init))
			if opt.Log != nil {
				opt.Log.Info("transfer study", "run", dir, "fraction", f, "init", init, "train_simulations", sims)
			}
			if _, err := EnsureFit(ctx, dir, cfg, opt); err != nil {
				return nil, err
			}
			met, err := Eval(dir, campaign.Holdout, opt.Log)
			if err != nil {
				return nil, err
			}
			row := TransferRow{Fraction: f, Init: init, TrainSims: sims}
			if met.Images != nil {
				row.Score, row.Score2 = met.Images.Accuracy, met.Images.AUC
			} else {
				row.Score, row.Score2 = met.RegImg.MSE, met.RegImg.R2
			}
			rows = append(rows, row)
			h, err := ReadHistory(dir)
			if err != nil {
				return nil, err
			}
			for _, e := range h[:st.Epochs] {
				curves = append(curves, []string{ftoa(f), init, strconv.Itoa(e.Epoch), ftoa(e.TrainLoss), ftoa(e.ValLoss), ftoa(e.ValAcc)})
			}
		}
	}
	if err := writeCSV(filepath.Join(out, "transfer_curves.csv"), curves); err != nil {
		return nil, err
	}
	if err := WriteTransferCSV(filepath.Join(out, "transfer.csv"), st.Task, rows); err != nil {
		return nil, err
	}
	return rows, transferFigures(out, st, rows, curves[1:])
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }

func writeCSV(path string, records [][]string) error {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.WriteAll(records); err != nil {
		return err
	}
	return writeFile(path, b.Bytes())
}

// transferScoreNames are the columns of transfer.csv's two scores.
func transferScoreNames(task string) [2]string {
	if task == Regress {
		return [2]string{"holdout_mse", "holdout_r2"}
	}
	return [2]string{"holdout_accuracy", "holdout_auc"}
}

// WriteTransferCSV writes transfer.csv: fraction, init, train_simulations
// and the two holdout scores of the task.
func WriteTransferCSV(path, task string, rows []TransferRow) error {
	n := transferScoreNames(task)
	rec := [][]string{{"fraction", "init", "train_simulations", n[0], n[1]}}
	for _, r := range rows {
		rec = append(rec, []string{ftoa(r.Fraction), r.Init, strconv.Itoa(r.TrainSims), ftoa(r.Score), ftoa(r.Score2)})
	}
	return writeCSV(path, rec)
}

func transferFigures(out string, st TransferStudy, rows []TransferRow, curves [][]string) error {
	var x []float64
	series := map[string][]float64{}
	label := map[string]string{InitTransfer: "transfer from the " + otherTask(st.Task), InitScratch: "from scratch"}
	if st.Freeze == cnn.FreezeConv {
		label[InitTransfer] += " (conv frozen)"
	}
	for _, r := range rows {
		if r.Init == InitTransfer {
			x = append(x, 100*r.Fraction)
		}
		series[label[r.Init]] = append(series[label[r.Init]], r.Score)
	}
	ylabel := "holdout accuracy"
	vlabel := "validation accuracy"
	if st.Task == Regress {
		ylabel, vlabel = "holdout MSE of n", "validation MSE of n"
	}
	if err := plots.Lines(filepath.Join(out, "transfer_holdout.png"), x, series, "training simulations (%)", ylabel,
		"Transfer learning: "+st.Task); err != nil {
		return err
	}
	epochs := make([]float64, st.Epochs)
	for i := range epochs {
		epochs[i] = float64(i + 1)
	}
	cs := map[string][]float64{}
	for _, c := range curves {
		f, _ := strconv.ParseFloat(c[0], 64)
		v, _ := strconv.ParseFloat(c[5], 64)
		name := fmt.Sprintf("%3.0f %% %s", 100*f, c[1])
		cs[name] = append(cs[name], v)
	}
	return plots.Lines(filepath.Join(out, "transfer_curves.png"), epochs, cs, "epoch", vlabel, "Learning curves")
}

func otherTask(task string) string {
	if task == Classify {
		return "regressor"
	}
	return "classifier"
}

// ReadTransferCSV reads a transfer.csv written by RunTransfer, returning the
// task it scores (from its header) and its rows.
func ReadTransferCSV(path string) (string, []TransferRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = 5
	recs, err := r.ReadAll()
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) < 2 {
		return "", nil, fmt.Errorf("%s: no rows", path)
	}
	task := ""
	for _, t := range []string{Classify, Regress} {
		n := transferScoreNames(t)
		if fmt.Sprint(recs[0]) == fmt.Sprint([]string{"fraction", "init", "train_simulations", n[0], n[1]}) {
			task = t
		}
	}
	if task == "" {
		return "", nil, fmt.Errorf("%s: header %v is not transfer.csv's", path, recs[0])
	}
	var rows []TransferRow
	for i, rec := range recs[1:] {
		var row TransferRow
		var errs []error
		var err error
		row.Fraction, err = strconv.ParseFloat(rec[0], 64)
		errs = append(errs, err)
		row.Init = rec[1]
		if row.Init != InitTransfer && row.Init != InitScratch {
			errs = append(errs, fmt.Errorf("init %q: want %s or %s", rec[1], InitTransfer, InitScratch))
		}
		row.TrainSims, err = strconv.Atoi(rec[2])
		errs = append(errs, err)
		row.Score, err = strconv.ParseFloat(rec[3], 64)
		errs = append(errs, err)
		row.Score2, err = strconv.ParseFloat(rec[4], 64)
		errs = append(errs, err)
		if err := errors.Join(errs...); err != nil {
			return "", nil, fmt.Errorf("%s:%d: %w", path, i+2, err)
		}
		rows = append(rows, row)
	}
	return task, rows, nil
}
