// Package mpi runs a simulation's ranks as the processes of an MPI job: a
// thin cgo binding to the system MPI (MPI-3 C API, Open MPI or MPICH) that
// implements comm.Comm for MPI_COMM_WORLD.
//
// The binding is compiled only with the build tag mpi (add mpich to link
// MPICH instead of Open MPI), so that the default build needs nothing but
// Go; without the tag, Init returns an error that says how to rebuild.
// Launched and LaunchedSize work in both builds, so a program can tell that
// it was started by mpirun even when it cannot join the job.
package mpi

import (
	"os"
	"strconv"
)

// launcherVars are the variables that MPI launchers set in the environment
// of every process they start: Open MPI's mpirun (OMPI_COMM_WORLD_SIZE,
// PMIX_RANK), MPICH's Hydra (PMI_SIZE, PMI_RANK, MPI_LOCALNRANKS) and srun
// with a PMI plugin (PMI_* or PMIX_*).
var launcherVars = []string{"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMI_RANK", "PMIX_RANK", "MPI_LOCALNRANKS"}

// Launched reports whether the environment says this process was started by
// an MPI launcher (mpirun, mpiexec, or srun with PMI). A binary built
// without MPI uses it to refuse to run as N copies of a one-rank job, which
// would each write the same output.
func Launched() bool {
	for _, v := range launcherVars {
		if _, ok := os.LookupEnv(v); ok {
			return true
		}
	}
	return false
}

// LaunchedSize returns the number of ranks the launcher announced
// (OMPI_COMM_WORLD_SIZE or PMI_SIZE), or 0 if it is unknown. A world whose
// size differs was started by the other implementation's launcher: each
// process then initialises as a singleton of size 1, silently.
func LaunchedSize() int {
	for _, v := range []string{"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"} {
		if n, err := strconv.Atoi(os.Getenv(v)); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

// LocalSize returns the number of ranks the launcher started on this node
// (OMPI_COMM_WORLD_LOCAL_SIZE, MPI_LOCALNRANKS or SLURM_NTASKS_PER_NODE),
// or 1 if it is unknown: they share the node's memory.
func LocalSize() int {
	for _, v := range []string{"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"} {
		if n, err := strconv.Atoi(os.Getenv(v)); err == nil && n > 0 {
			return n
		}
	}
	return 1
}
