// Package turbulence generates the initial velocity field of the decaying
// turbulence runs: a Gaussian random, divergence-free vector field on a
// periodic N³ grid whose shell-averaged power spectrum is a power law,
// |v̂(k)|² ∝ k^−n.
//
// # Conventions
//
// Arrays are in C order [z][y][x] with x fastest: cell (i, j, k) is at index
// (k*N + j)*N + i. Wavevectors are integer triples (kx, ky, kz) in units of
// the fundamental wavenumber 2π/L, each component in the FFT range
// (−N/2, N/2]; array index m holds wavenumber m for m ≤ N/2 and m − N above.
//
// The Fourier convention is that of a Fourier series,
//
//	v(x) = Σ_k v̂(k) exp(+2πi k·x/N),  v̂(k) = N⁻³ Σ_x v(x) exp(−2πi k·x/N),
//
// so Parseval reads <|v|²> = Σ_k |v̂(k)|² and a shell-averaged power is the
// mean of Σ_c |v̂_c(k)|² over the modes of the shell. Velocity builds
// v̂(k) = A·Mode(N, k), with the single real factor A chosen so that the 3-D
// rms speed is the one requested.
//
// # Random numbers
//
// The amplitudes come from a counter-based generator, Philox4x32-10
// (Salmon et al. 2011), keyed on the seed with the counter (kx, ky, kz, c).
// Each amplitude is therefore a pure function of (seed, k, c): the field does
// not depend on how the work is split or on GOMAXPROCS, and one seed gives
// the same large-scale modes at every resolution N.
//
// # Nyquist modes
//
// For even N the wavenumbers +N/2 and −N/2 share one array slot, so a mode
// with a Nyquist component has no well-defined sign of k: it cannot be made
// transverse to both k and its alias, Hermitian symmetry pairs it with
// itself, and on the grid points exp(±iπm) = ±1 keeps only the real part of
// its amplitude (half the power of any other mode). Mode therefore sets every
// mode with a component ±N/2 to zero. The default band, |k| ≤ N/2, loses only
// the six on-axis modes (±N/2, 0, 0), (0, ±N/2, 0), (0, 0, ±N/2) on its
// surface; every other mode with a Nyquist component lies outside it.
package turbulence
