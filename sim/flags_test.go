package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/turbindex/turbindex/sim/physics"
)

func TestFlagError(t *testing.T) {
	for field, want := range map[string]string{
		"grid": "--grid 8: bad", "tend_myr": "--tend 8: bad", "box_pc": "--box 8: bad", "temp_k": "--temp 8: bad",
		"rho0_cgs": "--rho0 8: bad", "rho_left": "--rho-left 8: bad", "kmax": "--kmax 8: bad",
	} {
		err := fmt.Errorf("context: %w", &physics.Error{Field: field, Value: "8", Msg: "bad"})
		if got := flagError(err).Error(); got != want {
			t.Errorf("field %s: %q, want %q", field, got, want)
		}
	}
	if err := errors.New("other"); flagError(err) != err {
		t.Error("flagError changed an error that names no field")
	}
}
