package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/turbindex/turbindex/internal/cli/clitest"
	"github.com/turbindex/turbindex/train/cnn/cuda"
	"github.com/turbindex/turbindex/train/dataset"
	"github.com/turbindex/turbindex/train/experiment"
)

var bins = map[string]string{}

// TestMain builds the train and sim binaries once; the tests use them as a
// user would.
func TestMain(m *testing.M) {
	dir, err := clitest.Build(".", "../sim")
	if err != nil {
		panic(err)
	}
	for _, name := range []string{"train", "sim"} {
		bins[name] = filepath.Join(dir, name)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func run(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	return clitest.Run(t, bins[bin], args...)
}

// TestPipeline plans and runs a tiny campaign, then trains, evaluates and
// inspects a small classifier and regressor on it through the command line,
// and checks every output the issue names.
func TestPipeline(t *testing.T) {
	dir := t.TempDir()
	m, snaps := filepath.Join(dir, "m.csv"), filepath.Join(dir, "snaps")
	if _, stderr, code := run(t, "sim", "plan", "--preset", "demo", "--grid", "32", "--kolmogorov", "3", "--burgers", "3", "--sweep", "16", "--out", m); code != 0 {
		t.Fatal(stderr)
	}
	for k := range 8 {
		if _, stderr, code := run(t, "sim", "task", "--manifest", m, "--outdir", snaps, "--task-id", strconv.Itoa(k), "--per-task", "3"); code != 0 {
			t.Fatal(stderr)
		}
	}
	small := []string{"--filters", "4,4,4,4", "--dense", "8,8", "--epochs", "2", "--batch", "16", "--log-every", "0s"}
	for _, task := range []string{experiment.Classify, experiment.Regress} {
		out := filepath.Join(dir, task)
		_, stderr, code := run(t, "train", append([]string{"fit", "--manifest", m, "--snapshots", snaps, "--task", task, "--out", out, "--cache", filepath.Join(dir, "cache")}, small...)...)
		if code != 0 {
			t.Fatalf("fit %s: %s", task, stderr)
		}
		h, err := experiment.ReadHistory(out)
		if err != nil || len(h) != 2 {
			t.Fatalf("fit %s: history %v, %v", task, h, err)
		}
		for _, f := range []string{"config.json", "learning_curve.png", "best.cnn", "last.cnn", "summary.txt", "model.png"} {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Errorf("fit %s: %v", task, err)
			}
		}
		summary, _ := os.ReadFile(filepath.Join(out, "summary.txt"))
		if !strings.Contains(string(summary), "Total params") {
			t.Errorf("summary.txt: %s", summary)
		}
		// Resume one more epoch.
		if _, stderr, code := run(t, "train", "fit", "--resume", "--out", out, "--epochs", "3"); code != 0 {
			t.Fatalf("fit --resume: %s", stderr)
		}
		if h, _ := experiment.ReadHistory(out); len(h) != 3 {
			t.Errorf("after --resume to 3 epochs: %d epochs", len(h))
		}
		stdout, stderr, code := run(t, "train", "eval", "--run", out)
		if code != 0 {
			t.Fatalf("eval %s: %s", task, stderr)
		}
		var mj experiment.Metrics
		raw, _ := os.ReadFile(filepath.Join(out, "metrics.json"))
		if err := json.Unmarshal(raw, &mj); err != nil {
			t.Fatalf("metrics.json: %v", err)
		}
		want := []string{"metrics.json"}
		if task == experiment.Classify {
			want = append(want, "confusion.csv", "confusion.png", "roc.csv", "roc.png", "sweep.csv", "sweep.png", "reliability.png")
			if mj.Images == nil || mj.Images.N != 48*2 || mj.PerSim.N != 2 || mj.SweepSim != 16 {
				t.Errorf("classify metrics: %+v (stdout %q)", mj, stdout)
			}
			// The threshold chosen on the test split, and the calibration.
			if mj.Tuned == nil || mj.Tuned.N != 96 || !(mj.ECE >= 0 && mj.ECE <= 1) || !strings.Contains(stdout, "chosen on the test split") {
				t.Errorf("classify metrics: tuned %+v, ECE %v (stdout %q)", mj.Tuned, mj.ECE, stdout)
			}
		} else {
			want = append(want, "regress.csv", "regress.png")
			if mj.RegImg == nil || mj.RegImg.N != 96 {
				t.Errorf("regress metrics: %+v", mj)
			}
		}
		for _, f := range want {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Errorf("eval %s: %v", task, err)
			}
		}
		if _, stderr, code := run(t, "train", "saliency", "--run", out, "--count", "2"); code != 0 {
			t.Fatalf("saliency: %s", stderr)
		}
		if f, err := os.Open(filepath.Join(out, "saliency.png")); err != nil {
			t.Error(err)
		} else if _, err := png.Decode(f); err != nil {
			t.Errorf("saliency.png: %v", err)
		}
		if _, stderr, code := run(t, "train", "embed", "--run", out); code != 0 {
			t.Fatalf("embed: %s", stderr)
		}
		emb, _ := os.ReadFile(filepath.Join(out, "embeddings.csv"))
		if lines := strings.Count(string(emb), "\n"); lines != 1+48*4 {
			t.Errorf("embeddings.csv: %d lines, want a header and 192 rows (the 4 holdout simulations)", lines)
		}
	}
	// The talk's 8-bit images: saved in config.json, applied by eval.
	k8 := filepath.Join(dir, "keras8")
	if _, stderr, code := run(t, "train", append([]string{"fit", "--manifest", m, "--snapshots", snaps, "--out", k8, "--cache", filepath.Join(dir, "cache"),
		"--normalise", "keras8"}, small...)...); code != 0 {
		t.Fatalf("fit --normalise keras8: %s", stderr)
	}
	if cfg, err := experiment.ReadConfig(k8); err != nil || cfg.Normalise != dataset.Keras8 {
		t.Errorf("config.json of a keras8 run: normalise %q, %v", cfg.Normalise, err)
	}
	if _, stderr, code := run(t, "train", "eval", "--run", k8); code != 0 {
		t.Fatalf("eval of a keras8 run: %s", stderr)
	}
	// Augmentation and debiasing, then the probe.
	deb := filepath.Join(dir, "debias")
	if _, stderr, code := run(t, "train", append([]string{"fit", "--manifest", m, "--snapshots", snaps, "--out", deb, "--cache", filepath.Join(dir, "cache"),
		"--augment", "beam,noise,gradient,zoom", "--debias", "amplitude", "--debias-lambda", "0.5"}, small...)...); code != 0 {
		t.Fatalf("fit --augment --debias: %s", stderr)
	}
	cfg, err := experiment.ReadConfig(deb)
	if err != nil || cfg.Augment == nil || len(cfg.Augment.Knobs) != 4 || cfg.Debias == nil || cfg.Debias.Lambda != 0.5 || !(cfg.Debias.Std > 0) || !cfg.CNN.Debias {
		t.Errorf("config.json of an augmented, debiased run: %+v %+v %v", cfg.Augment, cfg.Debias, err)
	}
	if _, stderr, code := run(t, "train", "fit", "--resume", "--out", deb, "--epochs", "3"); code != 0 {
		t.Fatalf("fit --resume of an augmented, debiased run: %s", stderr)
	}
	stdout, stderr, code := run(t, "train", "probe", "--run", deb)
	if code != 0 {
		t.Fatalf("probe: %s", stderr)
	}
	var p experiment.Probe
	raw, _ := os.ReadFile(filepath.Join(deb, "probe.json"))
	if err := json.Unmarshal(raw, &p); err != nil || p.Holdout != 96 || p.Train == 0 || p.Train%48 != 0 || p.Dims != 8 || p.Lambda != 0.5 || !(p.R2Train <= 1) || !(p.R2Class <= 1) {
		t.Errorf("probe.json: %+v, %v (stdout %q)", p, err, stdout)
	}
	// images: the 48 PNGs of one snapshot.
	snapsList, _ := filepath.Glob(filepath.Join(snaps, "*.tsnap"))
	pngs := filepath.Join(dir, "png")
	if _, stderr, code := run(t, "train", "images", "--snapshot", snapsList[0], "--out", pngs); code != 0 {
		t.Fatal(stderr)
	}
	if got, _ := filepath.Glob(filepath.Join(pngs, "*.png")); len(got) != 48 {
		t.Errorf("train images wrote %d PNGs, want 48", len(got))
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"fit", "--out", dir}, "--manifest and --snapshots are required"},
		{[]string{"fit", "--manifest", "m", "--snapshots", "s"}, "--out is required"},
		{[]string{"fit", "--manifest", filepath.Join(dir, "none.csv"), "--snapshots", dir, "--out", filepath.Join(dir, "r")}, "none.csv"},
		{[]string{"fit", "--manifest", "m", "--snapshots", "s", "--out", "o", "--filters", "4,x"}, "--filters"},
		{[]string{"fit", "--manifest", "m", "--snapshots", "s", "--out", "o", "--augment", "beam,blur"}, "blur"},
		{[]string{"fit", "--manifest", "m", "--snapshots", "s", "--out", "o", "--debias", "mass"}, "--debias"},
		{[]string{"fit", "--manifest", "m", "--snapshots", "s", "--out", "o", "--debias", "amplitude", "--debias-lambda", "-1"}, "--debias-lambda"},
		{[]string{"fit", "--manifest", "m", "--snapshots", "s", "--out", "o", "--normalise", "minmax"}, "minmax"},
		{[]string{"fit", "--manifest", "m", "--snapshots", "s", "--out", "o", "--normalise", "keras8", "--per-image"}, "--per-image contradicts"},
		{[]string{"eval"}, "--run is required"},
		{[]string{"eval", "--run", filepath.Join(dir, "norun")}, "norun"},
		{[]string{"images", "--snapshot", "x.tsnap"}, "required"},
		{[]string{"nope"}, "unknown command"},
	} {
		_, stderr, code := run(t, "train", tc.args...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q; want an error mentioning %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestDeviceFlag checks --device: a bad value is a usage error (exit 2);
// --device cuda without a usable GPU is an error saying why (exit 1) that
// leaves no run directory behind.
func TestDeviceFlag(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	_, stderr, code := run(t, "train", "fit", "--device", "gpu", "--out", out, "--manifest", "m.csv", "--snapshots", "s")
	if code != 2 || !strings.Contains(stderr, `--device: device "gpu": want auto, cpu or cuda`) {
		t.Fatalf("--device gpu: exit %d, %s", code, stderr)
	}
	if _, err := cuda.OpenDriver(); err == nil {
		t.Skip("a CUDA driver is present here: the no-driver path is not reachable")
	}
	_, stderr, code = run(t, "train", "fit", "--device", "cuda", "--out", out, "--manifest", "m.csv", "--snapshots", "s")
	if code != 1 || !strings.Contains(stderr, "--device cuda: ") || !strings.Contains(stderr, "libcuda.so.1") {
		t.Fatalf("--device cuda without a driver: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("--device cuda failed but left %s (%v)", out, err)
	}
}

// TestFitStopsWithinEpoch sends SIGTERM to train fit in the middle of its
// second epoch: it stops there (exit status 3, saying so) with the first
// epoch saved, and the resumed run ends with the same weights as one never
// stopped.
func TestFitStopsWithinEpoch(t *testing.T) {
	dir := t.TempDir()
	m, snaps := filepath.Join(dir, "m.csv"), filepath.Join(dir, "snaps")
	if _, stderr, code := run(t, "sim", "plan", "--preset", "demo", "--grid", "32", "--kolmogorov", "3", "--burgers", "3", "--sweep", "0", "--out", m); code != 0 {
		t.Fatal(stderr)
	}
	if _, stderr, code := run(t, "sim", "task", "--manifest", m, "--outdir", snaps, "--task-id", "0", "--per-task", "6"); code != 0 {
		t.Fatal(stderr)
	}
	args := func(out string) []string {
		return []string{"fit", "--manifest", m, "--snapshots", snaps, "--out", out, "--cache", filepath.Join(dir, "cache"),
			"--filters", "4,4,4,4", "--dense", "8,8", "--epochs", "2", "--batch", "4", "--log-every", "0s"}
	}
	whole := filepath.Join(dir, "whole")
	if _, stderr, code := run(t, "train", args(whole)...); code != 0 {
		t.Fatal(stderr)
	}

	stopped := filepath.Join(dir, "stopped")
	cmd := exec.Command(bins["train"], args(stopped)...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), `job="epoch 2/2"`) && !strings.Contains(sc.Text(), "percent=100") {
			break
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	for sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
	}
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 || !strings.Contains(seen.String(), "interrupted in epoch 2 after") {
		t.Fatalf("SIGTERM in epoch 2: %v, want exit status 3 and a message naming the epoch:\n%s", err, seen.String())
	}
	if h, err := experiment.ReadHistory(stopped); err != nil || len(h) != 1 {
		t.Fatalf("after SIGTERM in epoch 2: %d epochs saved (%v), want 1", len(h), err)
	}
	if _, stderr, code := run(t, "train", "fit", "--resume", "--out", stopped, "--epochs", "2"); code != 0 {
		t.Fatal(stderr)
	}
	a, errA := os.ReadFile(filepath.Join(whole, "last.cnn"))
	b, errB := os.ReadFile(filepath.Join(stopped, "last.cnn"))
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Errorf("the resumed run's weights differ from the uninterrupted run's (%v, %v)", errA, errB)
	}
}
