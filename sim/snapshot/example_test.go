package snapshot_test

import (
	"fmt"
	"log"

	"github.com/turbindex/turbindex/sim/snapshot"
)

// Reading a snapshot: open it (the header is validated), look at the
// header and the field table, read a field (each chunk is decompressed and
// checksummed as it is read) and index it in C order. (The golden file's
// density is 1e-21·(1 + i/8) g cm⁻³ at flat index i; [1][0][1] is i = 5.)
func Example() {
	f, err := snapshot.Open("testdata/v1_small.tsnap")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	h := f.Header
	fmt.Printf("%s at t = %g Myr, grid %v, params %s\n", h.Problem, h.TimeMyr, h.Grid, h.Params)
	for _, fi := range h.Fields {
		fmt.Printf("field %s [%s]: shape %v, axes %v, %d chunks\n", fi.Name, fi.Unit, fi.Shape, fi.Axes, len(fi.Chunks))
	}
	fi, err := f.Field("density")
	if err != nil {
		log.Fatal(err)
	}
	rho, err := f.Read(fi.Name)
	if err != nil {
		log.Fatal(err)
	}
	// C order: element [z][y][x] of a shape [nz, ny, nx] is at (z·ny + y)·nx + x.
	nx, ny := fi.Shape[2], fi.Shape[1]
	z, y, x := 1, 0, 1
	fmt.Printf("density[%d][%d][%d] = %g %s\n", z, y, x, rho[(z*ny+y)*nx+x], fi.Unit)
	// Output:
	// turbulence at t = 0.5 Myr, grid [2 2 2], params {"n":4,"seed":1,"mach":5}
	// field sigma_x [g cm^-2]: shape [2 2], axes [z y], 1 chunks
	// field sigma_y [g cm^-2]: shape [2 2], axes [z x], 1 chunks
	// field sigma_z [g cm^-2]: shape [2 2], axes [y x], 1 chunks
	// field density [g cm^-3]: shape [2 2 2], axes [z y x], 2 chunks
	// density[1][0][1] = 1.625e-21 g cm^-3
}
