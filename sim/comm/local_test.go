package comm_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/turbindex/turbindex/sim/comm"
	"github.com/turbindex/turbindex/sim/comm/commtest"
)

func TestLocalConformance(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 7} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			for range 3 { // reuse of the rendezvous across generations
				if err := comm.NewLocal(n).Run(commtest.Exercise); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestLocalAbort checks that one failing rank releases the others, which are
// blocked in a receive and a collective, promptly and with the cause.
func TestLocalAbort(t *testing.T) {
	w := comm.NewLocal(3)
	start := time.Now()
	err := w.Run(func(c comm.Comm) error {
		switch c.Rank() {
		case 0:
			return errors.New("disk full")
		case 1:
			return c.Sendrecv(nil, comm.None, make([]float64, 1), 2, 0)
		}
		_, err := c.AllreduceMin(1)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "rank 0: disk full") {
		t.Fatalf("error %v, want rank 0's cause", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("abort took %v", d)
	}
}

func TestAgree(t *testing.T) {
	for _, failing := range []int{-1, 0, 2} {
		got := make([]bool, 3)
		err := comm.NewLocal(3).Run(func(c comm.Comm) error {
			var mine error
			if c.Rank() == failing {
				mine = errors.New("this rank failed")
			}
			all, err := comm.Agree(c, mine)
			got[c.Rank()] = all
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for r, all := range got {
			if all != (failing < 0) {
				t.Errorf("rank %d failing: rank %d says all succeeded = %v", failing, r, all)
			}
		}
	}
}
