package study

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/turbindex/turbindex/analysis/report"
	"github.com/turbindex/turbindex/train/experiment"
	"github.com/turbindex/turbindex/train/plots"
	"github.com/turbindex/turbindex/train/search"
)

// TestTransferStage reads a transfer study's table and figures into the
// report.
func TestTransferStage(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	rows := []experiment.TransferRow{
		{Fraction: 0.1, Init: experiment.InitTransfer, TrainSims: 4, Score: 0.8, Score2: 0.9},
		{Fraction: 0.1, Init: experiment.InitScratch, TrainSims: 4, Score: 0.6, Score2: 0.7},
		{Fraction: 1, Init: experiment.InitTransfer, TrainSims: 32, Score: 0.95, Score2: 0.99},
		{Fraction: 1, Init: experiment.InitScratch, TrainSims: 32, Score: 0.97, Score2: 1},
	}
	if err := experiment.WriteTransferCSV(filepath.Join(dir, "transfer.csv"), experiment.Classify, rows); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"transfer_holdout.png", "transfer_curves.png"} {
		if err := plots.Lines(filepath.Join(dir, f), []float64{10, 100}, map[string][]float64{f: {0.8, 0.95}}, "x", "y", f); err != nil {
			t.Fatal(err)
		}
	}
	s := &state{o: Options{Out: out, Transfer: dir}, r: &report.Report{}}
	if err := s.transfer(); err != nil {
		t.Fatal(err)
	}
	if len(s.r.Tables) != 1 || len(s.r.Tables[0].Rows) != 4 {
		t.Fatalf("tables %+v", s.r.Tables)
	}
	for i, r := range s.r.Tables[0].Rows {
		if r.Values["accuracy"] != rows[i].Score || r.Values["auc"] != rows[i].Score2 || r.Values["train_simulations"] != float64(rows[i].TrainSims) ||
			!strings.HasPrefix(r.Method, rows[i].Init) {
			t.Errorf("row %d: %+v, want %+v", i, r, rows[i])
		}
	}
	if len(s.r.Figures) != 2 {
		t.Errorf("figures %+v", s.r.Figures)
	}
	for _, f := range s.r.Figures {
		a, _ := os.ReadFile(filepath.Join(dir, f.File))
		b, err := os.ReadFile(filepath.Join(out, f.File))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s not copied into the report: %v", f.File, err)
		}
	}

	// Nothing asked for: nothing added. A search that was not summarised: an error saying so.
	s = &state{o: Options{Out: out}, r: &report.Report{}}
	if s.transfer() != nil || s.search() != nil || len(s.r.Tables)+len(s.r.Figures) != 0 {
		t.Errorf("no --transfer, --search: %+v", s.r)
	}
	if err := search.Plan(dir, search.Setup{Task: experiment.Classify}, []search.Trial{{LR: 1e-3, Filters: []int{4}, Batch: 8, Epochs: 1}}); err != nil {
		t.Fatal(err)
	}
	s.o.Search = dir
	if err := s.search(); err == nil || !strings.Contains(err.Error(), "not summarised") {
		t.Errorf("unsummarised search: %v", err)
	}
}
