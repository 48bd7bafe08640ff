// Package cuda finds and opens NVIDIA's CUDA driver and cuBLAS at run time,
// without cgo: the train binary is built without any CUDA toolkit, starts on
// every node, and uses a GPU only where the driver library is present.
//
// The driver API is reached through its `_v2` entry points and the device's
// primary context. Library search, in order: the environment variable
// (TURBINDEX_LIBCUDA, TURBINDEX_LIBCUBLAS: a path), the sonames through the
// dynamic loader's path (LD_LIBRARY_PATH, the ld.so cache), then
// $CUDA_HOME and /usr/local/cuda. Every failure is an error that says what
// was tried, so `train fit --device auto` can say why it runs on the CPU.
package cuda

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unsafe"

	"github.com/ebitengine/purego"
)

// Environment variables naming the libraries explicitly.
const (
	EnvDriver = "TURBINDEX_LIBCUDA"
	EnvCUBLAS = "TURBINDEX_LIBCUBLAS"
)

// MinDriverVersion is the oldest driver (cuDriverGetVersion's 1000·major +
// 10·minor) that loads the embedded PTX: the PTX is compiled by nvcc 13.0.
const MinDriverVersion = 13000

// ErrNoDriver wraps every "there is no usable CUDA driver here" failure,
// and ErrNoCUBLAS every failure to load cuBLAS.
var (
	ErrNoDriver = errors.New("no CUDA driver")
	ErrNoCUBLAS = errors.New("no cuBLAS")
)

// candidates returns where to look for a library: the environment variable
// alone when it is set, else the sonames (through the loader's path) and
// the toolkit directories.
func candidates(env string, sonames []string, sub string) []string {
	if p := os.Getenv(env); p != "" {
		return []string{p}
	}
	out := append([]string(nil), sonames...)
	for _, root := range []string{os.Getenv("CUDA_HOME"), "/usr/local/cuda"} {
		if root == "" {
			continue
		}
		for _, s := range sonames {
			out = append(out, filepath.Join(root, sub, s))
		}
	}
	return out
}

// open dlopens the first candidate that loads, or says what each gave.
func open(what string, paths []string, missing error) (uintptr, string, error) {
	var tried []string
	for _, p := range paths {
		h, err := purego.Dlopen(p, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err == nil {
			return h, p, nil
		}
		tried = append(tried, fmt.Sprintf("%s (%v)", p, err))
	}
	return 0, "", fmt.Errorf("%w: %s not found; tried %s", missing, what, strings.Join(tried, "; "))
}

// bind sets *fn to the library's symbol name, or says it is missing
// (purego.RegisterLibFunc would panic).
func bind(lib uintptr, path string, fn any, name string, missing error) error {
	sym, err := purego.Dlsym(lib, name)
	if err != nil {
		return fmt.Errorf("%w: %s has no %s (not the library it should be, or too old)", missing, path, name)
	}
	purego.RegisterFunc(fn, sym)
	return nil
}

// Driver is an opened CUDA driver library, initialised.
type Driver struct {
	Path    string // the library that was loaded
	Version int    // 1000·major + 10·minor

	getErrorString     func(res int32, s *uintptr) int32
	deviceGetCount     func(n *int32) int32
	deviceGet          func(dev *int32, ordinal int32) int32
	deviceGetName      func(name *byte, n int32, dev int32) int32
	deviceTotalMem     func(bytes *uint64, dev int32) int32
	deviceGetAttribute func(v *int32, attr int32, dev int32) int32
	primaryCtxRetain   func(ctx *uintptr, dev int32) int32
	primaryCtxRelease  func(dev int32) int32
	ctxSetCurrent      func(ctx uintptr) int32
	ctxSynchronize     func() int32
	memGetInfo         func(free, total *uint64) int32
	memAlloc           func(dptr *uint64, bytes uint64) int32
	memFree            func(dptr uint64) int32
	memcpyHtoD         func(dst uint64, src unsafe.Pointer, bytes uint64) int32
	memcpyDtoH         func(dst unsafe.Pointer, src uint64, bytes uint64) int32
	moduleLoadData     func(mod *uintptr, image *byte) int32
	moduleUnload       func(mod uintptr) int32
	moduleGetFunction  func(fn *uintptr, mod uintptr, name *byte) int32
	launchKernel       func(f uintptr, gx, gy, gz, bx, by, bz, shmem uint32, stream uintptr, params *unsafe.Pointer, extra *unsafe.Pointer) int32
}

// OpenDriver loads and initialises the CUDA driver. Its error wraps
// ErrNoDriver when no usable driver is here, and says what was tried.
func OpenDriver() (*Driver, error) {
	lib, path, err := open("the CUDA driver (libcuda.so.1)", candidates(EnvDriver, []string{"libcuda.so.1", "libcuda.so"}, "compat"), ErrNoDriver)
	if err != nil {
		return nil, err
	}
	d := &Driver{Path: path}
	var cuInit func(flags uint32) int32
	var driverGetVersion func(v *int32) int32
	for _, b := range []struct {
		fn   any
		name string
	}{
		{&cuInit, "cuInit"}, {&driverGetVersion, "cuDriverGetVersion"}, {&d.getErrorString, "cuGetErrorString"},
		{&d.deviceGetCount, "cuDeviceGetCount"}, {&d.deviceGet, "cuDeviceGet"}, {&d.deviceGetName, "cuDeviceGetName"},
		{&d.deviceTotalMem, "cuDeviceTotalMem_v2"}, {&d.deviceGetAttribute, "cuDeviceGetAttribute"},
		{&d.primaryCtxRetain, "cuDevicePrimaryCtxRetain"}, {&d.primaryCtxRelease, "cuDevicePrimaryCtxRelease_v2"},
		{&d.ctxSetCurrent, "cuCtxSetCurrent"}, {&d.ctxSynchronize, "cuCtxSynchronize"},
		{&d.memGetInfo, "cuMemGetInfo_v2"}, {&d.memAlloc, "cuMemAlloc_v2"}, {&d.memFree, "cuMemFree_v2"},
		{&d.memcpyHtoD, "cuMemcpyHtoD_v2"}, {&d.memcpyDtoH, "cuMemcpyDtoH_v2"},
		{&d.moduleLoadData, "cuModuleLoadData"}, {&d.moduleUnload, "cuModuleUnload"},
		{&d.moduleGetFunction, "cuModuleGetFunction"}, {&d.launchKernel, "cuLaunchKernel"},
	} {
		if err := bind(lib, path, b.fn, b.name, ErrNoDriver); err != nil {
			return nil, err
		}
	}
	if r := cuInit(0); r != 0 {
		return nil, fmt.Errorf("%w: cuInit: %s (is a GPU visible to this job? CUDA_VISIBLE_DEVICES=%q)", ErrNoDriver, d.errorString(r), os.Getenv("CUDA_VISIBLE_DEVICES"))
	}
	var v int32
	if err := d.check("cuDriverGetVersion", driverGetVersion(&v)); err != nil {
		return nil, err
	}
	d.Version = int(v)
	return d, nil
}

// VersionString formats a driver version as "major.minor".
func VersionString(v int) string { return fmt.Sprintf("%d.%d", v/1000, v%1000/10) }

// errorString is the driver's name for a CUresult.
func (d *Driver) errorString(r int32) string {
	var p uintptr
	if d.getErrorString != nil && d.getErrorString(r, &p) == 0 && p != 0 {
		return fmt.Sprintf("%s (CUresult %d)", cString(p), r)
	}
	return fmt.Sprintf("CUresult %d", r)
}

func (d *Driver) check(call string, r int32) error {
	if r == 0 {
		return nil
	}
	return &Error{Call: call, Code: int(r), Msg: d.errorString(r)}
}

// Error is a failed driver or cuBLAS call.
type Error struct {
	Call string // the API function
	Code int    // CUresult or cublasStatus_t
	Msg  string
}

func (e *Error) Error() string { return e.Call + ": " + e.Msg }

// CUresult values the engine treats apart.
const (
	errOutOfMemory     = 2
	errNoDevice        = 100
	errUnsupportedPTX  = 222
	errInvalidPTX      = 218
	attrComputeMajor   = 75
	attrComputeMinor   = 76
	attrMultiprocCount = 16
)

// OutOfMemory reports whether err is the GPU running out of memory.
func OutOfMemory(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == errOutOfMemory
}

// cString copies a NUL-terminated C string.
func cString(p uintptr) string {
	var b []byte
	for i := uintptr(0); ; i++ {
		c := *(*byte)(unsafe.Add(unsafe.Pointer(nil), p+i)) // a C string owned by the driver
		if c == 0 {
			return string(b)
		}
		b = append(b, c)
	}
}

// DeviceInfo describes one GPU.
type DeviceInfo struct {
	Ordinal         int
	Name            string
	Memory          int64 // bytes
	ComputeMajor    int
	ComputeMinor    int
	Multiprocessors int
}

func (i DeviceInfo) String() string {
	return fmt.Sprintf("GPU %d: %s, compute %d.%d, %d SMs, %.1f GiB", i.Ordinal, i.Name, i.ComputeMajor, i.ComputeMinor,
		i.Multiprocessors, float64(i.Memory)/(1<<30))
}

// Devices lists the GPUs this process can see.
func (d *Driver) Devices() ([]DeviceInfo, error) {
	var n int32
	if r := d.deviceGetCount(&n); r != 0 {
		if r == errNoDevice {
			return nil, nil
		}
		return nil, d.check("cuDeviceGetCount", r)
	}
	out := make([]DeviceInfo, 0, n)
	for i := int32(0); i < n; i++ {
		var dev int32
		if err := d.check("cuDeviceGet", d.deviceGet(&dev, i)); err != nil {
			return nil, err
		}
		name := make([]byte, 256)
		if err := d.check("cuDeviceGetName", d.deviceGetName(&name[0], int32(len(name)), dev)); err != nil {
			return nil, err
		}
		if k := strings.IndexByte(string(name), 0); k >= 0 {
			name = name[:k]
		}
		var mem uint64
		if err := d.check("cuDeviceTotalMem_v2", d.deviceTotalMem(&mem, dev)); err != nil {
			return nil, err
		}
		info := DeviceInfo{Ordinal: int(i), Name: string(name), Memory: int64(mem)}
		for _, a := range []struct {
			p    *int
			attr int32
		}{{&info.ComputeMajor, attrComputeMajor}, {&info.ComputeMinor, attrComputeMinor}, {&info.Multiprocessors, attrMultiprocCount}} {
			var v int32
			if err := d.check("cuDeviceGetAttribute", d.deviceGetAttribute(&v, a.attr, dev)); err != nil {
				return nil, err
			}
			*a.p = int(v)
		}
		out = append(out, info)
	}
	return out, nil
}

// CheckPTXDriver says whether this driver is new enough for the PTX.
func (d *Driver) CheckPTXDriver() error {
	if d.Version < MinDriverVersion {
		return fmt.Errorf("the CUDA driver %s (%s) is older than %s, which the embedded kernels need: update the driver, or rebuild the PTX for it (scripts/build-ptx.sh with an older nvcc)",
			VersionString(d.Version), d.Path, VersionString(MinDriverVersion))
	}
	return nil
}
