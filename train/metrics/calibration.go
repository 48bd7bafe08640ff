package metrics

import (
	"fmt"
	"math"
)

// BestThreshold returns the threshold t that maximises the accuracy of
// "score ≥ t predicts the positive class" on scores and labels, and that
// accuracy: the threshold to choose on a validation split, where a model's
// scores are well ordered (high AUC) but shifted from the default
// threshold. t lies halfway between two consecutive distinct scores (above
// the largest score when predicting every sample negative is best). Of
// equally accurate thresholds the largest wins. It returns an error for
// the inputs ClassifyAt refuses.
func BestThreshold(scores []float64, labels []int) (t, accuracy float64, err error) {
	if err := checkBinary(scores, labels); err != nil {
		return math.NaN(), math.NaN(), err
	}
	if len(scores) == 0 {
		return math.NaN(), math.NaN(), fmt.Errorf("metrics: no samples to choose a threshold on")
	}
	steps, pos, neg := rocSteps(scores, labels)
	// Step i predicts positive the scores ≥ steps[i].threshold; the
	// correct predictions are its true positives and the negatives below.
	best := -1
	for i, s := range steps {
		if c := s.tp + neg - s.fp; c > best {
			best = c
			if i == 0 {
				hi := steps[1].threshold
				t = hi + 1 + math.Abs(hi)*1e-9
			} else if i+1 < len(steps) {
				t = (s.threshold + steps[i+1].threshold) / 2
			} else {
				t = s.threshold
			}
		}
	}
	return t, float64(best) / float64(pos+neg), nil
}

// ReliabilityBin is one bin of a reliability (calibration) diagram: the
// samples whose predicted probability lies in [Lo, Hi).
type ReliabilityBin struct {
	Lo, Hi float64 // bounds of the predicted probability
	// Predicted is the mean predicted probability of the bin's samples,
	// Observed the fraction of them that are positive.
	Predicted, Observed float64
	N                   int // samples
}

// Reliability sorts the predicted probabilities prob of the positive class
// into bins equal bins of [0, 1] (the last one closed) and returns the bins
// that hold samples, for a reliability diagram: a calibrated classifier
// has Observed ≈ Predicted in every bin. It returns an error if a
// probability is outside [0, 1] or NaN, if the lengths differ, if a label
// is neither 0 nor 1, or if bins < 1.
func Reliability(prob []float64, labels []int, bins int) ([]ReliabilityBin, error) {
	if bins < 1 {
		return nil, fmt.Errorf("metrics: %d reliability bins", bins)
	}
	if err := checkBinary(prob, labels); err != nil {
		return nil, err
	}
	all := make([]ReliabilityBin, bins)
	sum, pos := make([]float64, bins), make([]int, bins)
	for i, p := range prob {
		if !(p >= 0 && p <= 1) {
			return nil, fmt.Errorf("metrics: probability %d is %v, not in [0, 1]", i, p)
		}
		b := min(int(p*float64(bins)), bins-1)
		all[b].N++
		sum[b] += p
		pos[b] += labels[i]
	}
	var out []ReliabilityBin
	for b, r := range all {
		if r.N == 0 {
			continue
		}
		r.Lo, r.Hi = float64(b)/float64(bins), float64(b+1)/float64(bins)
		r.Predicted, r.Observed = sum[b]/float64(r.N), float64(pos[b])/float64(r.N)
		out = append(out, r)
	}
	return out, nil
}

// ECE is the expected calibration error of reliability bins: the mean over
// samples of |Observed − Predicted| of their bin. 0 is perfectly
// calibrated; a classifier always 0.5 sure is off by up to 0.5.
func ECE(bins []ReliabilityBin) float64 {
	var s float64
	var n int
	for _, b := range bins {
		s += float64(b.N) * math.Abs(b.Observed-b.Predicted)
		n += b.N
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}
