package dataset

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"

	"github.com/turbindex/turbindex/campaign"
	"github.com/turbindex/turbindex/sim/snapshot"
)

// SigmaUnit is the unit of the column-density maps a snapshot must hold;
// image pixels are log10(Σ / (g cm⁻²)).
const SigmaUnit = "g cm^-2"

// PixelUnit describes the value of a pixel, as recorded in PNG files.
const PixelUnit = "log10(g cm^-2)"

// Label describes one image: the simulation it was cut from and where.
type Label struct {
	ID    string  // simulation id, the manifest row's id
	Class string  // campaign.Kolmogorov, campaign.Burgers or campaign.Sweep
	Split string  // campaign.Train, campaign.Test or campaign.Holdout, the row's split
	Index float64 // spectral index n of the simulation, P(k) ∝ k^−n (dimensionless)

	Projection int // 0, 1, 2: Σ along x, y, z (Projections)
	Flip       int // 0 none, 1 horizontal, 2 vertical, 3 both (FlipNames)
	Quadrant   int // 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right of the original map (QuadrantNames)
}

// Image is one square image of log column density.
type Image struct {
	// Size is the side of the image, in pixels.
	Size int
	// Pix holds Size² values in row-major order (row 0 at the top), each
	// log10(Σ / (g cm⁻²)) unless the caller standardised them.
	Pix []float32
	// Label says where the image comes from.
	Label Label
}

// labels returns the labels of the 48 images of row, in ImageIndex order.
func labels(row campaign.Row) []Label {
	out := make([]Label, PerSnapshot)
	for p := range NumProjections {
		for f := range NumFlips {
			for q := range NumQuadrants {
				out[ImageIndex(p, f, q)] = Label{ID: row.ID, Class: row.Class, Split: row.Split, Index: row.Index,
					Projection: p, Flip: f, Quadrant: q}
			}
		}
	}
	return out
}

// images wraps a block of 48 images of size² pixels (as cutInto writes it)
// and the row's labels into Images.
func images(block []float32, size int, row campaign.Row) []Image {
	pix := splitBlock(block, size)
	lab := labels(row)
	out := make([]Image, PerSnapshot)
	for i := range out {
		out[i] = Image{Size: size, Pix: pix[i], Label: lab[i]}
	}
	return out
}

// FromSnapshot returns the 48 images (ImageIndex order) of the snapshot at
// path, resampled to size² pixels (0: N/2 × N/2, no resampling), labelled
// with row. The snapshot's header parameters must name the row's spectral
// index and seed, and it must hold the three maps sigma_x, sigma_y, sigma_z,
// square, of one even side N, in g cm⁻². Errors name the file and the values
// at fault.
func FromSnapshot(path string, size int, row campaign.Row) ([]Image, error) {
	if size < 0 {
		return nil, fmt.Errorf("image size %d: want ≥ 0 (0: N/2)", size)
	}
	s, err := openSnap(path, row)
	if err != nil {
		return nil, err
	}
	defer s.f.Close()
	if size == 0 {
		size = s.n / 2
	}
	block, err := s.decode(size)
	if err != nil {
		return nil, err
	}
	return images(block, size, row), nil
}

// snap is an open snapshot whose header passed the checks of FromSnapshot.
type snap struct {
	f   *snapshot.File
	n   int    // side of the Σ maps, cells
	key uint64 // identifies the Σ maps' contents (their field table); keys the cache
}

// openSnap opens the snapshot at path and checks its header against row.
// Close s.f when done.
func openSnap(path string, row campaign.Row) (*snap, error) {
	f, err := snapshot.Open(path)
	if err != nil {
		return nil, err
	}
	s := &snap{f: f}
	if err := s.check(row); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// check validates the header: run parameters against row, Σ fields present,
// square, of one even side, in g cm⁻²; it sets s.n and s.key.
func (s *snap) check(row campaign.Row) error {
	path := s.f.Path
	var params struct {
		Index *float64 `json:"index"`
		Seed  *uint64  `json:"seed"`
	}
	if err := json.Unmarshal(s.f.Header.Params, &params); err != nil {
		return fmt.Errorf("%s: header params: %v", path, err)
	}
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	switch {
	case params.Index == nil:
		return fmt.Errorf("%s: header params have no index (manifest row %s has index %s)", path, row.ID, g(row.Index))
	case params.Seed == nil:
		return fmt.Errorf("%s: header params have no seed (manifest row %s has seed %d)", path, row.ID, row.Seed)
	case *params.Index != row.Index:
		return fmt.Errorf("%s: index mismatch: snapshot has index=%s, manifest row %s has %s", path, g(*params.Index), row.ID, g(row.Index))
	case *params.Seed != row.Seed:
		return fmt.Errorf("%s: seed mismatch: snapshot has seed=%d, manifest row %s has %d", path, *params.Seed, row.ID, row.Seed)
	}
	h := xxhash.New()
	h.WriteString("turbindex dataset cache key v1\x00")
	for p, name := range Projections {
		fi, err := s.f.Field(name)
		if err != nil {
			return fmt.Errorf("%w: a snapshot needs the Σ maps sigma_x, sigma_y and sigma_z", err)
		}
		if fi.Unit != SigmaUnit {
			return fmt.Errorf("%s: field %s has unit %q, want %q", path, name, fi.Unit, SigmaUnit)
		}
		if len(fi.Shape) != 2 || fi.Shape[0] != fi.Shape[1] {
			return fmt.Errorf("%s: field %s has shape %v, want a square map [N, N]", path, name, fi.Shape)
		}
		n := fi.Shape[0]
		if p == 0 {
			s.n = n
		}
		switch {
		case n != s.n:
			return fmt.Errorf("%s: field %s is %d × %d but %s is %d × %d", path, name, n, n, Projections[0], s.n, s.n)
		case n < 2 || n%2 != 0:
			return fmt.Errorf("%s: field %s is %d × %d: quadrants need an even side", path, name, n, n)
		}
		h.WriteString(name)
		h.Write([]byte{0})
		h.Write(binary.LittleEndian.AppendUint64(nil, uint64(n)))
		for _, c := range fi.Chunks {
			fmt.Fprintf(h, "%v %v %s;", c.Start, c.Shape, c.XXHash64)
		}
	}
	s.key = h.Sum64()
	return nil
}

// decode reads the Σ maps and cuts them into a block of 48 images of size²
// pixels (size > 0).
func (s *snap) decode(size int) ([]float32, error) {
	var sigma [NumProjections][]float32
	for p, name := range Projections {
		v, err := s.f.Read(name)
		if err != nil {
			return nil, err
		}
		sigma[p] = v
	}
	block := make([]float32, PerSnapshot*size*size)
	if err := cutInto(block, sigma, s.n, size); err != nil {
		return nil, fmt.Errorf("%s: %w", s.f.Path, err)
	}
	return block, nil
}

// RowOf returns the campaign row a standalone snapshot stands for, from its
// header: the id is the file's base name without .tsnap, the index and seed
// are the run's, the class follows from the index (11/3 Kolmogorov, 4
// Burgers, anything else the sweep) and the split is empty.
func RowOf(path string) (campaign.Row, error) {
	f, err := snapshot.Open(path)
	if err != nil {
		return campaign.Row{}, err
	}
	defer f.Close()
	var params struct {
		Index *float64 `json:"index"`
		Seed  *uint64  `json:"seed"`
	}
	if err := json.Unmarshal(f.Header.Params, &params); err != nil || params.Index == nil || params.Seed == nil {
		return campaign.Row{}, fmt.Errorf("%s: header params have no index and seed: not a turbulence snapshot", path)
	}
	row := campaign.Row{ID: strings.TrimSuffix(filepath.Base(path), ".tsnap"), Index: *params.Index, Seed: *params.Seed, Class: campaign.Sweep}
	switch row.Index {
	case campaign.KolmogorovIndex:
		row.Class = campaign.Kolmogorov
	case campaign.BurgersIndex:
		row.Class = campaign.Burgers
	}
	return row, nil
}
