package cuda

import (
	"errors"
	"strings"
	"testing"
)

// TestOpenDriverMissing checks the error when the named library does not exist.
func TestOpenDriverMissing(t *testing.T) {
	t.Setenv(EnvDriver, "/nonexistent/libcuda.so.1")
	_, err := OpenDriver()
	if !errors.Is(err, ErrNoDriver) || !strings.Contains(err.Error(), "/nonexistent/libcuda.so.1") {
		t.Fatalf("OpenDriver with %s=/nonexistent/libcuda.so.1: %v; want ErrNoDriver naming the path", EnvDriver, err)
	}
}

// TestOpenDriverWrongLibrary checks that a library that loads but is not a
// CUDA driver is refused by name, not a panic.
func TestOpenDriverWrongLibrary(t *testing.T) {
	t.Setenv(EnvDriver, "libm.so.6")
	_, err := OpenDriver()
	if !errors.Is(err, ErrNoDriver) || !strings.Contains(err.Error(), "libm.so.6 has no cuInit") {
		t.Fatalf("OpenDriver with libm.so.6: %v; want ErrNoDriver saying it has no cuInit", err)
	}
}

// TestProbe finds the GPU where there is one; elsewhere it checks that the
// search says what it tried. With TURBINDEX_REQUIRE_CUDA=1 a missing
// driver fails the test.
func TestProbe(t *testing.T) {
	d, openErr := OpenDriver()
	if openErr != nil {
		if Required() {
			t.Fatalf("%s=1 but: %v", EnvRequire, openErr)
		}
		if !errors.Is(openErr, ErrNoDriver) || !strings.Contains(openErr.Error(), "libcuda.so.1") {
			t.Fatalf("OpenDriver on a machine without a driver: %v; want ErrNoDriver listing libcuda.so.1", openErr)
		}
		use, note, err := Resolve(Auto)
		if err != nil || use != CPU || !strings.Contains(note, "libcuda.so.1") {
			t.Fatalf("Resolve(auto) = %q, %q, %v; want cpu with the reason", use, note, err)
		}
		if _, _, err := Resolve(CUDA); !errors.Is(err, ErrNoDriver) {
			t.Fatalf("Resolve(cuda) without a driver: %v", err)
		}
		t.Skipf("no CUDA driver here (%v): the failure paths are checked, the GPU ones skip", openErr)
	}
	devs, err := d.Devices()
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) == 0 {
		t.Fatalf("driver %s (%s) loaded but sees no GPU", d.Path, VersionString(d.Version))
	}
	for _, dv := range devs {
		if dv.Name == "" || dv.Memory <= 0 || dv.ComputeMajor <= 0 {
			t.Errorf("implausible device: %+v", dv)
		}
		t.Logf("driver %s %s: %s", d.Path, VersionString(d.Version), dv)
	}
}

func TestParseDevice(t *testing.T) {
	for _, s := range []string{"auto", "cpu", "cuda"} {
		if d, err := ParseDevice(s); err != nil || string(d) != s {
			t.Errorf("ParseDevice(%q) = %q, %v", s, d, err)
		}
	}
	if _, err := ParseDevice("gpu"); err == nil || !strings.Contains(err.Error(), `"gpu"`) {
		t.Errorf("ParseDevice(gpu) = %v; want an error naming the value", err)
	}
}

func TestVersionString(t *testing.T) {
	for v, want := range map[int]string{13000: "13.0", 12040: "12.4", 11080: "11.8"} {
		if got := VersionString(v); got != want {
			t.Errorf("VersionString(%d) = %q, want %q", v, got, want)
		}
	}
}
