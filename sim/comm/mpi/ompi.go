//go:build mpi && !mpich

package mpi

// Open MPI is the default: Debian ranks it above MPICH for mpirun and mpicc.
// The explicit pkg-config name is used because "mpi" is an alternatives link
// that may point to either implementation.

// #cgo pkg-config: ompi
import "C"
