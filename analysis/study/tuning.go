package study

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/turbindex/turbindex/analysis/report"
	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/internal/atomicfile"
	"github.com/turbindex/turbindex/train/experiment"
	"github.com/turbindex/turbindex/train/search"
)

// copyFigure copies the figure name of directory dir into the report, as
// file, and adds it with its caption.
func (s *state) copyFigure(dir, name, file, caption string) error {
	raw, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(filepath.Join(s.o.Out, file), raw); err != nil {
		return err
	}
	s.figure(file, caption)
	return nil
}

// transfer reports the transfer-learning study of `train transfer` in
// Options.Transfer: holdout scores against the fraction of training
// simulations, for the transferred network and the one trained from
// scratch, and their learning curves.
func (s *state) transfer() error {
	dir := s.o.Transfer
	if dir == "" {
		return nil
	}
	task, rows, err := experiment.ReadTransferCSV(filepath.Join(dir, "transfer.csv"))
	if err != nil {
		return err
	}
	score, score2 := "accuracy", "auc"
	if task == experiment.Regress {
		score, score2 = "mse", "r2"
	}
	t := report.Table{Title: "Transfer learning (" + task + "): holdout, against the fraction of training simulations",
		Columns: []string{"fraction", "train_simulations", score, score2}}
	for _, r := range rows {
		t.Rows = append(t.Rows, report.Row{Method: fmt.Sprintf("%s, %.0f %%", r.Init, 100*r.Fraction),
			Values: map[string]float64{"fraction": r.Fraction, "train_simulations": float64(r.TrainSims), score: r.Score, score2: r.Score2}})
	}
	s.r.Tables = append(s.r.Tables, t)
	if err := s.copyFigure(dir, "transfer_holdout.png", "transfer_holdout.png",
		"Transfer learning: the "+task+" task learnt from a network whose convolution blocks come from a network trained on the other task, "+
			"against the same network trained from scratch, on 10 %, 30 % and 100 % of the training simulations (whole simulations per class); "+
			"holdout score of each run's best model (lowest validation loss)."); err != nil {
		return err
	}
	return s.copyFigure(dir, "transfer_curves.png", "transfer_curves.png",
		"Transfer learning: validation curves of the runs above, by fraction of the training simulations and start.")
}

// search reports the hyper-parameter search in Options.Search: every trial
// ranked on the validation split, the figure of the validation score
// against each hyper-parameter, and the winner's holdout score beside the
// default network's (the first run of Options.CNN, evaluated by train eval).
func (s *state) search() error {
	dir := s.o.Search
	if dir == "" {
		return nil
	}
	results, w, err := search.ReadSummary(dir)
	if err != nil {
		return err
	}
	trials := report.Table{Title: "Hyper-parameter search: trials ranked on the validation split",
		Columns: []string{"rank", "lr", "dropout", "batch", "epochs", "best_epoch", "val_loss", "val_score"}}
	order := make([]search.Result, len(results))
	for _, r := range results {
		order[r.Rank-1] = r
	}
	for _, r := range order {
		trials.Rows = append(trials.Rows, report.Row{
			Method: fmt.Sprintf("trial %d: filters %s, dense %s", r.Index, search.Layers(r.Filters), search.Layers(r.Dense)),
			Values: map[string]float64{"rank": float64(r.Rank), "lr": r.LR, "dropout": r.Dropout, "batch": float64(r.Batch),
				"epochs": float64(r.Epochs), "best_epoch": float64(r.BestEpoch), "val_loss": r.ValLoss, "val_score": r.ValScore}})
	}
	hold := report.Table{Title: "Hyper-parameter search: the winner against the default network on the holdout",
		Columns: []string{"accuracy", "auc", "per_sim_accuracy", "images"}}
	add := func(name string, m *experiment.Metrics) {
		if m != nil && m.Images != nil && m.Split == campaign.Holdout {
			hold.Rows = append(hold.Rows, report.Row{Method: name, Values: map[string]float64{"accuracy": m.Images.Accuracy,
				"auc": m.Images.AUC, "per_sim_accuracy": m.PerSim.Accuracy, "images": float64(m.Images.N)}})
		}
	}
	add(fmt.Sprintf("search winner (trial %d)", w.Trial), w.Holdout)
	if len(s.o.CNN) > 0 {
		var m experiment.Metrics
		if raw, err := os.ReadFile(filepath.Join(s.o.CNN[0], "metrics.json")); err == nil && json.Unmarshal(raw, &m) == nil {
			add("default network (first --cnn run)", &m)
		}
	}
	s.r.Tables = append(s.r.Tables, trials)
	if len(hold.Rows) > 0 {
		s.r.Tables = append(s.r.Tables, hold)
	}
	return s.copyFigure(dir, "search.png", "search.png", fmt.Sprintf(
		"Hyper-parameter search: validation score of each of the %d trials against each hyper-parameter (winner in red); "+
			"the winner alone was evaluated on the holdout.", len(results)))
}
