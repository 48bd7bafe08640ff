//go:build mpi && mpich

package mpi

// MPICH, selected with -tags mpi,mpich. The binary must then be started with
// MPICH's launcher (mpirun.mpich); under Open MPI's mpirun every process
// would be a singleton, which Init detects and refuses.

// #cgo pkg-config: mpich
import "C"
