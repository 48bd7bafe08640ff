package mpi

import (
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestCInt(t *testing.T) {
	for _, c := range []struct {
		n    int
		want string // error substring, "" for none
	}{{0, ""}, {7, ""}, {math.MaxInt32, ""}, {math.MaxInt32 + 1, "exceed the MPI count limit"}, {-1, "negative"}} {
		v, err := cInt("x", c.n)
		if c.want == "" {
			if err != nil || int(v) != c.n {
				t.Errorf("cInt(%d) = %d, %v", c.n, v, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("cInt(%d): error %v, want %q", c.n, err, c.want)
		}
	}
}

func TestLayout(t *testing.T) {
	cs, displs, total, err := layout("x", []int{2, 0, 3, 1})
	if err != nil || !slices.Equal(cs, []int32{2, 0, 3, 1}) || !slices.Equal(displs, []int32{0, 2, 2, 5}) || total != 6 {
		t.Errorf("layout = %v %v %d %v", cs, displs, total, err)
	}
	// Counts that fit one by one but not together must not wrap around.
	if _, _, _, err := layout("x", []int{math.MaxInt32, 1}); err == nil || !strings.Contains(err.Error(), "MPI limit") {
		t.Errorf("layout over the limit: %v", err)
	}
	if _, _, _, err := layout("x", []int{1, -1}); err == nil || !strings.Contains(err.Error(), "negative count -1 for rank 1") {
		t.Errorf("layout with a negative count: %v", err)
	}
}

func TestCheckCounts(t *testing.T) {
	if err := checkCounts(3, []int{1, 2, 3}, 2, 1, 6); err != nil {
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
		if err := checkCounts(3, c.counts, c.sent, 1, c.recvLen); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("checkCounts(%v, %d, %d): %v, want %q", c.counts, c.sent, c.recvLen, err, c.want)
		}
	}
}

func TestCheckAlltoallv(t *testing.T) {
	buf := make([]float64, 4)
	if err := checkAlltoallv(2, buf[:3], []int{1, 2}, buf, []int{2, 2}); err != nil {
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
		if err := checkAlltoallv(2, buf[:3], c.sc, buf, c.rc); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("checkAlltoallv(%v, %v): %v, want %q", c.sc, c.rc, err, c.want)
		}
	}
}

func TestLaunched(t *testing.T) {
	for _, v := range launcherVars {
		t.Setenv(v, "") // restores the variable after the test
		os.Unsetenv(v)
	}
	if Launched() || LaunchedSize() != 0 {
		t.Fatalf("Launched() = %v, LaunchedSize() = %d without launcher variables", Launched(), LaunchedSize())
	}
	t.Setenv("PMI_RANK", "0")
	if !Launched() || LaunchedSize() != 0 {
		t.Errorf("with PMI_RANK: Launched() = %v, LaunchedSize() = %d", Launched(), LaunchedSize())
	}
	t.Setenv("PMI_SIZE", "3")
	if LaunchedSize() != 3 {
		t.Errorf("with PMI_SIZE=3: LaunchedSize() = %d", LaunchedSize())
	}
	t.Setenv("OMPI_COMM_WORLD_SIZE", "4")
	if LaunchedSize() != 4 {
		t.Errorf("with OMPI_COMM_WORLD_SIZE=4: LaunchedSize() = %d", LaunchedSize())
	}
	t.Setenv("OMPI_COMM_WORLD_SIZE", "junk")
	if LaunchedSize() != 3 {
		t.Errorf("with an unparsable OMPI_COMM_WORLD_SIZE: LaunchedSize() = %d, want PMI_SIZE's 3", LaunchedSize())
	}
}
