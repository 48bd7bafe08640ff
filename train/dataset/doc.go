// Package dataset turns the column-density maps of turbindex snapshots into
// the labelled images the CNN and the analysis learn from.
//
// # Images of a snapshot
//
// A snapshot holds three column-density maps Σ (g cm⁻², float32, C order):
// sigma_x [z][y], sigma_y [z][x] and sigma_z [y][x], each N × N. Each gives
// 16 images, 48 in all, of (N/2)² pixels (or Size² after resampling). An
// image's pixel is log10(Σ / (g cm⁻²)), dimensionless, stored as float32 and
// computed in float64.
//
// The order of operations is: cut, resample, take the logarithm, flip.
//
//  1. Cut quadrant q of the N × N map: 0 top-left, 1 top-right, 2 bottom-left,
//     3 bottom-right, each N/2 × N/2. "Top" is row 0, the first row of the map
//     in C order (the lowest index of its slow axis: z for sigma_x and
//     sigma_y, y for sigma_z); "left" is column 0 (the lowest index of its
//     fast axis: y, x, x). Bit 1 of q picks the bottom half, bit 0 the right
//     half. The quadrant label thus names the patch of the original map the
//     pixels come from.
//  2. Resample the quadrant's Σ (not its logarithm) from (N/2)² to Size²
//     with Resample: averaging Σ over a coarser pixel conserves mass, as a
//     coarser detector would see it.
//  3. Take log10.
//  4. Flip f: 0 none, 1 horizontal (mirror left-right: columns reversed),
//     2 vertical (rows reversed), 3 both (a 180° rotation). Bit 0 of f is the
//     horizontal mirror, bit 1 the vertical one.
//
// Flipping last makes flipped images exact mirrors of each other, bit for
// bit. Flipping the whole map first and cutting after would give the same
// 16 images per projection, labelled differently: the image (f, q) of that
// order is the image (f, q XOR f) here.
//
// The 48 images come in the order index = 16·projection + 4·flip + quadrant
// (ImageIndex), projection 0, 1, 2 for sigma_x, sigma_y, sigma_z. They are
// distinct unless a quadrant is symmetric under a flip or two quadrants are
// mirror images of each other, which a turbulent map never is.
//
// # Data sets
//
// Load reads the snapshots of a campaign manifest in parallel into a Set.
// Splits come only from the manifest's split column, one per simulation, so
// the images of a simulation all share its split and no simulation can be in
// two splits. A Set keeps each simulation's 48 images contiguous, in manifest
// row order; each simulation's pixels share one allocation.
//
// # Standardisation
//
// The signal is faint: log10 Σ spans only ~0.015 dex, and its amplitude
// differs between the classes. So pixels are kept in float32 log Σ and
// standardised with one global mean and standard deviation computed from
// the training split only (ComputeStats, Stats.Apply). PerImage standardises
// each image by its own mean and deviation instead, which removes the
// amplitude information and leaves the models only the morphology.
//
// # Cache and streams
//
// With Options.Cache set, Load keeps each simulation's decoded images in a
// file <cache>/<id>-<size>.zimg (CachePath), one zstd frame per image, so
// that later loads skip decoding the snapshot. OpenStream fills the same
// cache and returns a Stream, which decodes images on demand: training reads
// a shuffled epoch through Stream.Batches in windows of a few hundred
// images, so its memory does not grow with the number of simulations (see
// docs/SCALING.md, "Training on the paper's counts").
//
// # Pictures
//
// WritePNG writes an image as an 8-bit grayscale PNG over a fixed log Σ
// range for people to look at (CampaignRange chooses one); training never
// uses quantised pixels.
package dataset
