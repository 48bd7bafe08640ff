package mpi

// TestLaunch runs in the plain build (go test ./...): it builds this
// package's tests with -tags mpi for each installed MPI, starts them under
// that MPI's launcher with 1 to 4 ranks, and checks that every rank passed
// the conformance suite. By hand (Open MPI, as root):
//
//	go test -c -tags mpi -o /tmp/mpi.test ./sim/comm/mpi
//	OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
//	  mpirun.openmpi --oversubscribe -np 3 /tmp/mpi.test -test.v
//
// and for MPICH: go test -c -tags mpi,mpich ..., then mpirun.mpich -np 3 ....

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// implementation is one MPI library and the launcher that goes with it.
type implementation struct {
	name      string   // subtest name
	tags      string   // build tags of the test binary
	pkgConfig string   // pkg-config package the binding links against
	debs      string   // Debian packages that provide it
	launchers []string // launcher commands to look for, in order
	version   string   // what `launcher --version` must print if set
	args      []string // launcher options before -np
	env       []string // added to the environment
}

var implementations = []implementation{
	{
		name: "openmpi", tags: "mpi", pkgConfig: "ompi", debs: "openmpi-bin libopenmpi-dev",
		// Plain mpirun only if it is Open MPI's: an MPICH launcher would
		// start singletons.
		launchers: []string{"mpirun.openmpi", "mpirun"}, version: "Open MPI",
		// More ranks than cores; as root, mpirun refuses without the
		// two variables (harmless otherwise).
		args: []string{"--oversubscribe"},
		env:  []string{"OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"},
	},
	{
		name: "mpich", tags: "mpi,mpich", pkgConfig: "mpich", debs: "mpich libmpich-dev",
		launchers: []string{"mpirun.mpich"},
	},
}

// The timeouts: a hang is a failure, and a rank stuck in a collective
// would otherwise hold the test until go test's own timeout.
const (
	buildTimeout = 3 * time.Minute
	runTimeout   = 60 * time.Second
	abortTimeout = 20 * time.Second
)

var conformanceLine = regexp.MustCompile(`conformance: rank (\d+) size (\d+) ok`)

func TestLaunch(t *testing.T) {
	if Enabled {
		t.Skip("the launcher test runs in the build without -tags mpi; this binary is the one it launches")
	}
	if testing.Short() {
		t.Skip("builds and launches MPI jobs; skipped with -short")
	}
	for _, impl := range implementations {
		t.Run(impl.name, func(t *testing.T) {
			launcher := impl.find(t)
			bin := impl.build(t)
			for np := 1; np <= 4; np++ {
				t.Run(fmt.Sprintf("np%d", np), func(t *testing.T) {
					start := time.Now()
					out, errOut, err := impl.launch(t, launcher, bin, np, runTimeout, nil,
						"-test.run", "^(TestConformance|TestMatchesLocal|TestErrors)$", "-test.v", "-test.timeout", "45s")
					t.Logf("%s -np %d: %v", impl.name, np, time.Since(start).Round(time.Millisecond))
					if err != nil {
						t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
					}
					checkRanks(t, np, out, errOut)
				})
			}
			t.Run("abort", func(t *testing.T) {
				start := time.Now()
				_, errOut, err := impl.launch(t, launcher, bin, 3, abortTimeout, []string{"TURBINDEX_MPI_ABORT_TEST=1"},
					"-test.run", "^TestAbortHelper$", "-test.v")
				t.Logf("%s abort with 3 ranks: %v", impl.name, time.Since(start).Round(time.Millisecond))
				var exit *exec.ExitError
				switch {
				case errors.Is(err, context.DeadlineExceeded):
					t.Fatalf("the job did not end within %v of rank 1's Abort\nstderr:\n%s", abortTimeout, errOut)
				case err == nil:
					t.Fatalf("exit status 0 after Abort\nstderr:\n%s", errOut)
				case !errors.As(err, &exit):
					t.Fatalf("%v\nstderr:\n%s", err, errOut)
				}
				if !strings.Contains(errOut, "rank 1 of 3: injected failure") {
					t.Fatalf("stderr lacks %q:\n%s", "rank 1 of 3: injected failure", errOut)
				}
			})
		})
	}
}

// find returns the launcher's path, or skips the test naming the packages
// to install.
func (impl implementation) find(t *testing.T) string {
	t.Helper()
	missing := func(what string) {
		t.Skipf("%s not found: install the Debian packages %s to test the %s build", what, impl.debs, impl.name)
	}
	if _, err := exec.LookPath("pkg-config"); err != nil {
		missing("pkg-config")
	}
	if err := exec.Command("pkg-config", "--exists", impl.pkgConfig).Run(); err != nil {
		missing("pkg-config package " + impl.pkgConfig)
	}
	for _, name := range impl.launchers {
		path, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		if impl.version != "" {
			v, _ := exec.Command(path, "--version").CombinedOutput()
			if !bytes.Contains(v, []byte(impl.version)) {
				continue
			}
		}
		return path
	}
	missing("launcher " + strings.Join(impl.launchers, " or "))
	return ""
}

// build compiles this package's tests with the implementation's tags.
func (impl implementation) build(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found on PATH")
	}
	bin := filepath.Join(t.TempDir(), impl.name+".test")
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, gobin, "test", "-c", "-tags", impl.tags, "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go test -c -tags %s: %v\n%s", impl.tags, err, out)
	}
	t.Logf("built the %s test binary in %v", impl.name, time.Since(start).Round(time.Millisecond))
	return bin
}

// launch runs bin under the launcher with np ranks and returns its stdout
// and stderr. The error wraps context.DeadlineExceeded if it ran past
// timeout; the launcher is then terminated, and with it its ranks.
func (impl implementation) launch(t *testing.T, launcher, bin string, np int, timeout time.Duration, env []string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	argv := append(append(append([]string(nil), impl.args...), "-np", strconv.Itoa(np), bin), args...)
	cmd := exec.CommandContext(ctx, launcher, argv...)
	cmd.Env = append(append(launchEnv(), impl.env...), env...)
	// SIGTERM, not SIGKILL: mpirun then kills its ranks before exiting.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s -np %d still running after %v: %w", filepath.Base(launcher), np, timeout, ctx.Err())
	}
	return stdout.String(), stderr.String(), err
}

// launchEnv is this process's environment without the variables of an
// enclosing MPI job (if go test itself runs under mpirun or srun), which
// would make the launched ranks try to join that job.
func launchEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "PMI_") || strings.HasPrefix(name, "PMIX_") ||
			strings.HasPrefix(name, "OMPI_COMM_WORLD_") || strings.HasPrefix(name, "MPI_LOCAL") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// checkRanks asserts exactly one conformance line for each rank 0..np-1,
// each with size np: fewer or duplicate ranks, or size 1, mean the ranks
// did not form one job.
func checkRanks(t *testing.T, np int, out, errOut string) {
	t.Helper()
	seen := make([]int, np)
	lines := conformanceLine.FindAllStringSubmatch(out, -1)
	for _, m := range lines {
		r, _ := strconv.Atoi(m[1])
		size, _ := strconv.Atoi(m[2])
		if size != np || r < 0 || r >= np {
			t.Fatalf("%q from a job of %d ranks\nstdout:\n%s\nstderr:\n%s", m[0], np, out, errOut)
		}
		seen[r]++
	}
	for r, k := range seen {
		if k != 1 {
			t.Fatalf("rank %d reported %d times (%d lines in all, want %d)\nstdout:\n%s\nstderr:\n%s", r, k, len(lines), np, out, errOut)
		}
	}
}
