package cuda

import (
	"errors"
	"fmt"
	"os"

	"github.com/turbindex/turbindex/train/cnn/cuda/kernels"
)

// Device is where train runs the network: "auto", "cpu" or "cuda".
type Device string

// The devices train knows.
const (
	Auto Device = "auto" // CUDA when a usable GPU is found, else the CPU
	CPU  Device = "cpu"
	CUDA Device = "cuda"
)

// ParseDevice checks a device name.
func ParseDevice(s string) (Device, error) {
	switch d := Device(s); d {
	case Auto, CPU, CUDA:
		return d, nil
	}
	return "", fmt.Errorf("device %q: want auto, cpu or cuda", s)
}

// EnvRequire, when set to 1, makes tests that would skip for want of a GPU
// fail instead: a GPU machine's test run sets it, so a broken driver
// search cannot pass silently.
const EnvRequire = "TURBINDEX_REQUIRE_CUDA"

// Required reports whether EnvRequire demands CUDA.
func Required() bool { return os.Getenv(EnvRequire) == "1" }

// engineComplete is false while the CUDA engine's training path (device
// buffers between layers, cuBLAS products, the kernels' launches) has not
// been run on a GPU against the CPU engine: until then a GPU is found and
// described, but training stays on the CPU rather than on untested code.
const engineComplete = false

// Probe looks for a GPU that the CUDA engine can use and describes it, or
// says why there is none: no driver, no device, a driver too old for the
// PTX, no PTX in this build, or an engine not complete in this build.
func Probe() (DeviceInfo, error) {
	d, err := OpenDriver()
	if err != nil {
		return DeviceInfo{}, err
	}
	devs, err := d.Devices()
	if err != nil {
		return DeviceInfo{}, err
	}
	if len(devs) == 0 {
		return DeviceInfo{}, fmt.Errorf("%w: the driver (%s) sees no GPU (CUDA_VISIBLE_DEVICES=%q)", ErrNoDriver, d.Path, os.Getenv("CUDA_VISIBLE_DEVICES"))
	}
	if err := d.CheckPTXDriver(); err != nil {
		return devs[0], err
	}
	if _, err := kernels.PTX(); err != nil {
		return devs[0], err
	}
	if !engineComplete {
		return devs[0], errors.New("the CUDA training engine is not complete in this build (the loader, kernels and device selection are; the engine waits for a GPU run against the CPU engine)")
	}
	return devs[0], nil
}

// Resolve chooses the device to run on for the choice c: with Auto, CUDA
// when Probe finds a usable GPU, else the CPU with the reason in note; with
// CUDA, an error when it cannot be used; with CPU, the CPU.
func Resolve(c Device) (use Device, note string, err error) {
	switch c {
	case CPU:
		return CPU, "asked for", nil
	case Auto, CUDA:
		info, err := Probe()
		if err == nil {
			return CUDA, info.String(), nil
		}
		if c == CUDA {
			if info.Name != "" {
				return "", "", fmt.Errorf("%s found, but: %w", info, err)
			}
			return "", "", err
		}
		return CPU, "no usable GPU: " + err.Error(), nil
	}
	return "", "", fmt.Errorf("device %q: want auto, cpu or cuda", c)
}
