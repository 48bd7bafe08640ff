// Package campaign plans a campaign of turbulence simulations as a manifest
// (one row per simulation), maps manifest rows to SLURM array tasks, and
// reports which simulations of a campaign are done.
//
// # Manifest format (version 1)
//
// A manifest is a UTF-8 CSV file. It opens with '#' comment lines that carry
// every campaign parameter, so that a task needs nothing but the manifest to
// run its rows; then comes the header row and one row per simulation. pandas
// reads it with pandas.read_csv(path, comment='#'). Example (the paper
// preset):
//
//	# turbindex manifest v1
//	# preset=paper
//	# campaign_seed=1
//	# grid=500
//	# tend_myr=0.5
//	# mach=1.41
//	# box_pc=10
//	# temp_k=10
//	# mu=2.37
//	# rho0_cgs=6.77e-22
//	# cfl=0.3
//	# order=2
//	# kmin=1
//	# kmax=0
//	# fields=
//	id,class,index,seed,split
//	kolmogorov-0000,kolmogorov,3.6666666666666665,8842811553469003093,train
//	...
//
// The first line is exactly "# turbindex manifest v1". Each following
// comment line is "# key=value"; every key below must appear exactly once
// (in any order; Write uses this order), and no other key is allowed:
//
//	preset         the preset the plan started from (informational): paper, demo, ...
//	campaign_seed  the campaign seed the rows were drawn from (informational), uint64
//	grid           cells along each axis of the cube, ≥ 16
//	tend_myr       simulated time, Myr, > 0
//	mach           3-D rms Mach number of the initial velocity field, > 0
//	box_pc         box edge, pc, > 0
//	temp_k         gas temperature, K, > 0
//	mu             mean molecular weight, > 0
//	rho0_cgs       mean density, g cm⁻³, > 0
//	cfl            Courant number, in (0, 1/3]
//	order          1 (donor cell) or 2 (VL2 + PLM)
//	kmin           smallest driven |k|, units of 2π/L, ≥ 0
//	kmax           largest driven |k|, units of 2π/L; 0 means N/2
//	fields         comma-separated cubes stored besides the Σ maps (density, velocity); may be empty
//
// Apart from preset and campaign_seed, these are the keys of physics.Params
// (as in a snapshot header's params) but index and seed, which each row
// has; they obey physics.Params.Validate. Floating-point values are written with strconv 'g' and precision
// −1, so they read back exactly.
//
// The header row is exactly "id,class,index,seed,split". Each row has five
// fields:
//
//	id     unique, a safe file name: [A-Za-z0-9][A-Za-z0-9._-]*, at most 128 bytes;
//	       the planner writes <class>-<number within class, 4 digits>
//	class  kolmogorov (index exactly 11/3), burgers (index exactly 4) or sweep
//	index  spectral index n, P(k) ∝ k^−n, in [1, 6]
//	seed   the simulation's random seed, uint64 in decimal; unique in the manifest
//	split  train, test or holdout
//
// No blank lines or comments may follow the header row; a manifest with no
// rows is invalid. Rows are numbered from 0 in file order: SLURM array task
// K with M rows per task runs rows K·M … K·M+M−1 (see Manifest.TaskRows).
// The planner writes kolmogorov rows first, then burgers, then sweep.
//
// # Outputs of a row
//
// In the campaign's output directory, row id writes id.tsnap (the snapshot,
// SnapshotPath), may leave id.ckpt (a checkpoint to resume from,
// CheckpointPath), and holds id.lock (LockPath) while a task runs it. A task
// refreshes the lock's modification time at least every Heartbeat; a lock
// older than StaleAfter belongs to a task that died.
package campaign
