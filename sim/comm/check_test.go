package comm

import (
	"strings"
	"testing"
)

func TestCheckCounts(t *testing.T) {
	if err := CheckCounts(3, []int{1, 2, 3}, 2, 1, 6); err != nil {
		t.Errorf("valid counts: %v", err)
	}
	for _, c := range []struct {
		counts        []int
		sent, recvLen int
		want          string
	}{
		{[]int{1, 2}, 2, 6, "2 counts for 3 ranks"},
		{[]int{1, 2, 3}, 3, 6, "rank 1 sends 3 values, counts say 2"},
		{[]int{1, 2, 3}, 2, 5, "receive buffer of 5 values, counts total 6"},
		{[]int{-1, 2, 3}, 2, 6, "negative count -1 for rank 0"},
	} {
		if err := CheckCounts(3, c.counts, c.sent, 1, c.recvLen); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckCounts(%v, %d, %d): %v, want %q", c.counts, c.sent, c.recvLen, err, c.want)
		}
	}
}

func TestCheckAlltoallv(t *testing.T) {
	buf := make([]float64, 4)
	if err := CheckAlltoallv(2, buf[:3], []int{1, 2}, buf, []int{2, 2}); err != nil {
		t.Errorf("valid counts: %v", err)
	}
	for _, c := range []struct {
		sc, rc []int
		want   string
	}{
		{[]int{1}, []int{1, 1}, "1 send and 2 receive counts for 2 ranks"},
		{[]int{2, 2}, []int{1, 1}, "send counts total 4, the send buffer holds 3"},
		{[]int{1, 1}, []int{3, 2}, "receive counts total 5, the receive buffer holds 4"},
		{[]int{1, 1}, []int{1, -1}, "negative receive count -1 for rank 1"},
	} {
		if err := CheckAlltoallv(2, buf[:3], c.sc, buf, c.rc); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckAlltoallv(%v, %v): %v, want %q", c.sc, c.rc, err, c.want)
		}
	}
}
