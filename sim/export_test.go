package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio"

	"github.com/turbindex/turbindex/internal/cli"
	"github.com/turbindex/turbindex/internal/pyref"
	"github.com/turbindex/turbindex/sim/snapshot"
)

// python returns a Python 3 interpreter that can import modules, or skips
// the test naming the Debian packages to install. /usr/bin/python3 comes
// runSnap writes a 16³ snapshot with sim run and returns its path.
func runSnap(t *testing.T, dir, name string, extra ...string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	args := append([]string{"run", "--grid", "16", "--out", path, "--log-every", "0s"}, extra...)
	if _, stderr, code := sim(t, args...); code != 0 {
		t.Fatalf("sim %v: exit %d: %s", args, code, stderr)
	}
	return path
}

// exportRun runs the export command in-process and returns the paths it
// printed.
func exportRun(t *testing.T, args ...string) ([]string, error) {
	t.Helper()
	var out bytes.Buffer
	err := exportCmd(args, &out)
	return strings.Fields(out.String()), err
}

// goFields reads every field of a snapshot with the Go reader.
func goFields(t *testing.T, path string) (*snapshot.Header, map[string][]float32) {
	t.Helper()
	f, err := snapshot.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string][]float32{}
	for _, fi := range f.Header.Fields {
		if m[fi.Name], err = f.Read(fi.Name); err != nil {
			t.Fatal(err)
		}
	}
	return &f.Header, m
}

// le returns the little-endian float32 bytes of v.
func le(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func readNPY(t *testing.T, path string) []float32 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var v []float32
	if err := npyio.Read(f, &v); err != nil {
		t.Fatalf("npyio read %s: %v", path, err)
	}
	return v
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: value %d is %g, want %g", what, i, got[i], want[i])
		}
	}
}

// checkFITS checks a FITS file's structure in Go and returns its header
// cards by keyword and its data.
func checkFITS(t *testing.T, path string) (map[string]string, []float32) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 || len(b)%2880 != 0 {
		t.Fatalf("%s: %d bytes, not a multiple of 2880", path, len(b))
	}
	cards := map[string]string{}
	end := -1
	for i := 0; i+80 <= len(b); i += 80 {
		card := string(b[i : i+80])
		for _, r := range card {
			if r < 0x20 || r > 0x7e {
				t.Fatalf("%s: card %d has a non-printable character: %q", path, i/80, card)
			}
		}
		key := strings.TrimSpace(card[:8])
		if key == "END" {
			end = i
			break
		}
		if i == 0 && !strings.HasPrefix(card, "SIMPLE  =                    T") {
			t.Fatalf("%s: first card %q", path, card)
		}
		if card[8:10] == "= " {
			v := strings.TrimSpace(strings.SplitN(card[10:], " /", 2)[0])
			if strings.HasPrefix(v, "'") { // trailing blanks in a string are not significant
				v = "'" + strings.TrimRight(strings.Trim(v, "'"), " ") + "'"
			}
			cards[key] = v
		}
	}
	if end < 0 {
		t.Fatalf("%s: no END card", path)
	}
	dataStart := (end/2880 + 1) * 2880
	if strings.TrimSpace(string(b[end+80:dataStart])) != "" {
		t.Errorf("%s: header padding is not blank", path)
	}
	if cards["BITPIX"] != "-32" {
		t.Errorf("%s: BITPIX %s", path, cards["BITPIX"])
	}
	n := 1
	naxis, _ := strconv.Atoi(cards["NAXIS"])
	for i := 1; i <= naxis; i++ {
		k, _ := strconv.Atoi(cards["NAXIS"+strconv.Itoa(i)])
		n *= k
	}
	if want := dataStart + (4*n+2879)/2880*2880; len(b) != want {
		t.Fatalf("%s: %d bytes, want %d for %d values", path, len(b), want, n)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.BigEndian.Uint32(b[dataStart+4*i:]))
	}
	for _, x := range b[dataStart+4*n:] {
		if x != 0 {
			t.Fatalf("%s: data padding is not zero", path)
		}
	}
	return cards, v
}

func TestExportFITS(t *testing.T) {
	dir := t.TempDir()
	snap := runSnap(t, dir, "run.tsnap", "--fields", "density")
	_, fields := goFields(t, snap)
	out := filepath.Join(dir, "fits")
	paths, err := exportRun(t, "--snapshot", snap, "--format", "fits", "--out", out)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 3 || filepath.Base(paths[0]) != "run_sigma_x.fits" {
		t.Fatalf("wrote %v, want run_sigma_{x,y,z}.fits", paths)
	}
	for _, p := range paths {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "run_"), ".fits")
		cards, v := checkFITS(t, p)
		sameBits(t, p, v, fields[name])
		for k, want := range map[string]string{"NAXIS": "2", "NAXIS1": "16", "NAXIS2": "16", "BUNIT": "'g cm-2'",
			"CUNIT1": "'pc'", "CUNIT2": "'pc'", "FIELD": "'" + name + "'", "GRID": "16", "SEED": "1", "PROJ": "'" + name[6:] + "'"} {
			if cards[k] != want {
				t.Errorf("%s: %s = %s, want %s", p, k, cards[k], want)
			}
		}
	}
	// A cube exports as a 3-D image.
	cube, err := exportRun(t, "--snapshot", snap, "--format", "fits", "--out", out, "--fields", "density")
	if err != nil {
		t.Fatal(err)
	}
	cards, v := checkFITS(t, cube[0])
	sameBits(t, "density cube", v, fields["density"])
	if cards["NAXIS"] != "3" || cards["BUNIT"] != "'g cm-3'" || cards["CTYPE3"] != "'Z'" {
		t.Errorf("cube cards: NAXIS %s BUNIT %s CTYPE3 %s", cards["NAXIS"], cards["BUNIT"], cards["CTYPE3"])
	}

	py := pyref.Python(t, "astropy, numpy", "python3-astropy python3-numpy")
	const script = `
import json, sys, warnings
import numpy as np
from astropy.io import fits
from astropy import units as u
from astropy.wcs import WCS
warnings.simplefilter("error")
res = {}
for path in sys.argv[1:-1]:
    with fits.open(path) as hdul:
        hdul.verify("exception")
        h, d = hdul[0].header, hdul[0].data
        w = WCS(h)
        np.save(path + ".npy", d.astype("<f4"))
        res[path] = {
            "shape": list(d.shape), "dtype": d.dtype.name,
            "bunit_is_g_cm2": u.Unit(h["BUNIT"], format="fits") == u.g / u.cm**2,
            "cunit1": h["CUNIT1"], "cunit2": h["CUNIT2"], "cdelt1": h["CDELT1"], "cdelt2": h["CDELT2"],
            "crval1": h["CRVAL1"], "wcs_units": [str(x) for x in w.wcs.cunit],
            "world_first": [float(x) for x in w.pixel_to_world_values(0, 0)],
            "seed": h["SEED"], "index": h["INDEX"], "timemyr": h["TIMEMYR"], "field": h["FIELD"],
        }
json.dump(res, open(sys.argv[-1], "w"))
`
	resPath := filepath.Join(dir, "astropy.json")
	pyref.Run(t, py, script, append(append([]string{}, paths...), resPath)...)
	var res map[string]struct {
		Shape       []int     `json:"shape"`
		DType       string    `json:"dtype"`
		BunitIsGCm2 bool      `json:"bunit_is_g_cm2"`
		CUnit1      string    `json:"cunit1"`
		CUnit2      string    `json:"cunit2"`
		CDelt1      float64   `json:"cdelt1"`
		CDelt2      float64   `json:"cdelt2"`
		CRVal1      float64   `json:"crval1"`
		WCSUnits    []string  `json:"wcs_units"`
		WorldFirst  []float64 `json:"world_first"`
		Seed        int       `json:"seed"`
		Index       float64   `json:"index"`
		TimeMyr     float64   `json:"timemyr"`
		Field       string    `json:"field"`
	}
	b, err := os.ReadFile(resPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Abs(b) }
	for _, p := range paths {
		r, ok := res[p]
		if !ok {
			t.Fatalf("astropy gave no result for %s", p)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "run_"), ".fits")
		if !reflect.DeepEqual(r.Shape, []int{16, 16}) || !strings.Contains(r.DType, "float32") {
			t.Errorf("%s: astropy shape %v dtype %s, want [16 16] float32", p, r.Shape, r.DType)
		}
		if !r.BunitIsGCm2 {
			t.Errorf("%s: astropy does not read BUNIT as g/cm²", p)
		}
		if r.CUnit1 != "pc" || r.CUnit2 != "pc" || !near(r.CDelt1, 10.0/16) || !near(r.CDelt2, 10.0/16) || !near(r.CRVal1, 10.0/32) {
			t.Errorf("%s: CUNIT %s/%s CDELT %g/%g CRVAL1 %g, want pc, 0.625 pc, 0.3125 pc", p, r.CUnit1, r.CUnit2, r.CDelt1, r.CDelt2, r.CRVal1)
		}
		if !reflect.DeepEqual(r.WCSUnits, []string{"pc", "pc"}) || !near(r.WorldFirst[0], 10.0/32) || !near(r.WorldFirst[1], 10.0/32) {
			t.Errorf("%s: WCS units %v, first pixel at %v, want pc at 0.3125", p, r.WCSUnits, r.WorldFirst)
		}
		if r.Seed != 1 || !near(r.Index, 11.0/3) || !near(r.TimeMyr, 0.5) || r.Field != name {
			t.Errorf("%s: SEED %d INDEX %g TIMEMYR %g FIELD %q", p, r.Seed, r.Index, r.TimeMyr, r.Field)
		}
		sameBits(t, "astropy data of "+p, readNPY(t, p+".npy"), fields[name])
	}
}

func TestExportNPY(t *testing.T) {
	dir := t.TempDir()
	snap := runSnap(t, dir, "run.tsnap", "--fields", "density")
	_, fields := goFields(t, snap)
	out := filepath.Join(dir, "npy")
	paths, err := exportRun(t, "--snapshot", snap, "--format", "npy", "--out", out, "--fields", "sigma_x,sigma_y,sigma_z,density")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 4 {
		t.Fatalf("wrote %v", paths)
	}
	names := []string{"sigma_x", "sigma_y", "sigma_z", "density"}
	for i, p := range paths {
		if filepath.Base(p) != "run_"+names[i]+".npy" {
			t.Errorf("path %s", p)
		}
		sameBits(t, "npyio read of "+p, readNPY(t, p), fields[names[i]])
	}
	py := pyref.Python(t, "numpy", "python3-numpy")
	got := pyref.Run(t, py, `
import sys, hashlib, numpy as np
for p in sys.argv[1:]:
    a = np.load(p)
    print(a.dtype.str, "x".join(map(str, a.shape)), a.flags["C_CONTIGUOUS"], hashlib.sha256(a.astype("<f4").tobytes()).hexdigest())
`, paths...)
	lines := strings.Split(strings.TrimSpace(got), "\n")
	shapes := []string{"16x16", "16x16", "16x16", "16x16x16"}
	for i := range names {
		want := "<f4 " + shapes[i] + " True " + sha(le(fields[names[i]]))
		if i >= len(lines) || lines[i] != want {
			t.Errorf("numpy load of %s: %q, want %q", names[i], lines[min(i, len(lines)-1)], want)
		}
	}
}

func TestExportPNG(t *testing.T) {
	dir := t.TempDir()
	snap := runSnap(t, dir, "run.tsnap")
	out := filepath.Join(dir, "png")
	paths, err := exportRun(t, "--snapshot", snap, "--format", "png", "--out", out)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 3 {
		t.Fatalf("wrote %v", paths)
	}
	var los []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if r := img.Bounds(); r.Dx() != 16 || r.Dy() != 16 {
			t.Errorf("%s: %v, want 16×16", p, r)
		}
		for _, kv := range []string{"tEXtlo\x00", "tEXthi\x00", "tEXtunit\x00log10(g cm^-2)", "tEXtfield\x00sigma_"} {
			if !bytes.Contains(b, []byte(kv)) {
				t.Errorf("%s: no tEXt %q", p, kv)
			}
		}
		i := bytes.Index(b, []byte("tEXtlo\x00"))
		los = append(los, string(b[i:i+20]))
	}
	if los[0] != los[1] || los[1] != los[2] {
		t.Errorf("maps have different ranges: %q", los)
	}
}

func TestExportErrors(t *testing.T) {
	dir := t.TempDir()
	snap := runSnap(t, dir, "run.tsnap")
	cube := runSnap(t, dir, "cube.tsnap", "--fields", "density")
	out := filepath.Join(dir, "out")
	usage := cli.IsUsage
	for _, c := range []struct {
		args  []string
		usage bool
		msg   string
	}{
		{[]string{"--format", "fits", "--out", out}, true, "--snapshot is required"},
		{[]string{"--snapshot", snap, "--out", out}, true, "--format is required"},
		{[]string{"--snapshot", snap, "--format", "fits"}, true, "--out is required"},
		{[]string{"--snapshot", snap, "--format", "jpeg", "--out", out}, true, `unknown format "jpeg"`},
		{[]string{"--snapshot", snap, "--format", "fits", "--out", out, "--fields", "sigma_w"}, true, `unknown field "sigma_w"`},
		{[]string{"--snapshot", snap, "--format", "fits", "--out", out, "--fields", "density"}, true, `unknown field "density"`},
		{[]string{"--snapshot", snap, "--format", "png", "--out", out, "--fields", "sigma_x,density"}, true, `unknown field "density"`},
		{[]string{"--snapshot", cube, "--format", "png", "--out", out, "--fields", "sigma_x,density"}, true, `field "density" is not a 2-D map`},
		{[]string{"--snapshot", filepath.Join(dir, "missing.tsnap"), "--format", "fits", "--out", out}, false, "missing.tsnap"},
		{[]string{"--snapshot", snap, "--format", "fits", "--out", out, "stray"}, true, "unexpected argument"},
	} {
		_, err := exportRun(t, c.args...)
		if err == nil || usage(err) != c.usage || !strings.Contains(err.Error(), c.msg) || strings.Contains(err.Error(), "\n") {
			t.Errorf("export %v: %v (usage error %v), want a one-line error containing %q (usage %v)", c.args, err, usage(err), c.msg, c.usage)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("failed exports created %s", out)
	}
	if _, err := exportRun(t, "--snapshot", snap, "--format", "npy", "--out", out); err != nil {
		t.Fatal(err)
	}
	_, err := exportRun(t, "--snapshot", snap, "--format", "npy", "--out", out)
	if err == nil || !usage(err) || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second export without --force: %v, want a usage error saying the output exists", err)
	}
	if _, err := exportRun(t, "--snapshot", snap, "--format", "npy", "--out", out, "--force"); err != nil {
		t.Errorf("export --force: %v", err)
	}
	ents, _ := os.ReadDir(out)
	if len(ents) != 3 {
		t.Errorf("%s holds %d entries, want 3 (no temporary files left)", out, len(ents))
	}

	// Through the binary, once sim/main.go dispatches "export".
	_, stderr, code := sim(t, "export", "--snapshot", snap, "--format", "jpeg", "--out", out)
	if strings.Contains(stderr, `unknown command "export"`) {
		t.Log("sim/main.go does not dispatch the export command yet: the binary's exit statuses are untested")
		return
	}
	if code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "jpeg") {
		t.Errorf("sim export --format jpeg: exit %d, %q; want exit 2 and one line", code, stderr)
	}
	stdout, stderr, code := sim(t, "export", "--snapshot", snap, "--format", "fits", "--out", out)
	if code != 0 || strings.Count(stdout, "\n") != 3 {
		t.Errorf("sim export: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, stderr, code := sim(t, "export", "--snapshot", snap, "--format", "fits", "--out", out); code != 2 || !strings.Contains(stderr, "already exists") {
		t.Errorf("sim export over existing files: exit %d, %q", code, stderr)
	}
}

// TestTsnapPy checks scripts/tsnap.py against the Go reader, bit for bit, on
// a Σ-only snapshot and on one written by 3 ranks with density and velocity
// cubes (chunked).
func TestTsnapPy(t *testing.T) {
	py := pyref.Python(t, "numpy, zstandard", "python3-numpy python3-zstandard")
	script, err := filepath.Abs(filepath.Join("..", "scripts", "tsnap.py"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	snaps := []string{
		runSnap(t, dir, "sigma.tsnap"),
		runSnap(t, dir, "ranks3.tsnap", "--ranks", "3", "--fields", "density,velocity"),
		filepath.Join("snapshot", "testdata", "v1_small.tsnap"), // NaN, Inf, -0, subnormal
	}
	const reader = `
import hashlib, json, sys
sys.path.insert(0, sys.argv[1])
import tsnap
h, f = tsnap.read(sys.argv[2])
checks = h.pop("_checksums")
json.dump({"header": h, "checksums": checks,
           "fields": {k: [v.dtype.str, list(v.shape), hashlib.sha256(v.astype("<f4").tobytes()).hexdigest()] for k, v in f.items()}},
          sys.stdout)
`
	for _, snap := range snaps {
		var got struct {
			Header    map[string]any    `json:"header"`
			Checksums string            `json:"checksums"`
			Fields    map[string][3]any `json:"fields"`
		}
		if err := json.Unmarshal([]byte(pyref.Run(t, py, reader, filepath.Dir(script), snap)), &got); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: checksums %s", snap, got.Checksums)
		stdout, stderr, code := sim(t, "inspect", "--json", snap)
		if code != 0 {
			t.Fatalf("inspect: %s", stderr)
		}
		var want map[string]any
		if err := json.Unmarshal([]byte(stdout), &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Header, want) {
			g, _ := json.Marshal(got.Header)
			t.Errorf("%s: tsnap.py header\n%s\nwant (sim inspect --json)\n%s", snap, g, stdout)
		}
		h, fields := goFields(t, snap)
		if len(got.Fields) != len(fields) {
			t.Errorf("%s: tsnap.py read %d fields, want %d", snap, len(got.Fields), len(fields))
		}
		for _, fi := range h.Fields {
			shape := make([]any, len(fi.Shape))
			for i, s := range fi.Shape {
				shape[i] = float64(s)
			}
			want := [3]any{"<f4", shape, sha(le(fields[fi.Name]))}
			if !reflect.DeepEqual(got.Fields[fi.Name], want) {
				t.Errorf("%s: field %s: tsnap.py %v, Go %v", snap, fi.Name, got.Fields[fi.Name], want)
			}
		}
	}

	// The command line: a summary, and clear errors for damaged files.
	cmd := exec.Command(py, script, snaps[1])
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "velocity_z") || !strings.Contains(string(out), "3 chunk(s)") {
		t.Errorf("tsnap.py %s: %v\n%s", snaps[1], err, out)
	}
	raw, err := os.ReadFile(snaps[0])
	if err != nil {
		t.Fatal(err)
	}
	damaged := map[string]struct {
		data []byte
		msg  string
	}{
		"short":   {raw[:10], "rule 1"},
		"text":    {append([]byte("\x89TSNAP\n\n"), raw[8:]...), "mangled"},
		"version": {append(append(append([]byte{}, raw[:8]...), 2, 0, 0, 0), raw[12:]...), "rule 2"},
		"cut":     {raw[:len(raw)-10], "rule 12"},
	}
	if exec.Command(py, "-c", "import xxhash").Run() == nil {
		// A flipped bit in a Σ chunk: zstd rejects it or the checksum does.
		h, _ := goFields(t, snaps[0])
		c := h.Fields[0].Chunks[0]
		flip := append([]byte{}, raw...)
		flip[24+int64(binary.LittleEndian.Uint64(raw[16:]))+int64(c.Offset+c.StoredBytes/2)] ^= 0x10
		damaged["flipped"] = struct {
			data []byte
			msg  string
		}{flip, `field 'sigma_x' chunk 0: rule 1`}
	} else {
		t.Log("python3-xxhash is not installed: tsnap.py's checksum check is untested")
	}
	for name, c := range damaged {
		p := filepath.Join(dir, name+".tsnap")
		if err := os.WriteFile(p, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(py, script, p).CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.msg) || strings.Count(strings.TrimSpace(string(out)), "\n") != 0 || strings.Contains(string(out), "Traceback") {
			t.Errorf("tsnap.py on a %s file: %v, %q; want a one-line error with %q", name, err, out, c.msg)
		}
	}
}
