// Package plots draws the figures of the study with gonum/plot.
package plots

import _ "gonum.org/v1/plot"
