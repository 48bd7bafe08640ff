package hydro

import "math"

// llf returns the local Lax–Friedrichs (Rusanov) flux of the isothermal
// equations (c = 1) between a left and a right primitive state, given as
// density, normal velocity and the two transverse velocities:
//
//	F = ½(F_L + F_R) − ½ a (U_R − U_L),   a = max(|u_L|, |u_R|) + c.
//
// Every operation is symmetric under mirroring (swap L and R, negate normal
// velocities), so mirrored problems give mirrored results bit for bit.
func llf(rl, ul, vl, wl, rr, ur, vr, wr float64) (fr, fu, fv, fw float64) {
	a := math.Max(math.Abs(ul), math.Abs(ur)) + 1
	ml, mr := rl*ul, rr*ur // normal momentum = normal mass flux
	fr = 0.5*(ml+mr) - 0.5*a*(rr-rl)
	fu = 0.5*(ml*ul+rl+(mr*ur+rr)) - 0.5*a*(mr-ml)
	fv = 0.5*(ml*vl+mr*vr) - 0.5*a*(rr*vr-rl*vl)
	fw = 0.5*(ml*wl+mr*wr) - 0.5*a*(rr*wr-rl*wl)
	return
}
