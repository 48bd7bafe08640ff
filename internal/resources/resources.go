// Package resources says what this process may use (memory, CPUs) and
// refuses work that would not fit.
//
// The memory budget is the tightest of the limits that bind this process:
// its cgroup's (v2 memory.max, v1 memory.limit_in_bytes, on its own cgroup
// and every ancestor), SLURM's (SLURM_MEM_PER_NODE, or SLURM_MEM_PER_CPU
// times the CPUs) and the memory the kernel could give it now
// (MemAvailable in /proc/meminfo), since a cgroup limit above what the
// machine has free does not make more memory. The CPU count is
// SLURM_CPUS_PER_TASK where set, else the CPUs of the affinity mask, lowered
// to a cgroup v2 CPU quota (cpu.max) when there is one. DiskFree and
// FitDisk do the same for the free space of a file system.
package resources

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"runtime"
	"strconv"
	"strings"
)

// Limits are what this process may use.
type Limits struct {
	Memory       int64  // bytes this process may use
	MemorySource string // where Memory comes from: "cgroup v2 memory.max", "SLURM_MEM_PER_NODE", "MemAvailable", "--memory", ...
	CPUs         int    // CPUs this process may keep busy
	CPUSource    string // where CPUs comes from: "SLURM_CPUS_PER_TASK", "affinity mask", "cgroup v2 cpu.max"
}

// System is where Detect reads the limits: a file system rooted where /
// would be, the environment and the affinity mask. Tests fake all three.
type System struct {
	FS     fs.FS               // holds proc/self/cgroup, proc/meminfo, sys/fs/cgroup/...
	Getenv func(string) string // the environment
	NumCPU func() int          // CPUs in the affinity mask
}

// Host is the system this process runs on.
func Host() System {
	return System{FS: os.DirFS("/"), Getenv: os.Getenv, NumCPU: runtime.NumCPU}
}

// Detect returns the limits of this process on its host.
func Detect() (Limits, error) { return Host().Detect() }

// Detect returns the limits that s describes. It fails only when no
// memory limit at all can be found (no cgroup limit, no SLURM variable and
// no /proc/meminfo); the CPU count always has an answer.
func (s System) Detect() (Limits, error) {
	var l Limits
	l.CPUs, l.CPUSource = s.cpus()
	mem, src := int64(math.MaxInt64), ""
	consider := func(b int64, from string) {
		if b > 0 && b < mem {
			mem, src = b, from
		}
	}
	var errs []error
	b, from, err := s.cgroupMemory()
	if err != nil {
		errs = append(errs, err)
	}
	consider(b, from)
	b, from, err = s.slurmMemory(l.CPUs)
	if err != nil {
		errs = append(errs, err)
	}
	consider(b, from)
	b, err = s.memAvailable()
	if err != nil {
		errs = append(errs, err)
	}
	consider(b, "MemAvailable")
	if src == "" {
		return l, fmt.Errorf("cannot tell how much memory this process may use (give it with --memory): %w", errors.Join(errs...))
	}
	l.Memory, l.MemorySource = mem, src
	return l, nil
}

// cpus returns SLURM_CPUS_PER_TASK, else the affinity mask's CPUs lowered
// to the cgroup v2 quota.
func (s System) cpus() (int, string) {
	if v := s.Getenv("SLURM_CPUS_PER_TASK"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return n, "SLURM_CPUS_PER_TASK"
		}
	}
	n, src := 1, "default"
	if s.NumCPU != nil {
		if m := s.NumCPU(); m > 0 {
			n, src = m, "affinity mask"
		}
	}
	if q := s.cgroupCPUQuota(); q > 0 && q < n {
		n, src = q, "cgroup v2 cpu.max"
	}
	return n, src
}

// cgroupCPUQuota returns ⌈quota/period⌉ of the cgroup v2 cpu.max of this
// process's cgroup and its ancestors (the smallest), 0 when unlimited.
func (s System) cgroupCPUQuota() int {
	best := 0
	for _, dir := range s.cgroupDirs("") {
		data, err := fs.ReadFile(s.FS, path.Join(dir, "cpu.max"))
		if err != nil {
			continue
		}
		f := strings.Fields(string(data))
		if len(f) != 2 || f[0] == "max" {
			continue
		}
		q, err1 := strconv.ParseFloat(f[0], 64)
		p, err2 := strconv.ParseFloat(f[1], 64)
		if err1 != nil || err2 != nil || q <= 0 || p <= 0 {
			continue
		}
		if n := int(math.Ceil(q / p)); best == 0 || n < best {
			best = n
		}
	}
	return best
}

// cgroupMemory returns the tightest memory limit of this process's cgroup
// and its ancestors, v2 first, then v1; 0 when there is none.
func (s System) cgroupMemory() (int64, string, error) {
	for _, v := range []struct{ controller, file, name string }{
		{"", "memory.max", "cgroup v2 memory.max"},
		{"memory", "memory.limit_in_bytes", "cgroup v1 memory.limit_in_bytes"},
	} {
		var best int64
		for _, dir := range s.cgroupDirs(v.controller) {
			data, err := fs.ReadFile(s.FS, path.Join(dir, v.file))
			if err != nil {
				continue
			}
			t := strings.TrimSpace(string(data))
			if t == "max" {
				continue
			}
			b, err := strconv.ParseInt(t, 10, 64)
			if err != nil {
				return 0, "", fmt.Errorf("/%s/%s: %q is not a byte count", dir, v.file, t)
			}
			// v1 writes "no limit" as the largest page-aligned int64.
			if b <= 0 || b >= math.MaxInt64&^(1<<20-1) {
				continue
			}
			if best == 0 || b < best {
				best = b
			}
		}
		if best > 0 {
			return best, v.name, nil
		}
	}
	return 0, "", nil
}

// cgroupDirs returns, for controller ("" for the v2 unified hierarchy), the
// directories (relative to the root of s.FS) of this process's cgroup and
// its ancestors, innermost first. When /proc/self/cgroup names a path that
// is not under the mount (a cgroup namespace shows "/" or a path of the
// host), the mount's root is used.
func (s System) cgroupDirs(controller string) []string {
	mount := "sys/fs/cgroup"
	if controller != "" {
		mount = path.Join(mount, controller)
	}
	rel := "/"
	if data, err := fs.ReadFile(s.FS, "proc/self/cgroup"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			// hierarchy-ID:controller-list:path
			parts := strings.SplitN(sc.Text(), ":", 3)
			if len(parts) != 3 {
				continue
			}
			if controller == "" && parts[0] == "0" && parts[1] == "" ||
				controller != "" && contains(strings.Split(parts[1], ","), controller) {
				rel = parts[2]
			}
		}
	}
	leaf := path.Join(mount, rel)
	if _, err := fs.Stat(s.FS, leaf); err != nil {
		leaf = mount
	}
	var dirs []string
	for d := leaf; ; d = path.Dir(d) {
		dirs = append(dirs, d)
		if d == mount || !strings.HasPrefix(d, mount+"/") {
			break
		}
	}
	return dirs
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// slurmMemory returns SLURM's memory limit of this job on this node:
// SLURM_MEM_PER_NODE, else SLURM_MEM_PER_CPU × cpus (both in MiB); 0 when
// neither is set.
func (s System) slurmMemory(cpus int) (int64, string, error) {
	for _, name := range []string{"SLURM_MEM_PER_NODE", "SLURM_MEM_PER_CPU"} {
		v := s.Getenv(name)
		if v == "" {
			continue
		}
		mib, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			// Plain MiB is what SLURM writes; take "4G" too.
			b, perr := ParseBytes(v)
			if perr != nil {
				return 0, "", fmt.Errorf("%s=%q: not a count of MiB", name, v)
			}
			mib, err = (b+1<<20-1)>>20, nil
		}
		if mib < 0 || mib > math.MaxInt64>>20 {
			return 0, "", fmt.Errorf("%s=%q: not a count of MiB", name, v)
		}
		if mib == 0 { // SLURM's "all the node's memory"
			return 0, "", nil
		}
		if name == "SLURM_MEM_PER_CPU" {
			if mib > math.MaxInt64>>20/int64(cpus) {
				return 0, "", fmt.Errorf("%s=%q: too large", name, v)
			}
			return mib << 20 * int64(cpus), fmt.Sprintf("SLURM_MEM_PER_CPU × %d CPUs", cpus), nil
		}
		return mib << 20, name, nil
	}
	return 0, "", nil
}

// memAvailable returns MemAvailable from /proc/meminfo.
func (s System) memAvailable() (int64, error) {
	data, err := fs.ReadFile(s.FS, "proc/meminfo")
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == "MemAvailable:" && f[2] == "kB" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil || kb < 0 || kb > math.MaxInt64>>10 {
				return 0, fmt.Errorf("/proc/meminfo: MemAvailable %q", f[1])
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("/proc/meminfo: no MemAvailable line")
}

// ParseBytes reads a memory size: a plain count of bytes ("1048576"), or a
// number with a unit. K, M, G, T and KiB, MiB, GiB, TiB are powers of 1024
// (as SLURM's --mem reads them); KB, MB, GB, TB are powers of 1000. Case
// and a space before the unit do not matter. The size must be positive.
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r == '.')
	})
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.ToUpper(strings.TrimSpace(t[i:]))
	}
	scale := map[string]float64{
		"": 1, "B": 1,
		"K": 1 << 10, "KIB": 1 << 10, "KB": 1e3,
		"M": 1 << 20, "MIB": 1 << 20, "MB": 1e6,
		"G": 1 << 30, "GIB": 1 << 30, "GB": 1e9,
		"T": 1 << 40, "TIB": 1 << 40, "TB": 1e12,
	}[unit]
	if scale == 0 {
		return 0, fmt.Errorf("memory size %q: unknown unit %q (want bytes, K, M, G, T, KiB…TiB or KB…TB)", s, unit)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" {
		return 0, fmt.Errorf("memory size %q: not a number with an optional unit such as 4G or 512MiB", s)
	}
	b := math.Round(v * scale)
	switch {
	case b < 1:
		return 0, fmt.Errorf("memory size %q: must be at least one byte", s)
	case b >= math.MaxInt64:
		return 0, fmt.Errorf("memory size %q: too large", s)
	}
	return int64(b), nil
}

// FormatBytes writes b with a binary unit and two significant decimals
// ("3.2 GiB", "512 MiB", "900 B").
func FormatBytes(b int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, u := float64(b), 0
	for math.Abs(v) >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	switch {
	case u == 0:
		return fmt.Sprintf("%d B", b)
	case math.Abs(v) < 10:
		return fmt.Sprintf("%.1f %s", v, units[u])
	}
	return fmt.Sprintf("%.0f %s", v, units[u])
}

// TooBigError is work refused because it needs more memory than this
// process may use. Commands treat it as a refused command line (exit
// status 2): nothing was done, and the remedy is a different command.
type TooBigError struct {
	What   string // the work: "sim run --grid 2000"
	Need   int64  // bytes it needs
	Have   int64  // bytes this process may use
	Source string // where Have comes from
	Remedy string // what to change
}

func (e *TooBigError) Error() string {
	msg := fmt.Sprintf("%s needs %s, this process may use %s (%s)", e.What, FormatBytes(e.Need), FormatBytes(e.Have), e.Source)
	if e.Remedy != "" {
		msg += "; " + e.Remedy
	}
	return msg
}

// IsTooBig reports whether err is (or wraps) a TooBigError.
func IsTooBig(err error) bool {
	var e *TooBigError
	return errors.As(err, &e)
}

// Fit returns nil if need bytes fit in l.Memory, else a *TooBigError that
// reads "<what> needs 3.2 GiB, this process may use 2.0 GiB (cgroup v2
// memory.max); <remedy>". A negative need (an overflowed estimate) never
// fits.
func (l Limits) Fit(what string, need int64, remedy string) error {
	if need >= 0 && need <= l.Memory {
		return nil
	}
	if need < 0 {
		need = math.MaxInt64
	}
	return &TooBigError{What: what, Need: need, Have: l.Memory, Source: l.MemorySource, Remedy: remedy}
}
