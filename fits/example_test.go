package fits_test

import (
	"fmt"

	"github.com/turbindex/turbindex/fits"
)

// A 3 × 2 map in g cm⁻² with 0.5 pc pixels, written and read back.
func Example() {
	var c fits.Cards
	c.Logical("SIMPLE", true, "conforms to the FITS standard")
	c.Integer("BITPIX", -32, "")
	c.Integer("NAXIS", 2, "")
	c.Integer("NAXIS1", 3, "columns")
	c.Integer("NAXIS2", 2, "rows")
	c.String("BUNIT", "g cm-2", "column density")
	for _, k := range []string{"1", "2"} {
		c.String("CTYPE"+k, "X"+k, "")
		c.String("CUNIT"+k, "pc", "")
		c.Real("CDELT"+k, 0.5, "")
	}
	b := fits.Float32Image(&c, []float32{1, 2, 3, 4, 5, 6})

	f, err := fits.Parse("map.fits", b)
	if err != nil {
		fmt.Println(err)
		return
	}
	im, err := f.Image(0, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := fits.PixelScale(&im.Header)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(b), im.Shape, im.Data[3], im.BUNIT, s.Kind, s.X/3.0856775814913673e18)
	// Output: 5760 [2 3] 4 g cm-2 linear 0.5
}
