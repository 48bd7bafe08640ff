package resources

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"testing/fstest"
)

const gib = 1 << 30

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

const meminfo = "MemTotal:       24000000 kB\nMemFree:  1000 kB\nMemAvailable:   20971520 kB\n" // 20 GiB

func TestDetect(t *testing.T) {
	v2 := fstest.MapFS{
		"proc/self/cgroup":                            file("0::/slurm/job_7/step_0\n"),
		"proc/meminfo":                                file(meminfo),
		"sys/fs/cgroup/slurm/memory.max":              file("max\n"),
		"sys/fs/cgroup/slurm/job_7/memory.max":        file(fmt.Sprint(4*gib) + "\n"),
		"sys/fs/cgroup/slurm/job_7/step_0/memory.max": file("max\n"),
		"sys/fs/cgroup/slurm/job_7/step_0/cpu.max":    file("250000 100000\n"),
	}
	v1 := fstest.MapFS{
		"proc/self/cgroup": file("5:cpu,cpuacct:/\n4:memory:/job/12\n0::/\n"),
		"proc/meminfo":     file(meminfo),
		"sys/fs/cgroup/memory/memory.limit_in_bytes":        file("9223372036854771712\n"),
		"sys/fs/cgroup/memory/job/memory.limit_in_bytes":    file(fmt.Sprint(3*gib) + "\n"),
		"sys/fs/cgroup/memory/job/12/memory.limit_in_bytes": file("9223372036854771712\n"),
	}
	// A cgroup namespace: /proc/self/cgroup names a host path that is not
	// under the mount, whose root is this process's cgroup.
	v1ns := fstest.MapFS{
		"proc/self/cgroup": file("4:memory:/process_api/34d07bee\n0::/\n"),
		"proc/meminfo":     file(meminfo),
		"sys/fs/cgroup/memory/memory.limit_in_bytes": file(fmt.Sprint(2*gib) + "\n"),
	}
	bare := fstest.MapFS{"proc/meminfo": file(meminfo)}
	lowAvail := fstest.MapFS{
		"proc/self/cgroup":         file("0::/\n"),
		"proc/meminfo":             file("MemAvailable: 1048576 kB\n"),
		"sys/fs/cgroup/memory.max": file(fmt.Sprint(4*gib) + "\n"),
	}
	for _, tc := range []struct {
		name    string
		fs      fstest.MapFS
		env     func(string) string
		ncpu    int
		mem     int64
		memSrc  string
		cpus    int
		cpuSrc  string
		wantErr bool
	}{
		{"v2 job limit, cpu quota", v2, env(), 8, 4 * gib, "cgroup v2 memory.max", 3, "cgroup v2 cpu.max", false},
		{"v2 and a tighter SLURM", v2, env("SLURM_MEM_PER_NODE", "2048", "SLURM_CPUS_PER_TASK", "2"), 8, 2 * gib, "SLURM_MEM_PER_NODE", 2, "SLURM_CPUS_PER_TASK", false},
		{"v1 ancestor's limit", v1, env(), 4, 3 * gib, "cgroup v1 memory.limit_in_bytes", 4, "affinity mask", false},
		{"v1 namespaced", v1ns, env(), 4, 2 * gib, "cgroup v1 memory.limit_in_bytes", 4, "affinity mask", false},
		{"MemAvailable only", bare, env(), 2, 20 * gib, "MemAvailable", 2, "affinity mask", false},
		{"a looser SLURM", v2, env("SLURM_MEM_PER_NODE", "40000"), 8, 4 * gib, "cgroup v2 memory.max", 3, "cgroup v2 cpu.max", false},
		{"MemAvailable below the cgroup", lowAvail, env(), 1, 1 * gib, "MemAvailable", 1, "affinity mask", false},
		{"SLURM per CPU", bare, env("SLURM_MEM_PER_CPU", "1024", "SLURM_CPUS_PER_TASK", "3"), 16, 3 * gib, "SLURM_MEM_PER_CPU × 3 CPUs", 3, "SLURM_CPUS_PER_TASK", false},
		{"SLURM with a unit", bare, env("SLURM_MEM_PER_NODE", "5G"), 1, 5 * gib, "SLURM_MEM_PER_NODE", 1, "affinity mask", false},
		{"SLURM 0 is the whole node", bare, env("SLURM_MEM_PER_NODE", "0"), 1, 20 * gib, "MemAvailable", 1, "affinity mask", false},
		{"nothing to read", fstest.MapFS{}, env(), 1, 0, "", 1, "affinity mask", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := System{FS: tc.fs, Getenv: tc.env, NumCPU: func() int { return tc.ncpu }}
			l, err := s.Detect()
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "--memory") {
					t.Fatalf("err = %v, want one that names --memory", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := Limits{Memory: tc.mem, MemorySource: tc.memSrc, CPUs: tc.cpus, CPUSource: tc.cpuSrc}
			if l != want {
				t.Errorf("got %+v, want %+v", l, want)
			}
		})
	}
}

func TestDetectBadInput(t *testing.T) {
	for _, tc := range []struct {
		fs  fstest.MapFS
		env func(string) string
	}{
		{fstest.MapFS{"sys/fs/cgroup/memory.max": file("lots\n")}, env()},
		{fstest.MapFS{}, env("SLURM_MEM_PER_NODE", "many")},
		{fstest.MapFS{"proc/meminfo": file("MemAvailable: x kB\n")}, env()},
	} {
		if _, err := (System{FS: tc.fs, Getenv: tc.env}).Detect(); err == nil {
			t.Errorf("%v: no error", tc.fs)
		}
	}
	// A bad SLURM_CPUS_PER_TASK falls back to the affinity mask.
	s := System{FS: fstest.MapFS{"proc/meminfo": file(meminfo)}, Getenv: env("SLURM_CPUS_PER_TASK", "-3"), NumCPU: func() int { return 5 }}
	if l, err := s.Detect(); err != nil || l.CPUs != 5 {
		t.Errorf("got %+v, %v", l, err)
	}
}

// TestDetectHost reads this machine: some memory and at least one CPU.
func TestDetectHost(t *testing.T) {
	l, err := Detect()
	if err != nil {
		t.Skip("no memory limit readable here:", err)
	}
	if l.Memory <= 0 || l.CPUs < 1 || l.MemorySource == "" || l.CPUSource == "" {
		t.Errorf("Detect() = %+v", l)
	}
	t.Logf("%+v (%s)", l, FormatBytes(l.Memory))
}

func TestParseBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"1048576", 1 << 20},
		{"4G", 4 << 30},
		{"4g", 4 << 30},
		{"512MiB", 512 << 20},
		{"512 MiB", 512 << 20},
		{"1.5GB", 1500000000},
		{"1.5G", 3 << 29},
		{"2k", 2048},
		{"2KB", 2000},
		{"3T", 3 << 40},
		{"100B", 100},
	} {
		got, err := ParseBytes(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "G", "-1G", "0", "0.1B", "4X", "1e3", "4 GiBs", "1.2.3G", "9999999999T", "NaN", "Inf"} {
		if got, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) = %d, want an error", bad, got)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for _, tc := range []struct {
		in   int64
		want string
	}{
		{900, "900 B"}, {2048, "2.0 KiB"}, {3435973837, "3.2 GiB"}, {512 << 20, "512 MiB"},
		{math.MaxInt64, "8.0 EiB"},
	} {
		if got := FormatBytes(tc.in); got != tc.want {
			t.Errorf("FormatBytes(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFit(t *testing.T) {
	l := Limits{Memory: 2 * gib, MemorySource: "cgroup v2 memory.max"}
	if err := l.Fit("x", 2*gib, "r"); err != nil {
		t.Errorf("exact fit refused: %v", err)
	}
	err := l.Fit("sim run --grid 2000", 3435973837, "use more ranks")
	want := "sim run --grid 2000 needs 3.2 GiB, this process may use 2.0 GiB (cgroup v2 memory.max); use more ranks"
	if err == nil || err.Error() != want {
		t.Fatalf("Fit = %v, want %q", err, want)
	}
	if !IsTooBig(fmt.Errorf("wrapped: %w", err)) || IsTooBig(errors.New("other")) {
		t.Error("IsTooBig does not see through wrapping, or sees too much")
	}
	if err := l.Fit("overflow", -1, ""); err == nil || !strings.Contains(err.Error(), "8.0 EiB") {
		t.Errorf("a negative (overflowed) need: %v", err)
	}
}

func ExampleLimits_Fit() {
	l := Limits{Memory: 2 << 30, MemorySource: "--memory"}
	fmt.Println(l.Fit("sim run --grid 512", 5<<30, "run it on more ranks (--ranks) or nodes"))
	// Output: sim run --grid 512 needs 5.0 GiB, this process may use 2.0 GiB (--memory); run it on more ranks (--ranks) or nodes
}
