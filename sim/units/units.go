// Package units holds the physical constants and the code-unit system of the
// simulation.
//
// The solver works in code units in which the box edge L, the initial mean
// density ρ0 and the isothermal sound speed c_s are all 1; the time unit is
// then the sound-crossing time L/c_s. Everything written to disk is in cgs.
package units

import (
	"fmt"
	"math"
)

// Physical constants in cgs.
const (
	Parsec       = 3.0856775814913673e18 // cm
	Year         = 3.15576e7             // s (Julian year)
	Myr          = 1e6 * Year            // s
	Boltzmann    = 1.380649e-16          // erg K⁻¹
	HydrogenMass = 1.6735575e-24         // g, mass of a hydrogen atom (the m_H of μ m_H)
	SolarMass    = 1.98847e33            // g (IAU 2015 nominal GM☉ over CODATA 2018 G)
)

// MuH2 is the mass per hydrogen molecule in units of m_H, helium and metals
// included (X = 0.71, Y = 0.27, Z = 0.02: Kauffmann et al. 2008, A&A 487,
// 993, appendix A.1): Σ = MuH2 m_H N(H₂). It is not the mean molecular
// weight per free particle μ = 2.37 of the simulations' sound speed, which
// counts the helium atoms as particles.
const MuH2 = 2.8

// System converts between code units and cgs for one run.
type System struct {
	Length   float64 // cm per code length unit (the box edge)
	Density  float64 // g cm⁻³ per code density unit (the initial mean density)
	Velocity float64 // cm s⁻¹ per code velocity unit (the sound speed)
}

// SoundSpeed returns the isothermal sound speed sqrt(k T / (μ m_H)) in cm s⁻¹
// for temperature tempK (K) and mean molecular weight mu.
func SoundSpeed(tempK, mu float64) float64 {
	return math.Sqrt(Boltzmann * tempK / (mu * HydrogenMass))
}

// NewSystem returns the code-unit system of a box of edge boxPc (pc) filled
// with gas of mean density rho0 (g cm⁻³) at temperature tempK (K) and mean
// molecular weight mu.
func NewSystem(boxPc, rho0, tempK, mu float64) (System, error) {
	switch {
	case !(boxPc > 0) || math.IsInf(boxPc, 0):
		return System{}, fmt.Errorf("box size %g pc: must be positive and finite", boxPc)
	case !(rho0 > 0) || math.IsInf(rho0, 0):
		return System{}, fmt.Errorf("density %g g/cm3: must be positive and finite", rho0)
	case !(tempK > 0) || math.IsInf(tempK, 0):
		return System{}, fmt.Errorf("temperature %g K: must be positive and finite", tempK)
	case !(mu > 0) || math.IsInf(mu, 0):
		return System{}, fmt.Errorf("mean molecular weight %g: must be positive and finite", mu)
	}
	return System{Length: boxPc * Parsec, Density: rho0, Velocity: SoundSpeed(tempK, mu)}, nil
}

// Time returns seconds per code time unit (the sound-crossing time L/c_s).
func (s System) Time() float64 { return s.Length / s.Velocity }

// Mass returns grams per code mass unit (ρ0 L³, the box mass).
func (s System) Mass() float64 { return s.Density * s.Length * s.Length * s.Length }

// ColumnDensity returns g cm⁻² per code column-density unit (ρ0 L).
func (s System) ColumnDensity() float64 { return s.Density * s.Length }
