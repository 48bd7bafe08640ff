package experiment

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/sim/driver"
	"github.com/turbindex/turbindex/train/cnn"
	"github.com/turbindex/turbindex/train/dataset"
)

// benchCampaign is 8 Kolmogorov and 8 Burgers simulations at 16³, run once
// per process: 16 × 48 = 768 images, 384 of them in the training split
// (resampled to the benchmark's size, which is what costs; the grid does
// not change the cost of an image).
var benchCampaign = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "experiment-bench-")
	if err != nil {
		return "", err
	}
	m, err := campaign.Plan(campaign.PlanOptions{Preset: "demo", CampaignSeed: 5, Grid: 16, Kolmogorov: 8, Burgers: 8})
	if err != nil {
		return "", err
	}
	for _, r := range m.Rows {
		if _, err := driver.Run(context.Background(), driver.Turbulence(m.Run(r), campaign.SnapshotPath(dir, r.ID)), driver.Options{}); err != nil {
			return "", err
		}
	}
	return dir, campaign.WriteFile(dir+"/manifest.csv", m, true)
})

// BenchmarkEpoch times one shuffled training epoch over the training split
// of a small campaign, the images held in memory (Load, standardised once,
// batches gathered by copying: the path before streaming) or streamed from
// the image cache (Stream.Batches, standardised on the loader goroutines).
// Each reports images per second and the process's peak RSS (VmHWM, a
// process-wide high-water mark: run one sub-benchmark per process for its
// own peak). Compare the two paths side by side, several times:
//
//	go test -run '^$' -bench 'Epoch/(memory|stream)/250$' -benchtime 3x -count 3 ./train/experiment/
func BenchmarkEpoch(b *testing.B) {
	dir, err := benchCampaign()
	if err != nil {
		b.Fatal(err)
	}
	m, err := campaign.ReadFile(dir + "/manifest.csv")
	if err != nil {
		b.Fatal(err)
	}
	for _, path := range []string{"memory", "stream"} {
		for _, size := range []int{128, 250} {
			b.Run(fmt.Sprintf("%s/%d", path, size), func(b *testing.B) {
				opt := dataset.Options{Size: size, Classes: classesFor(Classify), Splits: []string{campaign.Train}, Cache: dir + "/cache"}
				model, err := cnn.New(cnn.DefaultConfig(Classify, size))
				if err != nil {
					b.Fatal(err)
				}
				batch := model.Config().Batch
				var epoch func(order []int) error
				if path == "memory" {
					set, err := dataset.Load(m, dir, opt)
					if err != nil {
						b.Fatal(err)
					}
					st, err := dataset.ComputeStats(set)
					if err != nil {
						b.Fatal(err)
					}
					for _, im := range set.Images {
						st.Apply(im.Pix)
					}
					var x, y []float32
					epoch = func(order []int) error {
						for i := 0; i < len(order); i += batch {
							x, y = x[:0], y[:0]
							for _, j := range order[i:min(i+batch, len(order))] {
								x = append(x, set.Images[j].Pix...)
								y = append(y, target(Classify, set.Images[j].Label))
							}
							if _, err := model.TrainStep(x, y); err != nil {
								return err
							}
						}
						return nil
					}
				} else {
					s, err := dataset.OpenStream(m, dir, opt)
					if err != nil {
						b.Fatal(err)
					}
					st, err := s.Stats()
					if err != nil {
						b.Fatal(err)
					}
					var y []float32
					epoch = func(order []int) error {
						return s.Batches(order, batch, dataset.Loader{Prepare: func(_ int, p []float32) { st.Apply(p) }}, func(idx []int, x []float32) error {
							y = targets(Classify, s, idx, y)
							_, err := model.TrainStep(x, y)
							return err
						})
					}
				}
				n := 48 * 8
				if err := epoch(shuffled(n, 1, 0)[:batch]); err != nil { // builds the graph
					b.Fatal(err)
				}
				b.ResetTimer()
				cpu0 := cpuSeconds()
				e := 1
				for b.Loop() {
					if err := epoch(shuffled(n, 1, e)); err != nil {
						b.Fatal(err)
					}
					e++
				}
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "img/s")
				b.ReportMetric((cpuSeconds()-cpu0)*1e3/float64(n*b.N), "cpu-ms/img")
				b.ReportMetric(float64(peakRSSKB())/1024, "peakRSS-MB")
			})
		}
	}
}

// cpuSeconds is the process's user + system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// peakRSSKB is VmHWM of this process, in kB (−1 when unknown).
func peakRSSKB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return -1
}
