// Package comm is the message-passing layer between ranks.
//
// The solver talks only to the Comm interface. Two backends implement it:
// Local, where ranks are goroutines of one process (no dependencies), and
// the system MPI through cgo (build tag mpi). Every collective here has a
// result that does not depend on the order in which ranks arrive, so runs
// are reproducible bit for bit.
package comm

import "errors"

// None is the rank to pass to Sendrecv for "no partner" on one side (the
// analogue of MPI_PROC_NULL): nothing is sent or received there.
const None = -1

// ErrAborted is returned by every operation of a world that some rank aborted.
var ErrAborted = errors.New("comm: aborted by another rank")

// Comm connects one rank to the others of its world.
type Comm interface {
	// Rank returns this rank's number, 0 ≤ Rank < Size.
	Rank() int
	// Size returns the number of ranks.
	Size() int
	// Sendrecv sends send to rank dst and receives len(recv) values from
	// rank src into recv, both under tag. Either partner may be None.
	Sendrecv(send []float64, dst int, recv []float64, src int, tag int) error
	// AllreduceMin returns the minimum of x over all ranks.
	AllreduceMin(x float64) (float64, error)
	// AllreduceSum returns the sum of x over all ranks, added in rank order
	// so that the result is reproducible for a given rank count.
	AllreduceSum(x float64) (float64, error)
	// Allgatherv concatenates every rank's send, in rank order, into recv
	// on every rank; counts[r] is the length of rank r's send.
	Allgatherv(send []float64, recv []float64, counts []int) error
	// Alltoallv sends sendCounts[r] consecutive values of send to each rank
	// r in turn, and receives recvCounts[r] values from each rank r into
	// consecutive parts of recv, in rank order.
	Alltoallv(send []float64, sendCounts []int, recv []float64, recvCounts []int) error
	// ExscanInt returns the sum of x over the ranks below this one (0 on
	// rank 0): the offset of this rank's part of a shared file.
	ExscanInt(x int64) (int64, error)
	// GatherBytes collects every rank's send on rank root, in rank order;
	// other ranks get nil.
	GatherBytes(send []byte, root int) ([][]byte, error)
	// Barrier returns once every rank has called it.
	Barrier() error
	// Abort stops the whole world with cause: every rank's pending and
	// future operations fail. For MPI it ends the job.
	Abort(cause error)
}
