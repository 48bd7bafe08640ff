//go:build mpi

package mpi

/*
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <mpi.h>

// Open MPI defines its handles (MPI_COMM_WORLD, MPI_DOUBLE, ...) as macros
// that take the address of library globals, MPICH as integer constants;
// cgo handles neither reliably. Every use of a handle therefore lives in a
// static inline helper below, which compiles unchanged against both.

static inline int tix_thread_single(void)     { return MPI_THREAD_SINGLE; }
static inline int tix_thread_funneled(void)   { return MPI_THREAD_FUNNELED; }
static inline int tix_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
static inline int tix_thread_multiple(void)   { return MPI_THREAD_MULTIPLE; }
static inline int tix_proc_null(void)         { return MPI_PROC_NULL; }
static inline int tix_err_truncate(void)      { return MPI_ERR_TRUNCATE; }
static inline int tix_max_error_string(void)  { return MPI_MAX_ERROR_STRING; }

static inline int tix_init_thread(int *provided) {
	return MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, provided);
}

static inline int tix_errors_return(void) {
	return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

static inline int tix_rank(int *r) { return MPI_Comm_rank(MPI_COMM_WORLD, r); }
static inline int tix_size(int *n) { return MPI_Comm_size(MPI_COMM_WORLD, n); }

static inline int tix_tag_ub(int *ub) {
	int *v = NULL, flag = 0;
	int rc = MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &v, &flag);
	*ub = (rc == MPI_SUCCESS && flag && v != NULL) ? *v : 32767; // the standard's minimum
	return rc;
}

// tix_min2 is Go's math.Min: -Inf wins over NaN, NaN over numbers, and
// -0 is below +0. Unlike MPI_MIN, whose result for NaN and signed zeros
// depends on the order the reduction tree combines ranks, this is a
// function of the set of values alone.
static inline double tix_min2(double x, double y) {
	if (isinf(x) && x < 0) return x;
	if (isinf(y) && y < 0) return y;
	if (isnan(x)) return x;
	if (isnan(y)) return y;
	if (x == 0 && y == 0) return signbit(x) ? x : y;
	return x < y ? x : y;
}

static void tix_min_fn(void *in, void *inout, int *len, MPI_Datatype *type) {
	const double *a = in;
	double *b = inout;
	(void)type;
	for (int i = 0; i < *len; i++) b[i] = tix_min2(a[i], b[i]);
}

static MPI_Op tix_min_op = MPI_OP_NULL;

static inline int tix_min_op_create(void) { return MPI_Op_create(tix_min_fn, 1, &tix_min_op); }
static inline int tix_min_op_free(void)   { return MPI_Op_free(&tix_min_op); }

static inline int tix_get_count(MPI_Status *st, int *n) { return MPI_Get_count(st, MPI_DOUBLE, n); }

static inline int tix_sendrecv(const double *s, int sn, int dst, double *r, int rn, int src, int tag, MPI_Status *st) {
	return MPI_Sendrecv(s, sn, MPI_DOUBLE, dst, tag, r, rn, MPI_DOUBLE, src, tag, MPI_COMM_WORLD, st);
}

static inline int tix_allreduce_min(const double *x, double *out) {
	return MPI_Allreduce(x, out, 1, MPI_DOUBLE, tix_min_op, MPI_COMM_WORLD);
}

static inline int tix_allgather_double(const double *x, double *all) {
	return MPI_Allgather(x, 1, MPI_DOUBLE, all, 1, MPI_DOUBLE, MPI_COMM_WORLD);
}

static inline int tix_allgatherv(const double *s, int sn, double *r, const int *counts, const int *displs) {
	return MPI_Allgatherv(s, sn, MPI_DOUBLE, r, counts, displs, MPI_DOUBLE, MPI_COMM_WORLD);
}

static inline int tix_alltoall_int(const int *s, int *r) {
	return MPI_Alltoall(s, 1, MPI_INT, r, 1, MPI_INT, MPI_COMM_WORLD);
}

static inline int tix_alltoallv(const double *s, const int *sc, const int *sd, double *r, const int *rc, const int *rd) {
	return MPI_Alltoallv(s, sc, sd, MPI_DOUBLE, r, rc, rd, MPI_DOUBLE, MPI_COMM_WORLD);
}

static inline int tix_exscan_sum(const int64_t *x, int64_t *out) {
	return MPI_Exscan(x, out, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
}

static inline int tix_gather_int(const int *x, int *all, int root) {
	return MPI_Gather(x, 1, MPI_INT, all, 1, MPI_INT, root, MPI_COMM_WORLD);
}

static inline int tix_gatherv_bytes(const void *s, int sn, void *r, const int *counts, const int *displs, int root) {
	return MPI_Gatherv(s, sn, MPI_BYTE, r, counts, displs, MPI_BYTE, root, MPI_COMM_WORLD);
}

static inline int tix_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }

static inline int tix_abort(int code) {
	fflush(NULL); // C-side output (the MPI library's) before the job dies
	return MPI_Abort(MPI_COMM_WORLD, code);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/turbindex/turbindex/sim/comm"
)

// Enabled reports whether this binary was built with MPI (build tag mpi).
// It is true here: Init joins the job that mpirun started.
const Enabled = true

// Counts travel to MPI as C ints through []int32 buffers; this fails to
// compile on a platform where a C int is not 32 bits.
var _ = [1]struct{}{}[unsafe.Sizeof(C.int(0))-4]

// state is MPI's life cycle in this process: MPI can be initialised once
// and never again after MPI_Finalize.
var state struct {
	sync.Mutex
	world *world
	ended bool
}

// finalized is read by every operation, so that a use after Finalize is an
// error rather than undefined behaviour inside the library.
var finalized atomic.Bool

var errFinalized = errors.New("mpi: communicator used after Finalize")

// Init initialises MPI and returns the world communicator (MPI_COMM_WORLD).
//
// It requests MPI_THREAD_MULTIPLE because goroutines move between OS threads
// and several may call MPI; it fails if the library provides less than
// MPI_THREAD_SERIALIZED, and with SERIALIZED it serialises every call
// through a mutex. Errors on the world are returned (MPI_ERRORS_RETURN), not
// fatal. Init locks the calling goroutine to its OS thread until Finalize,
// because MPI wants MPI_Finalize on the thread that called MPI_Init: call
// both from the same goroutine (main, or TestMain).
//
// If the launcher announced a different number of ranks than MPI reports,
// the binary was started by another implementation's launcher (each process
// would be a silent singleton); Init then finalises MPI and fails.
func Init() (comm.Comm, error) {
	state.Lock()
	defer state.Unlock()
	switch {
	case state.ended:
		return nil, errors.New("mpi: Init after Finalize: MPI cannot be initialised twice")
	case state.world != nil:
		return nil, errors.New("mpi: Init called twice")
	}
	runtime.LockOSThread()
	var provided C.int
	if rc := C.tix_init_thread(&provided); rc != C.MPI_SUCCESS {
		runtime.UnlockOSThread()
		return nil, mpiError("MPI_Init_thread", rc)
	}
	w, err := newWorld(provided)
	if err != nil {
		C.MPI_Finalize()
		state.ended = true
		finalized.Store(true)
		runtime.UnlockOSThread()
		return nil, err
	}
	state.world = w
	return w, nil
}

// newWorld sets up MPI_COMM_WORLD right after MPI_Init_thread.
func newWorld(provided C.int) (*world, error) {
	w := new(world)
	switch {
	case provided >= C.tix_thread_multiple():
	case provided >= C.tix_thread_serialized():
		w.mu = new(sync.Mutex)
	default:
		return nil, fmt.Errorf("mpi: the MPI library provides only %s; Go needs at least MPI_THREAD_SERIALIZED because goroutines run on many OS threads", threadLevel(provided))
	}
	if rc := C.tix_errors_return(); rc != C.MPI_SUCCESS {
		return nil, mpiError("MPI_Comm_set_errhandler", rc)
	}
	var rank, size, tagUB C.int
	if rc := C.tix_rank(&rank); rc != C.MPI_SUCCESS {
		return nil, mpiError("MPI_Comm_rank", rc)
	}
	if rc := C.tix_size(&size); rc != C.MPI_SUCCESS {
		return nil, mpiError("MPI_Comm_size", rc)
	}
	if rc := C.tix_tag_ub(&tagUB); rc != C.MPI_SUCCESS {
		return nil, mpiError("MPI_Comm_get_attr(MPI_TAG_UB)", rc)
	}
	w.rank, w.size, w.tagUB = int(rank), int(size), int(tagUB)
	if n := LaunchedSize(); n > 0 && n != w.size {
		return nil, fmt.Errorf("mpi: the launcher started %d ranks but MPI reports a world of %d: "+
			"this binary was linked against a different MPI than the launcher's "+
			"(use mpirun.openmpi for the default build, mpirun.mpich for -tags mpi,mpich)", n, w.size)
	}
	if rc := C.tix_min_op_create(); rc != C.MPI_SUCCESS {
		return nil, mpiError("MPI_Op_create", rc)
	}
	return w, nil
}

func threadLevel(l C.int) string {
	switch l {
	case C.tix_thread_single():
		return "MPI_THREAD_SINGLE"
	case C.tix_thread_funneled():
		return "MPI_THREAD_FUNNELED"
	case C.tix_thread_serialized():
		return "MPI_THREAD_SERIALIZED"
	case C.tix_thread_multiple():
		return "MPI_THREAD_MULTIPLE"
	}
	return fmt.Sprintf("thread level %d", int(l))
}

// Finalize ends MPI (MPI_Finalize). Call it from the goroutine that called
// Init, once no other goroutine is inside an operation of the world; the
// world's operations fail afterwards.
func Finalize() error {
	state.Lock()
	defer state.Unlock()
	if state.ended {
		return errors.New("mpi: Finalize called twice")
	}
	if state.world == nil {
		return errors.New("mpi: Finalize before Init")
	}
	w := state.world
	w.lock()
	finalized.Store(true)
	state.ended = true
	err := errors.Join(
		mpiError("MPI_Op_free", C.tix_min_op_free()),
		mpiError("MPI_Finalize", C.MPI_Finalize()))
	w.unlock()
	runtime.UnlockOSThread()
	return err
}

// mpiError turns an MPI return code into an error naming the call, or nil
// for MPI_SUCCESS.
func mpiError(call string, rc C.int) error {
	if rc == C.MPI_SUCCESS {
		return nil
	}
	return &callError{call: call, code: int(rc), class: errorClass(rc), msg: errorString(rc)}
}

// callError is a failed MPI call; class is the MPI error class, which
// tells apart causes (such as truncation) that codes may not.
type callError struct {
	call  string
	code  int
	class int
	msg   string
}

func (e *callError) Error() string {
	return fmt.Sprintf("mpi: %s failed: %s (error code %d)", e.call, e.msg, e.code)
}

func errorClass(rc C.int) int {
	var class C.int
	if C.MPI_Error_class(rc, &class) != C.MPI_SUCCESS {
		return -1
	}
	return int(class)
}

func errorString(rc C.int) string {
	buf := make([]byte, C.tix_max_error_string())
	var n C.int
	if C.MPI_Error_string(rc, (*C.char)(unsafe.Pointer(&buf[0])), &n) != C.MPI_SUCCESS {
		return "unknown MPI error"
	}
	return string(buf[:max(0, min(int(n), len(buf)))])
}

// world is MPI_COMM_WORLD as a comm.Comm.
type world struct {
	rank, size int
	tagUB      int         // largest valid tag (MPI_TAG_UB)
	mu         *sync.Mutex // serialises MPI calls; nil with MPI_THREAD_MULTIPLE
}

// enter starts an operation: it fails after Finalize and otherwise takes the
// lock that MPI_THREAD_SERIALIZED needs. The caller must call w.unlock.
func (w *world) enter() error {
	if finalized.Load() {
		return errFinalized
	}
	w.lock()
	return nil
}

func (w *world) lock() {
	if w.mu != nil {
		w.mu.Lock()
	}
}

func (w *world) unlock() {
	if w.mu != nil {
		w.mu.Unlock()
	}
}

// f64 and i32 pass a slice to C as a pointer to its first element: Go
// memory without Go pointers, kept by MPI only during the (blocking) call.
// An empty slice is NULL with count 0.
func f64(s []float64) *C.double {
	if len(s) == 0 {
		return nil
	}
	return (*C.double)(unsafe.Pointer(&s[0]))
}

func i32(s []int32) *C.int {
	if len(s) == 0 {
		return nil
	}
	return (*C.int)(unsafe.Pointer(&s[0]))
}

// Rank returns this process's rank in MPI_COMM_WORLD.
func (w *world) Rank() int { return w.rank }

// Size returns the number of processes in MPI_COMM_WORLD.
func (w *world) Size() int { return w.size }

// Sendrecv is MPI_Sendrecv on doubles with the same tag both ways; None is
// MPI_PROC_NULL, whose buffer is ignored as in the Local backend. A message
// whose length differs from len(recv) is an error on the receiving rank.
func (w *world) Sendrecv(send []float64, dst int, recv []float64, src int, tag int) error {
	if tag < 0 || tag > w.tagUB {
		// Negative tags would include MPI_ANY_TAG on the receive side.
		return fmt.Errorf("sendrecv: tag %d outside [0, %d]", tag, w.tagUB)
	}
	cdst, csrc := C.tix_proc_null(), C.tix_proc_null()
	var sn, rn int32
	if dst != comm.None {
		if dst < 0 || dst >= w.size {
			return fmt.Errorf("sendrecv: destination rank %d outside [0, %d)", dst, w.size)
		}
		var err error
		if sn, err = cInt("sendrecv: send", len(send)); err != nil {
			return err
		}
		cdst = C.int(dst)
	} else {
		send = nil
	}
	if src != comm.None {
		if src < 0 || src >= w.size {
			return fmt.Errorf("sendrecv: source rank %d outside [0, %d)", src, w.size)
		}
		var err error
		if rn, err = cInt("sendrecv: receive", len(recv)); err != nil {
			return err
		}
		csrc = C.int(src)
	} else {
		recv = nil
	}
	buf := recv
	if src == w.rank && rn < math.MaxInt32 {
		// Open MPI 4.1 truncates a short message from a rank to itself
		// silently (no MPI_ERR_TRUNCATE, count clipped), and a periodic
		// axis with one rank exchanges with itself. One spare slot makes
		// an overlong message visible in the count; it costs a copy.
		buf = make([]float64, len(recv)+1)
		rn++
	}
	if err := w.enter(); err != nil {
		return err
	}
	defer w.unlock()
	var st C.MPI_Status
	rc := C.tix_sendrecv(f64(send), C.int(sn), cdst, f64(buf), C.int(rn), csrc, C.int(tag), &st)
	if rc != C.MPI_SUCCESS {
		err := mpiError("MPI_Sendrecv", rc)
		if errorClass(rc) == int(C.tix_err_truncate()) {
			return fmt.Errorf("sendrecv: rank %d sent more than the %d values rank %d expected with tag %d: %w", src, len(recv), w.rank, tag, err)
		}
		return err
	}
	if src == comm.None {
		return nil
	}
	var got C.int
	if rc := C.tix_get_count(&st, &got); rc != C.MPI_SUCCESS {
		return mpiError("MPI_Get_count", rc)
	}
	switch {
	case int(got) > len(recv):
		return fmt.Errorf("sendrecv: rank %d sent more than the %d values rank %d expected with tag %d", src, len(recv), w.rank, tag)
	case int(got) < len(recv):
		return fmt.Errorf("sendrecv: rank %d sent %d values with tag %d, rank %d expected %d", src, int(got), tag, w.rank, len(recv))
	}
	if len(buf) != len(recv) {
		copy(recv, buf)
	}
	return nil
}

// AllreduceMin is MPI_Allreduce with a commutative user operation equal to
// math.Min rather than MPI_MIN: MPI_MIN may drop a NaN or pick either
// signed zero depending on the reduction order, while the Local backend's
// result (and ours) depends only on the values.
func (w *world) AllreduceMin(x float64) (float64, error) {
	if err := w.enter(); err != nil {
		return 0, err
	}
	defer w.unlock()
	var m C.double
	if rc := C.tix_allreduce_min((*C.double)(&x), &m); rc != C.MPI_SUCCESS {
		return 0, mpiError("MPI_Allreduce", rc)
	}
	r := float64(m)
	if math.IsNaN(r) {
		r = math.NaN() // math.Min's NaN, whatever NaN the inputs carried
	}
	return r, nil
}

// AllreduceSum gathers x from every rank (MPI_Allgather) and adds the
// values in rank order on every rank. MPI_SUM adds in an unspecified order
// that changes with the rank count and the algorithm, so its rounding
// would differ from the Local backend's; this sum is identical bit for bit.
func (w *world) AllreduceSum(x float64) (float64, error) {
	all := make([]float64, w.size)
	if err := w.enter(); err != nil {
		return 0, err
	}
	rc := C.tix_allgather_double((*C.double)(&x), f64(all))
	w.unlock()
	if rc != C.MPI_SUCCESS {
		return 0, mpiError("MPI_Allgather", rc)
	}
	s := 0.0
	for _, v := range all {
		s += v
	}
	return s, nil
}

// Allgatherv is MPI_Allgatherv with consecutive displacements in rank
// order. The counts are checked locally first, so every rank that was
// given the same wrong counts fails without entering MPI.
func (w *world) Allgatherv(send []float64, recv []float64, counts []int) error {
	if err := comm.CheckCounts(w.size, counts, len(send), w.rank, len(recv)); err != nil {
		return fmt.Errorf("allgatherv: %w", err)
	}
	cs, displs, _, err := layout("allgatherv", counts)
	if err != nil {
		return err
	}
	if err := w.enter(); err != nil {
		return err
	}
	defer w.unlock()
	return mpiError("MPI_Allgatherv", C.tix_allgatherv(f64(send), C.int(cs[w.rank]), f64(recv), i32(cs), i32(displs)))
}

// Alltoallv is MPI_Alltoallv with consecutive displacements in rank order.
// It first exchanges the send counts (MPI_Alltoall), because MPI cannot
// notice a sender that sends fewer values than the receiver expects; a
// mismatch is reported as the Local backend reports it, on the receiver.
func (w *world) Alltoallv(send []float64, sendCounts []int, recv []float64, recvCounts []int) error {
	if err := comm.CheckAlltoallv(w.size, send, sendCounts, recv, recvCounts); err != nil {
		return fmt.Errorf("alltoallv: %w", err)
	}
	sc, sd, _, err := layout("alltoallv: send", sendCounts)
	if err != nil {
		return err
	}
	rcs, rd, _, err := layout("alltoallv: receive", recvCounts)
	if err != nil {
		return err
	}
	incoming := make([]int32, w.size)
	if err := w.enter(); err != nil {
		return err
	}
	defer w.unlock()
	if rc := C.tix_alltoall_int(i32(sc), i32(incoming)); rc != C.MPI_SUCCESS {
		return mpiError("MPI_Alltoall", rc)
	}
	for r, n := range incoming {
		if n != rcs[r] {
			return fmt.Errorf("alltoallv: rank %d sent %d values to rank %d, which expected %d", r, n, w.rank, recvCounts[r])
		}
	}
	return mpiError("MPI_Alltoallv", C.tix_alltoallv(f64(send), i32(sc), i32(sd), f64(recv), i32(rcs), i32(rd)))
}

// ExscanInt is MPI_Exscan (MPI_SUM on MPI_INT64_T); MPI leaves rank 0's
// result undefined, the interface defines it as 0.
func (w *world) ExscanInt(x int64) (int64, error) {
	if err := w.enter(); err != nil {
		return 0, err
	}
	defer w.unlock()
	var s C.int64_t
	if rc := C.tix_exscan_sum((*C.int64_t)(unsafe.Pointer(&x)), &s); rc != C.MPI_SUCCESS {
		return 0, mpiError("MPI_Exscan", rc)
	}
	if w.rank == 0 {
		return 0, nil
	}
	return int64(s), nil
}

// GatherBytes gathers the sizes on root (MPI_Gather), then the bytes
// (MPI_Gatherv) into one buffer that root splits into its parts, each
// capped so that appending to one cannot overwrite the next. Every part
// and the total must fit a C int (2 GiB).
func (w *world) GatherBytes(send []byte, root int) ([][]byte, error) {
	if root < 0 || root >= w.size {
		return nil, fmt.Errorf("gather bytes: root rank %d outside [0, %d)", root, w.size)
	}
	n, err := cInt("gather bytes", len(send))
	if err != nil {
		// Still take part in the size gather, with an impossible size, so
		// that root reports the failure too instead of waiting for bytes.
		n = -1
	}
	var sizes []int32
	if w.rank == root {
		sizes = make([]int32, w.size)
	}
	if err := w.enter(); err != nil {
		return nil, err
	}
	defer w.unlock()
	if rc := C.tix_gather_int((*C.int)(&n), i32(sizes), C.int(root)); rc != C.MPI_SUCCESS {
		return nil, mpiError("MPI_Gather", rc)
	}
	if err != nil {
		return nil, err
	}
	var counts, displs []int32
	var buf []byte
	if w.rank == root {
		cs := make([]int, w.size)
		for r, s := range sizes {
			if s < 0 {
				return nil, fmt.Errorf("gather bytes: rank %d sends more than %d bytes", r, math.MaxInt32)
			}
			cs[r] = int(s)
		}
		var total int
		if counts, displs, total, err = layout("gather bytes", cs); err != nil {
			return nil, err
		}
		buf = make([]byte, total)
	}
	var sp, rp unsafe.Pointer
	if len(send) > 0 {
		sp = unsafe.Pointer(&send[0])
	}
	if len(buf) > 0 {
		rp = unsafe.Pointer(&buf[0])
	}
	if rc := C.tix_gatherv_bytes(sp, C.int(n), rp, i32(counts), i32(displs), C.int(root)); rc != C.MPI_SUCCESS {
		return nil, mpiError("MPI_Gatherv", rc)
	}
	if w.rank != root {
		return nil, nil
	}
	out := make([][]byte, w.size)
	for r, c := range counts {
		if c > 0 { // an empty part is nil, as in the Local backend
			d := int(displs[r])
			out[r] = buf[d : d+int(c) : d+int(c)]
		}
	}
	return out, nil
}

// Barrier is MPI_Barrier.
func (w *world) Barrier() error {
	if err := w.enter(); err != nil {
		return err
	}
	defer w.unlock()
	return mpiError("MPI_Barrier", C.tix_barrier())
}

// abortGrace is how long Abort waits between printing its reason and
// calling MPI_Abort.
const abortGrace = 300 * time.Millisecond

// Abort prints "sim: rank R of N: cause" to stderr and ends the whole job
// with MPI_Abort(MPI_COMM_WORLD, 1); it does not return. The launcher
// kills the other ranks wherever they are blocked, which is the only way
// to stop ranks that wait in a collective this rank will never join.
func (w *world) Abort(cause error) {
	msg := "aborted"
	if cause != nil {
		msg = cause.Error()
	}
	fmt.Fprintf(os.Stderr, "sim: rank %d of %d: %s\n", w.rank, w.size, msg)
	os.Stderr.Sync() // an error (stderr is a pipe) is harmless: writes are unbuffered
	if !finalized.Load() {
		// The line is in the pipe to the launcher's proxy, not yet on the
		// user's terminal: MPICH's Hydra tears its forwarding down on
		// MPI_Abort and, under load, lost it (once in a CI run). A
		// moment's grace lets the proxy forward it first.
		time.Sleep(abortGrace)
		// With MPI_THREAD_SERIALIZED, take the lock if it is free to keep
		// other goroutines out; but another goroutine may hold it while
		// blocked in a collective that will never complete, and waiting
		// would hang the job, so abort regardless.
		if w.mu != nil {
			w.mu.TryLock()
		}
		C.tix_abort(1)
	}
	// MPI_Abort returned (or MPI is already finalised): still end this
	// process, with the code MPI_Abort would have used.
	os.Exit(1)
}
