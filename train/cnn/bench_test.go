package cnn

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
)

// The benchmarks time the default (talk's) network, batch 32, on random
// images. Each reports images per second and the process's peak resident
// set (VmHWM, MB) — a process-wide high-water mark, so run one size per
// process for its own peak, e.g.
//
//	go test -run '^$' -bench 'TrainStep/128$' ./train/cnn/
func benchModel(b *testing.B, task string, size int) (*Model, []float32, []float32) {
	m, err := New(DefaultConfig(task, size))
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, uint64(size)))
	x, y := randomBatch(r, m.cfg, m.cfg.Batch)
	return m, x, y
}

// cpuSeconds is the process's user + system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// reportSpeed reports images per second of wall time; CPU milliseconds per
// image (steadier than wall time on a machine whose cores are shared: time
// slices lost to other processes do not count); and memory.
func reportSpeed(b *testing.B, images int, cpu0 float64) {
	b.ReportMetric(float64(images)*float64(b.N)/b.Elapsed().Seconds(), "img/s")
	b.ReportMetric((cpuSeconds()-cpu0)*1e3/float64(images*b.N), "cpu-ms/img")
	b.ReportMetric(float64(procStatusKB("VmHWM"))/1024, "peakRSS-MB")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
}

// BenchmarkTrainStep: one optimizer step on a batch of 32 images.
func BenchmarkTrainStep(b *testing.B) {
	for _, size := range []int{64, 128, 250} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			m, x, y := benchModel(b, TaskClassify, size)
			if _, err := m.TrainStep(x, y); err != nil { // builds the graph
				b.Fatal(err)
			}
			b.ResetTimer()
			cpu0 := cpuSeconds()
			for b.Loop() {
				if _, err := m.TrainStep(x, y); err != nil {
					b.Fatal(err)
				}
			}
			reportSpeed(b, len(y), cpu0)
		})
	}
}

// BenchmarkPredict: inference on 32 images.
func BenchmarkPredict(b *testing.B) {
	for _, size := range []int{64, 128, 250} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			m, x, y := benchModel(b, TaskClassify, size)
			if _, err := m.Predict(x); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			cpu0 := cpuSeconds()
			for b.Loop() {
				if _, err := m.Predict(x); err != nil {
					b.Fatal(err)
				}
			}
			reportSpeed(b, len(y), cpu0)
		})
	}
}
