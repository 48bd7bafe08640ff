package comm

import "fmt"

// CheckCounts validates the counts of an all-gather for every backend: one
// per rank, none negative, this rank's matching its send, and a receive
// buffer that holds them all.
func CheckCounts(size int, counts []int, sent, rank, recvLen int) error {
	if len(counts) != size {
		return fmt.Errorf("%d counts for %d ranks", len(counts), size)
	}
	if counts[rank] != sent {
		return fmt.Errorf("rank %d sends %d values, counts say %d", rank, sent, counts[rank])
	}
	total := 0
	for r, n := range counts {
		if n < 0 {
			return fmt.Errorf("negative count %d for rank %d", n, r)
		}
		total += n
	}
	if total > recvLen {
		return fmt.Errorf("receive buffer of %d values, counts total %d", recvLen, total)
	}
	return nil
}

// CheckAlltoallv validates the local side of an all-to-all for every
// backend: one count per rank each way, none negative, and buffers that
// hold what the counts say.
func CheckAlltoallv(size int, send []float64, sendCounts []int, recv []float64, recvCounts []int) error {
	if len(sendCounts) != size || len(recvCounts) != size {
		return fmt.Errorf("%d send and %d receive counts for %d ranks", len(sendCounts), len(recvCounts), size)
	}
	for _, c := range []struct {
		what   string
		counts []int
		have   int
	}{{"send", sendCounts, len(send)}, {"receive", recvCounts, len(recv)}} {
		total := 0
		for r, n := range c.counts {
			if n < 0 {
				return fmt.Errorf("negative %s count %d for rank %d", c.what, n, r)
			}
			total += n
		}
		if total > c.have {
			return fmt.Errorf("%s counts total %d, the %s buffer holds %d values", c.what, total, c.what, c.have)
		}
	}
	return nil
}
