package comm

// Agree tells every rank whether every rank succeeded: all is true on
// every rank when failure is nil on all of them, and false on every rank
// otherwise. So ranks that reached different verdicts (rank 0 alone probed
// a file, one rank's lock or write failed) take the same branch after it,
// and an MPI job fails or carries on as a whole. err is the reduction's.
func Agree(c Comm, failure error) (all bool, err error) {
	ok := 1.0
	if failure != nil {
		ok = 0
	}
	ok, err = c.AllreduceMin(ok)
	return err == nil && ok == 1, err
}
