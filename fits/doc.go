// Package fits reads and writes FITS files (Flexible Image Transport
// System, FITS standard 4.0, Pence et al. 2010, A&A 524, A42): the format of
// astronomical images that astropy, DS9 and every observatory archive
// speak.
//
// Writing: a Cards value accumulates 80-character header cards in the fixed
// format; Float32Image appends the END card, pads the header and appends
// big-endian IEEE float32 data (BITPIX = −32).
//
// Reading: Parse (or ReadFile) splits a file into its header-data units
// (HDUs): the primary one and any extensions. Header gives typed access to
// the cards, including HIERARCH keywords and long strings continued over
// CONTINUE cards, as astropy writes them. File.Image decodes an image HDU of
// any BITPIX (8, 16, 32, 64, −32, −64) to float64, applying BSCALE and BZERO
// and turning BLANK integers into NaN. PixelScale reads the size of a pixel
// from the world coordinate system (CDELT, CD or PC matrices; celestial
// axes in angle units, linear axes in length units).
//
// Errors name the file, the HDU (0 is the primary) and the card at fault.
package fits
