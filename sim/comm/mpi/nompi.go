//go:build !mpi

package mpi

import (
	"errors"

	"github.com/turbindex/turbindex/sim/comm"
)

// Enabled reports whether this binary was built with MPI (build tag mpi).
// It is false here: the default build is pure Go and needs no MPI library.
const Enabled = false

// Init cannot start MPI in a build without it; it returns an error that
// says how to rebuild, so that a job started by mpirun fails at once
// instead of running as N independent one-rank copies.
func Init() (comm.Comm, error) {
	return nil, errors.New("built without MPI: rebuild with -tags mpi (make build-mpi)")
}

// Finalize does nothing in a build without MPI, so callers can defer it
// unconditionally.
func Finalize() error { return nil }
