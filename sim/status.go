package main

import (
	"errors"
	"io"
)

// statusCmd is a placeholder until the campaign package lands.
func statusCmd(args []string, w io.Writer) error { return errors.New("not yet") }
