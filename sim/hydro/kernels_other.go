//go:build !amd64 || purego

package hydro

// vectorKernels: no vector kernels on this architecture.
func vectorKernels() (kernels, bool) { return kernels{}, false }
