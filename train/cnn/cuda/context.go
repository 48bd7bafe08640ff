package cuda

import (
	"fmt"
	"runtime"
	"unsafe"
)

// Context is a GPU's primary context with the module of the kernels
// loaded. The driver keeps the current context per OS thread: call its
// other methods inside Do, which pins the goroutine to its thread and makes
// the context current there.
type Context struct {
	d      *Driver
	dev    int32
	ctx    uintptr
	module uintptr
	fns    map[string]uintptr
}

// NewContext retains device ordinal's primary context, makes it current
// and loads ptx (kernels.PTX()).
func (d *Driver) NewContext(ordinal int, ptx []byte) (*Context, error) {
	c := &Context{d: d, fns: map[string]uintptr{}}
	if err := d.check("cuDeviceGet", d.deviceGet(&c.dev, int32(ordinal))); err != nil {
		return nil, err
	}
	if err := d.check("cuDevicePrimaryCtxRetain", d.primaryCtxRetain(&c.ctx, c.dev)); err != nil {
		return nil, err
	}
	err := c.Do(func() error {
		img := append(append([]byte(nil), ptx...), 0)
		r := d.moduleLoadData(&c.module, &img[0])
		if r == errUnsupportedPTX || r == errInvalidPTX {
			return fmt.Errorf("the driver %s cannot load the embedded PTX (%s): update the driver or rebuild the PTX for it", VersionString(d.Version), d.errorString(r))
		}
		return d.check("cuModuleLoadData", r)
	})
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Do runs f with the context current on the calling goroutine's thread.
func (c *Context) Do(f func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := c.d.check("cuCtxSetCurrent", c.d.ctxSetCurrent(c.ctx)); err != nil {
		return err
	}
	return f()
}

// Close unloads the module and releases the primary context.
func (c *Context) Close() {
	if c.module != 0 {
		c.Do(func() error { c.d.moduleUnload(c.module); return nil })
		c.module = 0
	}
	if c.ctx != 0 {
		c.d.primaryCtxRelease(c.dev)
		c.ctx = 0
	}
}

// MemInfo returns the device's free and total memory, bytes.
func (c *Context) MemInfo() (free, total int64, err error) {
	var f, t uint64
	err = c.d.check("cuMemGetInfo_v2", c.d.memGetInfo(&f, &t))
	return int64(f), int64(t), err
}

// Ptr is a device address.
type Ptr uint64

// Alloc allocates bytes of device memory. Out of memory is an *Error for
// which OutOfMemory is true.
func (c *Context) Alloc(bytes int64) (Ptr, error) {
	var p uint64
	err := c.d.check("cuMemAlloc_v2", c.d.memAlloc(&p, uint64(bytes)))
	return Ptr(p), err
}

// Free releases device memory.
func (c *Context) Free(p Ptr) error { return c.d.check("cuMemFree_v2", c.d.memFree(uint64(p))) }

// Upload copies src to the device at dst.
func Upload[T float32 | uint8](c *Context, dst Ptr, src []T) error {
	if len(src) == 0 {
		return nil
	}
	var z T
	return c.d.check("cuMemcpyHtoD_v2", c.d.memcpyHtoD(uint64(dst), unsafe.Pointer(&src[0]), uint64(len(src))*uint64(unsafe.Sizeof(z))))
}

// Download copies len(dst) elements from the device at src.
func Download[T float32 | uint8](c *Context, dst []T, src Ptr) error {
	if len(dst) == 0 {
		return nil
	}
	var z T
	return c.d.check("cuMemcpyDtoH_v2", c.d.memcpyDtoH(unsafe.Pointer(&dst[0]), uint64(src), uint64(len(dst))*uint64(unsafe.Sizeof(z))))
}

// BlockSize is the threads per block of every kernel launch.
const BlockSize = 256

// Launch runs kernel name over total thread indices (the kernels'
// first parameter), with args the rest of its parameters: int32 for C int,
// int64 for long, Ptr for pointers. It waits for the kernel to finish.
func (c *Context) Launch(name string, total int64, args ...any) error {
	fn, ok := c.fns[name]
	if !ok {
		cname := append([]byte(name), 0)
		if err := c.d.check("cuModuleGetFunction "+name, c.d.moduleGetFunction(&fn, c.module, &cname[0])); err != nil {
			return err
		}
		c.fns[name] = fn
	}
	vals := make([]uint64, 1+len(args)) // every parameter in its own 8-byte slot
	params := make([]unsafe.Pointer, len(vals))
	vals[0] = uint64(total)
	for i, a := range args {
		switch v := a.(type) {
		case int32:
			vals[i+1] = uint64(uint32(v))
		case int64:
			vals[i+1] = uint64(v)
		case Ptr:
			vals[i+1] = uint64(v)
		default:
			return fmt.Errorf("launch %s: argument %d has type %T, want int32, int64 or Ptr", name, i+1, a)
		}
	}
	for i := range vals {
		params[i] = unsafe.Pointer(&vals[i])
	}
	grid := uint32((total + BlockSize - 1) / BlockSize)
	if err := c.d.check("cuLaunchKernel "+name, c.d.launchKernel(fn, grid, 1, 1, BlockSize, 1, 1, 0, 0, &params[0], nil)); err != nil {
		return err
	}
	err := c.d.check("cuCtxSynchronize after "+name, c.d.ctxSynchronize())
	runtime.KeepAlive(vals)
	return err
}
