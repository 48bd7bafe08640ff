// Package slurm_test checks the batch scripts of slurm/ against a real SLURM: a one-node
// cluster on localhost (scripts/slurm-local.sh), a tiny campaign submitted with submit.sh
// (in-process ranks, and 2 MPI ranks per simulation when Open MPI and srun's pmix plugin are
// there), the dependent train and analysis jobs, and checkpoints at the time limit: a task
// signalled like `--signal=USR1@T` requeues itself and resumes, and a task killed with SIGTERM
// (as at the hard time limit) resumes after resubmission with the array list `sim status`
// prints.
//
// TestSubmitDryRun needs only bash. TestSlurm needs the Debian packages slurm-wlm and munge
// and root; it skips otherwise.
package slurm_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// repoRoot is the module root (go env GOMOD), or the parent of this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(goTool(), "env", "GOMOD").Output()
	if gomod := strings.TrimSpace(string(out)); err == nil && gomod != "" && gomod != os.DevNull {
		return filepath.Dir(gomod)
	}
	abs, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// run runs a command in dir with extra environment variables and returns its stdout; it fails
// the test with stdout and stderr if the command fails.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, errOut, err := runErr(dir, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func runErr(dir string, env []string, name string, args ...string) (string, string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// ---------------------------------------------------------------------------------------------
// submit.sh without a cluster

func TestSubmitDryRun(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	root := repoRoot(t)
	submit := filepath.Join(root, "slurm", "submit.sh")
	work := t.TempDir()
	// 7 rows, a comment header and a blank line: what sim plan writes, give or take.
	manifest := "# turbindex manifest v1\n# grid=16\nid,class,index,seed,split\n"
	for i := range 7 {
		manifest += fmt.Sprintf("kolmogorov-%04d,kolmogorov,3.6666666666666665,%d,train\n", i, i+1)
	}
	if err := os.WriteFile(filepath.Join(work, "manifest.csv"), []byte(manifest+"\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	sim := filepath.Join(work, "sim")
	if err := os.WriteFile(sim, []byte("#!/bin/sh\n"), 0o777); err != nil {
		t.Fatal(err)
	}
	dry := func(env ...string) (string, string) {
		t.Helper()
		env = append([]string{"SIM=" + sim}, env...)
		out, errOut, err := runErr(work, env, submit, "--dry-run")
		if err != nil {
			t.Fatalf("submit.sh --dry-run %v: %v\n%s%s", env, err, out, errOut)
		}
		return out, errOut
	}
	has := func(text, want string) {
		t.Helper()
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}

	out, cmds := dry("PER_TASK=2")
	if out != "sim=<sim>\ntrain=<train>\nanalysis=<analysis>\n" {
		t.Errorf("stdout = %q, want the three job lines", out)
	}
	has(cmds, "--array=0-3%100 ") // 7 rows, 2 per task; the default throttle
	has(cmds, "--ntasks=1 --cpus-per-task=2 ")
	has(cmds, "--chdir="+work+" ")
	has(cmds, "--output="+work+"/logs/%x_%A_%a.out")
	has(cmds, "--signal=USR1@120")
	has(cmds, "--gres=gpu:1")
	has(cmds, "--dependency=afterok:\\<sim\\> --kill-on-invalid-dep=yes")
	has(cmds, "--dependency=afterok:\\<train\\> --kill-on-invalid-dep=yes")
	if fi, err := os.Stat(filepath.Join(work, "logs")); err != nil || !fi.IsDir() {
		t.Errorf("logs/ not created: %v", err)
	}

	_, cmds = dry("MPI=pmix", "RANKS=2", "ARRAY=3,7", "THROTTLE=", "TRAIN_GRES=", "STAGES=sim,analysis",
		"ACCOUNT=astro", "PARTITION=short", "QOS=normal", "TIME=00:20:00", "MEM_PER_CPU=2500M")
	has(cmds, `--array=3\,7 `) // printf %q quoting
	has(cmds, "--ntasks=2 --cpus-per-task=1 ")
	has(cmds, "--account=astro")
	has(cmds, "--partition=short")
	has(cmds, "--qos=normal")
	has(cmds, "--time=00:20:00")
	has(cmds, "--mem-per-cpu=2500M")
	has(cmds, "--dependency=afterok:\\<sim\\>") // analysis waits on the array when there is no train
	if strings.Contains(cmds, "train.sbatch") || strings.Contains(cmds, "--gres") {
		t.Errorf("STAGES=sim,analysis TRAIN_GRES= submitted training or a GPU:\n%s", cmds)
	}

	_, cmds = dry("RANKS=3", "PER_TASK=4", "THROTTLE=5") // in-process: 4 sims × 3 ranks
	has(cmds, "--array=0-1%5 ")
	has(cmds, "--ntasks=1 --cpus-per-task=12 ")

	// From another directory, with an absolute manifest path.
	other := t.TempDir()
	out, errOut, err := runErr(other, []string{"SIM=" + sim, "MANIFEST=" + filepath.Join(work, "manifest.csv"), "STAGES=sim"}, submit, "-n")
	if err != nil || out != "sim=<sim>\n" || !strings.Contains(errOut, "--chdir="+other+" ") {
		t.Errorf("from another directory: %v\n%s%s", err, out, errOut)
	}

	for _, bad := range [][]string{{"PER_TASK=0"}, {"RANKS=x"}, {"STAGES=sim,fit"}, {"MANIFEST=nope.csv"}} {
		if out, errOut, err := runErr(work, append([]string{"SIM=" + sim}, bad...), submit, "-n"); err == nil {
			t.Errorf("%v: accepted\n%s%s", bad, out, errOut)
		}
	}
	if out, _, err := runErr(work, nil, submit, "--help"); err != nil || !strings.Contains(out, "usage:") {
		t.Errorf("--help: %v\n%s", err, out)
	}
}

// ---------------------------------------------------------------------------------------------
// A real (one-node) SLURM

// cluster is the state TestSlurm shares with its subtests.
type cluster struct {
	root, bin string
	mpi       bool // bin/sim is an Open MPI build and srun has pmix
}

func TestSlurm(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the SLURM integration test")
	}
	for _, c := range []string{"sbatch", "squeue", "scontrol", "scancel"} {
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("no %s: install the Debian packages slurm-wlm and munge to run this test (apt-get install slurm-wlm munge)", c)
		}
	}
	if _, err := os.Stat("/usr/sbin/slurmctld"); err != nil {
		if _, err := exec.LookPath("slurmctld"); err != nil {
			t.Skip("no slurmctld: install the Debian packages slurm-wlm and munge to run this test (apt-get install slurm-wlm munge)")
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("not root: scripts/slurm-local.sh must run as root to start munged, slurmctld and slurmd")
	}
	start := time.Now()
	c := &cluster{root: repoRoot(t), bin: t.TempDir()}
	local := filepath.Join(c.root, "scripts", "slurm-local.sh")
	if _, _, err := runErr(c.root, nil, local, "status"); err != nil {
		run(t, c.root, nil, local, "start")
		t.Cleanup(func() {
			if out, errOut, err := runErr(c.root, nil, local, "stop"); err != nil {
				t.Errorf("slurm-local.sh stop: %v\n%s%s", err, out, errOut)
			}
		})
	} else {
		run(t, c.root, nil, local, "start") // running: only waits for the node
	}
	t.Logf("cluster up after %.1f s", time.Since(start).Seconds())

	// Binaries: sim with Open MPI when it and srun's pmix plugin are there.
	if _, _, err := runErr("", nil, "pkg-config", "--exists", "ompi"); err == nil {
		if out, _, err := runErr("", nil, "srun", "--mpi=list"); err == nil && strings.Contains(out, "pmix") {
			c.mpi = true
		}
	}
	simArgs := []string{"build", "-o", filepath.Join(c.bin, "sim")}
	if c.mpi {
		simArgs = append(simArgs, "-tags", "mpi")
	}
	run(t, c.root, nil, goTool(), append(simArgs, "./sim")...)
	run(t, c.root, nil, goTool(), "build", "-o", c.bin+"/", "./train", "./analysis")
	if !c.mpi {
		t.Log("no Open MPI (pkg-config ompi) or no pmix in srun --mpi=list: the MPI variant runs in-process ranks instead")
	}
	t.Logf("binaries built after %.1f s", time.Since(start).Seconds())

	t.Run("campaign", c.testCampaign)
	t.Run("time-limit", c.testTimeLimit)
	t.Run("search", c.testSearch)
}

// submit runs slurm/submit.sh in dir and returns the job IDs it printed, by stage. Items of
// env that start with "--" are passed as arguments (--search).
func (c *cluster) submit(t *testing.T, dir string, env ...string) map[string]string {
	t.Helper()
	var args []string
	env = slices.DeleteFunc(slices.Clone(env), func(e string) bool {
		if strings.HasPrefix(e, "--") {
			args = append(args, e)
			return true
		}
		return false
	})
	env = append([]string{
		"SIM=" + filepath.Join(c.bin, "sim"),
		"TRAIN=" + filepath.Join(c.bin, "train"),
		"ANALYSIS=" + filepath.Join(c.bin, "analysis"),
		"TRAIN_GRES=", // no GPUs on the test node
		"TRAIN_CPUS=1", "ANALYSIS_CPUS=1", "TIME=00:05:00",
		"SRUN_ARGS=", "EXTRA_SBATCH_ARGS=", "DEPEND=", "ARRAY=",
	}, env...)
	out := run(t, dir, env, filepath.Join(c.root, "slurm", "submit.sh"), args...)
	ids := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		stage, id, ok := strings.Cut(line, "=")
		if !ok || !regexp.MustCompile(`^[0-9]+$`).MatchString(id) {
			t.Fatalf("submit.sh printed %q, want stage=ID lines", out)
		}
		ids[stage] = id
	}
	return ids
}

// wait polls squeue every 0.5 s until none of the jobs is left; on timeout it cancels them
// and fails with the logs.
func (c *cluster) wait(t *testing.T, dir string, timeout time.Duration, ids ...string) {
	t.Helper()
	list := strings.Join(ids, ",")
	deadline := time.Now().Add(timeout)
	for {
		out, _, _ := runErr("", nil, "squeue", "-h", "-j", list) // "Invalid job id" once purged
		if strings.TrimSpace(out) == "" {
			return
		}
		if time.Now().After(deadline) {
			q, _, _ := runErr("", nil, "squeue", "-j", list, "-o", "%i %T %r %S")
			runErr("", nil, "scancel", ids...)
			t.Fatalf("jobs %s still queued after %v:\n%s\n%s", list, timeout, q, logs(dir))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// logs returns every job log under dir/logs.
func logs(dir string) string {
	var b strings.Builder
	files, _ := filepath.Glob(filepath.Join(dir, "logs", "*"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		fmt.Fprintf(&b, "==> %s <==\n%s\n", f, data)
	}
	return b.String()
}

// jobs returns the records of `scontrol show job -o ID` (one per array task), as key=value maps.
func jobs(t *testing.T, id string) []map[string]string {
	t.Helper()
	out := run(t, "", nil, "scontrol", "show", "job", "-o", id)
	var recs []map[string]string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		rec := map[string]string{}
		for _, f := range strings.Fields(line) {
			if k, v, ok := strings.Cut(f, "="); ok {
				rec[k] = v
			}
		}
		recs = append(recs, rec)
	}
	return recs
}

// completed checks that the job (every task of an array) COMPLETED, and returns its records.
func completed(t *testing.T, dir, what, id string, tasks int) []map[string]string {
	t.Helper()
	recs := jobs(t, id)
	if len(recs) != tasks {
		t.Errorf("%s %s: %d records in scontrol show job, want %d", what, id, len(recs), tasks)
	}
	for _, r := range recs {
		if r["JobState"] != "COMPLETED" || r["ExitCode"] != "0:0" {
			t.Errorf("%s %s (task %s): JobState=%s ExitCode=%s Reason=%s\n%s", what, r["JobId"], r["ArrayTaskId"],
				r["JobState"], r["ExitCode"], r["Reason"], logs(dir))
		}
	}
	return recs
}

// simStatus runs sim status and returns its output and exit code.
func (c *cluster) simStatus(t *testing.T, dir, manifest, outdir string) (string, int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(c.bin, "sim"), "status", "--manifest", manifest, "--outdir", outdir)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// testCampaign plans 8 simulations at 16³ and submits the campaign twice, each chain
// array → train → analysis: with 2 in-process ranks per simulation and 2 simulations per
// array task, and with 2 MPI ranks per simulation (srun --mpi=pmix), one simulation per task.
func (c *cluster) testCampaign(t *testing.T) {
	start := time.Now()
	dir := t.TempDir()
	run(t, dir, nil, filepath.Join(c.bin, "sim"), "plan", "--preset", "demo", "--grid", "16",
		"--kolmogorov", "3", "--burgers", "3", "--sweep", "2", "--out", "manifest.csv")

	type variant struct {
		name, outdir string
		tasks        int
		env          []string
	}
	mpiEnv := []string{"MPI=pmix", "RANKS=2", "PER_TASK=1"}
	if !c.mpi {
		mpiEnv = []string{"MPI=", "RANKS=2", "PER_TASK=1"}
	}
	variants := []variant{
		{"in-process", "snaps-inproc", 4, []string{"MPI=", "RANKS=2", "PER_TASK=2", "THROTTLE=2"}},
		{"mpi", "snaps-mpi", 8, append(mpiEnv, "THROTTLE=4")},
	}
	ids := make([]map[string]string, len(variants))
	var all []string
	for i, v := range variants {
		mark := filepath.Join(dir, v.name)
		// Training records what sim status said when it started (every snapshot must be
		// there); analysis runs only if the training marker exists.
		env := append([]string{
			"MANIFEST=manifest.csv", "OUTDIR=" + v.outdir, "STAGES=sim,train,analysis",
			`TRAIN_CMD={ date +%s.%N; "$SIM" status --manifest "$MANIFEST" --outdir "$OUTDIR"; echo "status-exit=$?"; } >` + mark + `.train 2>&1`,
			`ANALYSIS_CMD=test -f ` + mark + `.train && date +%s.%N >` + mark + `.analysis`,
		}, v.env...)
		ids[i] = c.submit(t, dir, env...)
		all = append(all, ids[i]["sim"], ids[i]["train"], ids[i]["analysis"])
	}
	c.wait(t, dir, 5*time.Minute, all...)
	t.Logf("both campaigns (8 + 8 simulations at 16³, 6 jobs) done %.1f s after submission", time.Since(start).Seconds())

	for i, v := range variants {
		arr := completed(t, dir, v.name+" array", ids[i]["sim"], v.tasks)
		tr := completed(t, dir, v.name+" train", ids[i]["train"], 1)
		an := completed(t, dir, v.name+" analysis", ids[i]["analysis"], 1)
		// SLURM's times have a resolution of a second: train starts no earlier than the last
		// array task ends, analysis no earlier than train ends (same layout, so compare strings).
		for _, r := range arr {
			if len(tr) == 1 && tr[0]["StartTime"] < r["EndTime"] {
				t.Errorf("%s: train started at %s, before array task %s ended at %s", v.name, tr[0]["StartTime"], r["ArrayTaskId"], r["EndTime"])
			}
		}
		if len(tr) == 1 && len(an) == 1 && an[0]["StartTime"] < tr[0]["EndTime"] {
			t.Errorf("%s: analysis started at %s, before train ended at %s", v.name, an[0]["StartTime"], tr[0]["EndTime"])
		}
		mark := filepath.Join(dir, v.name)
		trainMark, err := os.ReadFile(mark + ".train")
		if err != nil || !strings.Contains(string(trainMark), "status-exit=0") {
			t.Errorf("%s: training did not see a complete campaign (%v):\n%s", v.name, err, trainMark)
		}
		anMark, err := os.ReadFile(mark + ".analysis")
		if err != nil {
			t.Errorf("%s: analysis did not run: %v", v.name, err)
		} else if ta, tb := firstFloat(trainMark), firstFloat(anMark); ta == 0 || tb < ta {
			t.Errorf("%s: analysis marker time %f before training marker time %f", v.name, tb, ta)
		}
		if out, code := c.simStatus(t, dir, "manifest.csv", v.outdir); code != 0 {
			t.Errorf("%s: sim status exit %d:\n%s", v.name, code, out)
		}
	}
	if c.mpi { // a simulation of the MPI variant really ran on 2 MPI ranks
		out := run(t, dir, nil, filepath.Join(c.bin, "sim"), "inspect", "--json", filepath.Join(dir, "snaps-mpi", "sweep-0001.tsnap"))
		var h struct{ Ranks int }
		if err := json.Unmarshal([]byte(out), &h); err != nil || h.Ranks != 2 {
			t.Errorf("MPI variant: snapshot made by %d ranks, want 2 (%v)", h.Ranks, err)
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Log(logs(dir))
	}
}

func firstFloat(b []byte) float64 {
	f, _ := strconv.ParseFloat(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]), 64)
	return f
}

var progressRe = regexp.MustCompile(`msg=progress .*percent=([0-9]+)`)

// waitProgress waits until the log of an array task shows its simulation under way.
func waitProgress(t *testing.T, dir, log string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		data, _ := os.ReadFile(filepath.Join(dir, "logs", log))
		for _, m := range progressRe.FindAllSubmatch(data, -1) {
			if p, _ := strconv.Atoi(string(m[1])); p >= 5 && p < 70 {
				return
			}
			if p, _ := strconv.Atoi(string(m[1])); p >= 70 {
				t.Fatalf("%s: the simulation is too fast to be interrupted (make the time-limit campaign longer):\n%s", log, data)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: no progress within 2 minutes:\n%s", log, logs(dir))
}

// testTimeLimit runs two slower simulations (64³ to 12 Myr, ~10 s each), one per array task
// on 2 MPI ranks, and interrupts both early on. SLURM's time limits have a granularity of a minute, and
// --signal=USR1@T may come up to 60 s early, so a real time limit would make this test slow
// and flaky; instead the test sends what SLURM would send:
//   - task 0: `scancel --signal=USR1` signals the job steps (not the batch shell), exactly what
//     --signal=USR1@120 does before the time limit: sim task checkpoints and exits 3, the script
//     requeues the task, and it resumes from the checkpoint by itself;
//   - task 1: `scancel` sends SIGTERM to the steps and the batch shell, as SLURM does at the
//     time limit itself (or on cancel/preemption): sim task checkpoints, the script does not
//     requeue, `sim status` lists the task, and resubmitting that list (ARRAY=...) resumes it.
func (c *cluster) testTimeLimit(t *testing.T) {
	start := time.Now()
	dir := t.TempDir()
	run(t, dir, nil, filepath.Join(c.bin, "sim"), "plan", "--preset", "demo", "--grid", "64", "--tend", "12",
		"--kolmogorov", "1", "--burgers", "1", "--sweep", "0", "--out", "slow.csv")
	common := []string{"MANIFEST=slow.csv", "OUTDIR=snaps", "STAGES=sim", "PER_TASK=1",
		"THROTTLE=", "MAX_REQUEUE=2", "SIM_ARGS=--log-every 1s", "TRAIN_CMD=", "ANALYSIS_CMD="}
	// The array runs each simulation on 2 MPI ranks (2 in-process ranks without MPI); the
	// resubmission resumes on 1 in-process rank: checkpoints do not depend on the rank count.
	first := []string{"MPI=pmix", "RANKS=2"}
	if !c.mpi {
		first = []string{"MPI=", "RANKS=2"}
	}
	id := c.submit(t, dir, append(common, first...)...)["sim"]
	log0, log1 := "turbindex-sim_"+id+"_0.out", "turbindex-sim_"+id+"_1.out"
	waitProgress(t, dir, log0)
	run(t, "", nil, "scancel", "--signal=USR1", id+"_0")
	waitProgress(t, dir, log1)
	run(t, "", nil, "scancel", id+"_1")
	c.wait(t, dir, 3*time.Minute, id)
	t.Logf("interrupted array done %.1f s after submission", time.Since(start).Seconds())

	// Task 0 requeued itself and resumed.
	r0 := jobs(t, id+"_0")
	data0, _ := os.ReadFile(filepath.Join(dir, "logs", log0))
	if len(r0) != 1 || r0[0]["JobState"] != "COMPLETED" || r0[0]["Restarts"] != "1" {
		t.Errorf("task 0 (SIGUSR1): %v, want COMPLETED after 1 restart\n%s", r0, data0)
	}
	for _, want := range []string{"requeueing " + id + "_0", "restart 1 of at most 2", "resumed from checkpoint", "resumed=true"} {
		if !bytes.Contains(data0, []byte(want)) {
			t.Errorf("task 0 log lacks %q:\n%s", want, data0)
		}
	}

	// Task 1 was cancelled after checkpointing; sim status says what to resubmit.
	r1 := jobs(t, id+"_1")
	data1, _ := os.ReadFile(filepath.Join(dir, "logs", log1))
	if len(r1) != 1 || r1[0]["JobState"] != "CANCELLED" || !bytes.Contains(data1, []byte("no requeue")) {
		t.Errorf("task 1 (SIGTERM): %v, want CANCELLED without requeue\n%s", r1, data1)
	}
	out, code := c.simStatus(t, dir, "slow.csv", "snaps")
	m := regexp.MustCompile(`resubmit: --array=(\S+)`).FindStringSubmatch(out)
	if code == 0 || m == nil || m[1] != "1" {
		t.Fatalf("sim status after the cancel: exit %d, want non-zero and resubmit: --array=1:\n%s", code, out)
	}
	id2 := c.submit(t, dir, append(common, "MPI=", "RANKS=1", "ARRAY="+m[1])...)["sim"]
	c.wait(t, dir, 3*time.Minute, id2)
	completed(t, dir, "resubmitted task", id2, 1)
	data2, _ := os.ReadFile(filepath.Join(dir, "logs", "turbindex-sim_"+id2+"_1.out"))
	if !bytes.Contains(data2, []byte("resumed from checkpoint")) {
		t.Errorf("resubmitted task 1 did not resume from its checkpoint:\n%s", data2)
	}
	if out, code := c.simStatus(t, dir, "slow.csv", "snaps"); code != 0 {
		t.Errorf("sim status after the resubmission: exit %d:\n%s", code, out)
	}
	if t.Failed() || testing.Verbose() {
		t.Log(logs(dir))
	}
	t.Logf("time-limit test took %.1f s", time.Since(start).Seconds())
}
