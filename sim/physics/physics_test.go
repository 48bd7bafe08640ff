package physics

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestDefaultsValid(t *testing.T) {
	if err := Defaults().Validate(); err != nil {
		t.Fatalf("Defaults: %v", err)
	}
}

// TestValidate checks that every bad value is refused with an *Error
// naming its field and value.
func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		edit  func(*Params)
		field string
		value string
	}{
		{func(p *Params) { p.Grid = 8 }, "grid", "8"},
		{func(p *Params) { p.Grid = MaxGrid + 1 }, "grid", "1048577"},
		{func(p *Params) { p.TEndMyr = 0 }, "tend_myr", "0"},
		{func(p *Params) { p.TEndMyr = math.Inf(1) }, "tend_myr", "+Inf"},
		{func(p *Params) { p.BoxPc = -1 }, "box_pc", "-1"},
		{func(p *Params) { p.TempK = math.NaN() }, "temp_k", "NaN"},
		{func(p *Params) { p.Mu = 0 }, "mu", "0"},
		{func(p *Params) { p.Rho0 = math.Inf(1) }, "rho0_cgs", "+Inf"},
		{func(p *Params) { p.CFL = 0.34 }, "cfl", "0.34"},
		{func(p *Params) { p.CFL = 0 }, "cfl", "0"},
		{func(p *Params) { p.Order = 3 }, "order", "3"},
		{func(p *Params) { p.Fields = []string{"density", "pressure"} }, "fields", "density,pressure"},
		{func(p *Params) { p.Fields = []string{"density", "density"} }, "fields", "density,density"},
		{func(p *Params) { p.Index = 0.5 }, "index", "0.5"},
		{func(p *Params) { p.Index = math.NaN() }, "index", "NaN"},
		{func(p *Params) { p.Mach = 0 }, "mach", "0"},
		{func(p *Params) { p.KMin = -1 }, "kmin", "-1"},
		{func(p *Params) { p.KMax = -1 }, "kmax", "-1"},
		{func(p *Params) { p.KMin, p.KMax = 9, 4 }, "kmax", "4"},
		{func(p *Params) { p.Grid, p.KMin = 16, 9 }, "kmax", "0"}, // N/2 = 8 < 9
	} {
		p := Defaults()
		tc.edit(&p)
		var fe *Error
		if err := p.Validate(); !errors.As(err, &fe) || fe.Field != tc.field || fe.Value != tc.value {
			t.Errorf("%s %s: Validate = %v, want an *Error on that field and value", tc.field, tc.value, err)
		}
	}
	// The edges are valid.
	p := Defaults()
	p.Grid, p.CFL, p.Index, p.KMin, p.KMax = MinGrid, MaxCFL, MaxIndex, 8, 0
	if err := p.Validate(); err != nil {
		t.Errorf("edges: %v", err)
	}
}

// TestText checks that every field reads back exactly from its text form
// and that the keys are the JSON keys in struct order.
func TestText(t *testing.T) {
	want := "grid tend_myr box_pc temp_k mu rho0_cgs cfl order fields index seed mach kmin kmax"
	if got := strings.Join(Keys(), " "); got != want {
		t.Errorf("Keys = %s, want %s", got, want)
	}
	p := Defaults()
	p.Fields, p.Seed, p.Index, p.KMax = []string{"density", "velocity"}, math.MaxUint64, 0.1+0.2, 1e-300
	var q Params
	for _, k := range Keys() {
		text, ok := p.Get(k)
		if !ok {
			t.Fatalf("Get(%s): unknown", k)
		}
		if err := q.Set(k, text); err != nil {
			t.Fatalf("Set(%s, %q): %v", k, text, err)
		}
	}
	if !reflect.DeepEqual(p, q) {
		t.Errorf("round trip:\n got %+v\nwant %+v", q, p)
	}
	for k, bad := range map[string]string{"grid": "1.5", "seed": "-1", "mach": "fast", "nope": "1"} {
		if err := q.Set(k, bad); err == nil {
			t.Errorf("Set(%s, %q) accepted", k, bad)
		}
	}
	if err := q.Set("fields", " density , velocity"); err != nil || !reflect.DeepEqual(q.Fields, []string{"density", "velocity"}) {
		t.Errorf("fields with spaces: %v, %q", err, q.Fields)
	}
	if err := q.Set("fields", ""); err != nil || q.Fields != nil {
		t.Errorf("empty fields: %v, %q (want nil)", err, q.Fields)
	}
}
