// Command train will build the image dataset from snapshots and train the
// CNN that reads the turbulence index off column-density maps (issue 5).
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "train: not yet implemented (the CNN trainer arrives with its issue); see README.md")
	os.Exit(1)
}
