package main

import (
	"errors"
	"io"
)

// planCmd is a placeholder until the campaign package lands.
func planCmd(args []string, w io.Writer) error { return errors.New("not yet") }
