package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/turbindex/turbindex/sim/physics"
)

// flagNames maps the fields that library errors (*physics.Error) name to
// the flags of sim run and sim plan that set them, where the two differ;
// otherwise the flag is the field with '-' for '_' (rho_left: --rho-left).
var flagNames = map[string]string{"tend_myr": "tend", "box_pc": "box", "temp_k": "temp", "rho0_cgs": "rho0"}

// flagError rewrites a library error about a field as one about its flag,
// for the user who typed the flag: "tend_myr -1: must be positive" becomes
// "--tend -1: must be positive". Other errors are returned as they are.
func flagError(err error) error {
	var fe *physics.Error
	if !errors.As(err, &fe) {
		return err
	}
	name, ok := flagNames[fe.Field]
	if !ok {
		name = strings.ReplaceAll(fe.Field, "_", "-")
	}
	return fmt.Errorf("--%s %s: %s", name, fe.Value, fe.Msg)
}
