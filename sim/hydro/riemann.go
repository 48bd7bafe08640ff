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
	// Products are rounded before they are added (no FMA), so the assembly
	// kernels give the same bits. Go's max and the vector one differ only
	// for a NaN velocity, which makes every flux NaN either way.
	h := 0.5 * (max(math.Abs(ul), math.Abs(ur)) + 1)
	ml, mr := rl*ul, rr*ur // normal momentum = normal mass flux
	fr = float64(0.5*(ml+mr)) - float64(h*(rr-rl))
	fu = float64(0.5*((float64(ml*ul)+rl)+(float64(mr*ur)+rr))) - float64(h*(mr-ml))
	fv = float64(0.5*(float64(ml*vl)+float64(mr*vr))) - float64(h*(float64(rr*vr)-float64(rl*vl)))
	fw = float64(0.5*(float64(ml*wl)+float64(mr*wr))) - float64(h*(float64(rr*wr)-float64(rl*wl)))
	return
}
