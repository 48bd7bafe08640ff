package cnn

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func bitsOf(ws [][]float32) []uint32 {
	var b []uint32
	for _, w := range ws {
		for _, v := range w {
			b = append(b, math.Float32bits(v))
		}
	}
	return b
}

// TestFreezeConv trains a classifier whose convolution blocks were copied
// from a regressor, with and without Freeze: frozen blocks keep every bit
// through several steps (also after a save and load), unfrozen ones and the
// dense head change.
func TestFreezeConv(t *testing.T) {
	const S = 16
	src := DefaultConfig(TaskRegress, S)
	src.Filters, src.Dense, src.Batch, src.Seed = []int{4, 8}, []int{8}, 8, 3
	reg, err := New(src)
	if err != nil {
		t.Fatal(err)
	}
	rs := makeFields(1, 16, S, TaskRegress)
	standardise(&rs)
	epoch(t, reg, rs)
	cs := makeFields(2, 24, S, TaskClassify)
	standardise(&cs)

	for _, freeze := range []string{FreezeNone, FreezeConv} {
		cfg := src
		cfg.Task, cfg.Seed, cfg.Freeze = TaskClassify, 9, freeze
		m, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.CopyConv(reg); err != nil {
			t.Fatal(err)
		}
		conv0, dense0 := bitsOf(m.ConvWeights()), bitsOf(m.DenseWeights())
		if i := equalBits(conv0, bitsOf(reg.ConvWeights())); i != -1 {
			t.Fatalf("freeze %q: CopyConv: conv weights differ from the source's at %d", freeze, i)
		}
		epoch(t, m, cs)
		// Through a checkpoint: the frozen set is part of the configuration.
		var buf bytes.Buffer
		if err := m.Save(&buf); err != nil {
			t.Fatal(err)
		}
		if m, err = Load(&buf); err != nil {
			t.Fatal(err)
		}
		epoch(t, m, cs)
		conv1, dense1 := bitsOf(m.ConvWeights()), bitsOf(m.DenseWeights())
		convSame := equalBits(conv0, conv1) == -1
		if convSame != (freeze == FreezeConv) {
			t.Errorf("freeze %q: conv weights unchanged = %v after 6 steps", freeze, convSame)
		}
		if equalBits(dense0, dense1) == -1 {
			t.Errorf("freeze %q: the dense head did not change", freeze)
		}
		changed := 0
		for i := range dense0 {
			if dense0[i] != dense1[i] {
				changed++
			}
		}
		if changed < len(dense0)/2 {
			t.Errorf("freeze %q: only %d of %d dense values changed", freeze, changed, len(dense0))
		}
	}
}

func TestCopyConvRefuses(t *testing.T) {
	base := DefaultConfig(TaskRegress, 32)
	base.Filters, base.Dense, base.Batch = []int{4, 8}, []int{8}, 4
	src, err := New(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		edit    func(*Config)
		ok      bool
		message string
	}{
		{"other head", func(c *Config) { c.Task, c.Dense, c.Dropout = TaskClassify, []int{16, 4}, 0 }, true, ""},
		{"filters", func(c *Config) { c.Filters = []int{4, 16} }, false, "the source network has filters 4,8 on 32² images, this one filters 4,16 on 32² images"},
		{"blocks", func(c *Config) { c.Filters = []int{4, 8, 8} }, false, "this one filters 4,8,8 on 32²"},
		{"image size", func(c *Config) { c.ImageSize = 16 }, false, "filters 4,8 on 32² images, this one filters 4,8 on 16² images"},
	} {
		cfg := base
		cfg.Seed = 5
		tc.edit(&cfg)
		m, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		before := bitsOf(m.ConvWeights())
		err = m.CopyConv(src)
		if tc.ok != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.message)) {
			t.Errorf("%s: CopyConv: %v, want ok=%v or %q", tc.name, err, tc.ok, tc.message)
		}
		if !tc.ok && equalBits(before, bitsOf(m.ConvWeights())) != -1 {
			t.Errorf("%s: a refused CopyConv changed the weights", tc.name)
		}
	}
	bad := base
	bad.Freeze = "dense"
	if _, err := New(bad); err == nil || !strings.Contains(err.Error(), `freeze "dense"`) {
		t.Errorf("Freeze dense: %v", err)
	}
}
