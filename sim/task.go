package main

import "errors"

// taskCmd is a placeholder until checkpointing lands.
func taskCmd(args []string) error { return errors.New("not yet") }
