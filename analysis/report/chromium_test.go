package report

import (
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/turbindex/turbindex/train/plots"
)

// TestRendersInChromium writes a report with a real figure, checks that
// every resource the page references is a local file that exists (so it
// renders offline), and renders it in headless Chromium to a screenshot.
func TestRendersInChromium(t *testing.T) {
	dir := t.TempDir()
	if err := plots.Lines(filepath.Join(dir, "zoom.png"), []float64{0.5, 1, 2}, map[string][]float64{"HOG+SVM": {0.6, 0.8, 0.6}}, "zoom", "accuracy", ""); err != nil {
		t.Fatal(err)
	}
	r := Report{Title: "render test", CodeVersion: "test", Parameters: map[string]string{"grid": "64"},
		Tables:  []Table{{Title: "Classification", Columns: []string{"accuracy"}, Rows: []Row{{Method: "HOG+SVM", Values: map[string]float64{"accuracy": 0.8}}}}},
		Figures: []Figure{{"zoom.png", "zoom invariance"}}}
	if err := Write(dir, r); err != nil {
		t.Fatal(err)
	}
	html, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(string(html), -1) {
		ref := m[1]
		if strings.Contains(ref, "://") || strings.HasPrefix(ref, "//") {
			t.Errorf("index.html references a remote resource %q: it would not render offline", ref)
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, ref)); err != nil {
			t.Errorf("index.html references %q: %v", ref, err)
		}
	}

	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not found: install the Debian package chromium")
	}
	shot := filepath.Join(dir, "screenshot.png")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--window-size=1200,1600",
		"--screenshot="+shot, "file://"+filepath.Join(dir, "index.html"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v\n%s", err, out)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 600 || b.Dy() < 600 {
		t.Errorf("screenshot is %v", b)
	}
	// The page is not blank: some pixels differ from the first one.
	first := img.At(0, 0)
	varied := false
	for y := 0; y < img.Bounds().Dy() && !varied; y += 7 {
		for x := 0; x < img.Bounds().Dx(); x += 7 {
			if img.At(x, y) != first {
				varied = true
				break
			}
		}
	}
	if !varied {
		t.Error("the screenshot is blank")
	}
}
