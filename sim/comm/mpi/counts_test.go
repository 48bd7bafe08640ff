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
