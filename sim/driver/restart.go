package driver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/turbindex/turbindex/sim/checkpoint"
	"github.com/turbindex/turbindex/sim/comm"
	"github.com/turbindex/turbindex/sim/hydro"
	"github.com/turbindex/turbindex/sim/mesh"
	"github.com/turbindex/turbindex/sim/snapshot"
)

// ErrCheckpointed is returned (wrapped) by a run that was asked to stop,
// saved its state to its checkpoint and stopped: run it again to resume.
var ErrCheckpointed = errors.New("checkpoint written; run again to resume")

// bookkeeping is what a run carries across restarts besides the fields.
type bookkeeping struct {
	wall          float64 // wall seconds of earlier segments
	restarts      int
	massStart     float64
	momentumStart [3]float64
	momentumScale float64
}

// params is the run's identity in checkpoints and snapshot headers: its
// configuration without the execution settings.
func params(cfg Config) json.RawMessage {
	js, _ := json.Marshal(cfg)
	return js
}

// resume loads the checkpoint at path into s if it exists. It reports
// whether it did; a checkpoint of another configuration is an error.
func resume(path string, cfg Config, s *hydro.Solver) (bool, bookkeeping, error) {
	var bk bookkeeping
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return false, bk, nil
	}
	f, err := checkpoint.Open(path)
	if err != nil {
		return false, bk, err
	}
	defer f.Close()
	h := f.Header
	if !bytes.Equal(h.Config, params(cfg)) {
		return false, bk, fmt.Errorf("checkpoint %s belongs to another run (parameters %s); remove it to start afresh", path, h.Config)
	}
	if h.Grid != s.Block.Global {
		return false, bk, fmt.Errorf("checkpoint %s: grid %v, run %v", path, h.Grid, s.Block.Global)
	}
	if err := f.Restore(s.Block, [4][]float64{s.U.Rho, s.U.M[0], s.U.M[1], s.U.M[2]}); err != nil {
		return false, bk, err
	}
	s.Time, s.Steps = h.Time, h.Steps
	bk = bookkeeping{wall: h.WallSeconds, restarts: h.Restarts + 1, massStart: h.MassStart,
		momentumStart: h.MomentumStart, momentumScale: h.MomentumScale}
	return true, bk, nil
}

// saveCheckpoint writes the state of every rank's solver to path, all ranks
// at once, atomically (temporary file, rename).
func saveCheckpoint(c comm.Comm, path string, cfg Config, dec mesh.Decomposition, s *hydro.Solver, bk bookkeeping) (err error) {
	f, tmp, err := sharedFile(c, path)
	if err != nil {
		return err
	}
	defer removeOnError(tmp, &err)
	data := checkpoint.Pack(s.Block, [4][]float64{s.U.Rho, s.U.M[0], s.U.M[1], s.U.M[2]})
	sum := checkpoint.Sum(data)
	_, werr := f.WriteAt(data, checkpoint.Offset(dec, c.Rank()))
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("checkpoint %s: %w", tmp, err)
	}
	all, err := c.GatherBytes([]byte(sum), 0)
	if err != nil {
		return err
	}
	var failure error
	if c.Rank() == 0 {
		h := checkpoint.Header{Config: params(cfg), Grid: dec.Cells, Time: s.Time, Steps: s.Steps,
			WallSeconds: bk.wall, Restarts: bk.restarts, MassStart: bk.massStart,
			MomentumStart: bk.momentumStart, MomentumScale: bk.momentumScale}
		for r := range dec.Size() {
			b := dec.Block(r)
			h.Chunks = append(h.Chunks, checkpoint.Chunk{Start: b.Start, Size: b.Size,
				Offset: checkpoint.Offset(dec, r), XXHash64: string(all[r])})
		}
		failure = finishCheckpoint(tmp, path, h, checkpoint.Offset(dec, dec.Size()))
	}
	return agree(c, failure)
}

func finishCheckpoint(tmp, path string, h checkpoint.Header, dataEnd int64) error {
	f, err := snapshot.OpenShared(tmp)
	if err != nil {
		return err
	}
	if err := checkpoint.WriteHeader(f, h, dataEnd); err != nil {
		f.Close()
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return snapshot.Commit(tmp, path, true)
}
