// Package metrics computes the evaluation figures of the turbulence
// classifiers and regressors: confusion matrices, accuracy, precision,
// recall, F1, ROC curves and their area, mean squared error, R² and
// per-simulation averages.
//
// The positive class is Burgers turbulence (label 1); Kolmogorov
// turbulence is the negative class (label 0). Scores are larger for the
// positive class, for instance the network's P(Burgers) or an SVM
// decision value.
//
// Functions that return no error panic on inputs that are a programming
// error: slices of different lengths, a label other than 0 or 1, or a NaN
// score. Their error-returning counterparts (AUCErr, Classify, ClassifyAt
// and Regress) report the same conditions as errors and never panic.
package metrics // import "github.com/turbindex/turbindex/train/metrics"

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// DefaultThreshold is the score threshold used by Classify: a score
// greater than or equal to DefaultThreshold predicts the positive class.
// It suits scores that are probabilities, such as P(Burgers).
const DefaultThreshold = 0.5

// ErrOneClass is returned (wrapped) by AUCErr, Classify and ClassifyAt
// when the labels do not contain both classes, so that the ROC curve and
// its area are undefined.
var ErrOneClass = errors.New("metrics: labels contain only one class")

// Confusion is a binary confusion matrix. The positive class is Burgers
// turbulence (label 1).
type Confusion struct {
	// TP is the number of positive samples predicted positive.
	TP int `json:"tp"`
	// FP is the number of negative samples predicted positive.
	FP int `json:"fp"`
	// TN is the number of negative samples predicted negative.
	TN int `json:"tn"`
	// FN is the number of positive samples predicted negative.
	FN int `json:"fn"`
}

// Confuse returns the confusion matrix of scores against labels when a
// score greater than or equal to threshold predicts the positive class.
//
// Confuse panics if scores and labels have different lengths, if a label
// is neither 0 nor 1 or if a score is NaN.
func Confuse(scores []float64, labels []int, threshold float64) Confusion {
	if err := checkBinary(scores, labels); err != nil {
		panic(err)
	}
	return confuse(scores, labels, threshold)
}

func confuse(scores []float64, labels []int, threshold float64) Confusion {
	var c Confusion
	for i, s := range scores {
		pos := s >= threshold
		switch {
		case labels[i] == 1 && pos:
			c.TP++
		case labels[i] == 1:
			c.FN++
		case pos:
			c.FP++
		default:
			c.TN++
		}
	}
	return c
}

// N returns the number of samples in the confusion matrix.
func (c Confusion) N() int { return c.TP + c.FP + c.TN + c.FN }

// Accuracy returns the fraction of samples classified correctly,
// (TP+TN)/N. It returns 0 for an empty confusion matrix.
func (c Confusion) Accuracy() float64 { return ratio(c.TP+c.TN, c.N()) }

// Precision returns the fraction of positive predictions that are
// correct, TP/(TP+FP). It returns 0 when there is no positive prediction,
// the zero_division=0 convention of scikit-learn.
func (c Confusion) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }

// Recall returns the fraction of positive samples predicted positive,
// TP/(TP+FN), also called the true positive rate. It returns 0 when there
// is no positive sample.
func (c Confusion) Recall() float64 { return ratio(c.TP, c.TP+c.FN) }

// F1 returns the harmonic mean of precision and recall,
// 2TP/(2TP+FP+FN). It returns 0 when TP+FP+FN is zero.
func (c Confusion) F1() float64 { return ratio(2*c.TP, 2*c.TP+c.FP+c.FN) }

// ratio returns num/den, or 0 if den is zero.
func ratio(num, den int) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

// ROCPoint is a point of a receiver operating characteristic curve.
type ROCPoint struct {
	// FPR is the false positive rate, FP/(FP+TN).
	FPR float64 `json:"fpr"`
	// TPR is the true positive rate, TP/(TP+FN).
	TPR float64 `json:"tpr"`
	// Threshold is the smallest score predicted positive at this
	// point. It is +Inf for the first point, (0, 0).
	Threshold float64 `json:"threshold"`
}

// ROC returns the exact receiver operating characteristic curve of scores
// against labels: the point (0, 0) with threshold +Inf followed by one
// point per distinct score, in decreasing order of score, where the point
// with threshold t counts every score ≥ t as positive. Tied scores
// therefore form a single (diagonal) step. The curve is monotone in both
// rates and ends at (1, 1), whose threshold is the smallest score.
//
// ROC returns nil if labels do not contain both classes. It panics if
// scores and labels have different lengths, if a label is neither 0 nor 1
// or if a score is NaN.
func ROC(scores []float64, labels []int) []ROCPoint {
	if err := checkBinary(scores, labels); err != nil {
		panic(err)
	}
	steps, pos, neg := rocSteps(scores, labels)
	if pos == 0 || neg == 0 {
		return nil
	}
	roc := make([]ROCPoint, len(steps))
	for i, s := range steps {
		roc[i] = ROCPoint{
			FPR:       float64(s.fp) / float64(neg),
			TPR:       float64(s.tp) / float64(pos),
			Threshold: s.threshold,
		}
	}
	// Make the end point exact whatever the rounding of the divisions.
	roc[len(roc)-1].FPR = 1
	roc[len(roc)-1].TPR = 1
	return roc
}

// rocStep is a vertex of the ROC curve in counts rather than rates.
type rocStep struct {
	tp, fp    int
	threshold float64
}

// rocSteps returns the vertices of the ROC curve in counts, starting at
// (0, 0), and the numbers of positive and negative labels. The inputs
// must have been checked by checkBinary.
func rocSteps(scores []float64, labels []int) (steps []rocStep, pos, neg int) {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	steps = []rocStep{{threshold: math.Inf(1)}}
	var tp, fp int
	for i, k := range idx {
		if labels[k] == 1 {
			tp++
		} else {
			fp++
		}
		if i+1 < len(idx) && scores[idx[i+1]] == scores[k] {
			continue // Same score: one step for the whole tie.
		}
		steps = append(steps, rocStep{tp: tp, fp: fp, threshold: scores[k]})
	}
	return steps, tp, fp
}

// AUC returns the area under the ROC curve of scores against labels, by
// the trapezoid rule over the exact curve returned by ROC. It equals the
// Mann–Whitney U statistic divided by the number of positive–negative
// pairs, with tied pairs counted 1/2: the probability that a random
// positive sample scores higher than a random negative one.
//
// AUC returns NaN if labels do not contain both classes. It panics if
// scores and labels have different lengths, if a label is neither 0 nor 1
// or if a score is NaN. AUCErr reports these conditions as errors.
func AUC(scores []float64, labels []int) float64 {
	if err := checkBinary(scores, labels); err != nil {
		panic(err)
	}
	auc, err := auc(scores, labels)
	if err != nil {
		return math.NaN()
	}
	return auc
}

// AUCErr is like AUC but returns an error, wrapping ErrOneClass, if the
// labels do not contain both classes, and an error for inputs AUC panics
// on.
func AUCErr(scores []float64, labels []int) (float64, error) {
	if err := checkBinary(scores, labels); err != nil {
		return math.NaN(), err
	}
	return auc(scores, labels)
}

func auc(scores []float64, labels []int) (float64, error) {
	steps, pos, neg := rocSteps(scores, labels)
	if pos == 0 || neg == 0 {
		return math.NaN(), fmt.Errorf("%w (%d positive, %d negative)", ErrOneClass, pos, neg)
	}
	// Twice the area in units of counts, an exact integer: each step
	// adds a trapezoid of width Δfp and mean height (tp₀+tp₁)/2.
	var twice int64
	for i := 1; i < len(steps); i++ {
		twice += int64(steps[i].fp-steps[i-1].fp) * int64(steps[i].tp+steps[i-1].tp)
	}
	return float64(twice) / (2 * float64(pos) * float64(neg)), nil
}

// ROCArea returns the area under the curve roc by the trapezoid rule,
// for curves built elsewhere or subsampled for plotting. For a curve
// returned by ROC it equals AUC to rounding. ROCArea returns 0 for fewer
// than two points.
func ROCArea(roc []ROCPoint) float64 {
	var area float64
	for i := 1; i < len(roc); i++ {
		area += (roc[i].FPR - roc[i-1].FPR) * (roc[i].TPR + roc[i-1].TPR) / 2
	}
	return area
}

// checkBinary checks the inputs of the classification metrics.
func checkBinary(scores []float64, labels []int) error {
	if len(scores) != len(labels) {
		return fmt.Errorf("metrics: %d scores but %d labels", len(scores), len(labels))
	}
	for i, l := range labels {
		if l != 0 && l != 1 {
			return fmt.Errorf("metrics: label %d at index %d is neither 0 nor 1", l, i)
		}
	}
	for i, s := range scores {
		if math.IsNaN(s) {
			return fmt.Errorf("metrics: score at index %d is NaN", i)
		}
	}
	return nil
}

// MSE returns the mean squared error of pred against truth. It returns
// NaN for empty input and panics if the lengths differ.
func MSE(pred, truth []float64) float64 {
	if len(pred) != len(truth) {
		panic(lengthError(len(pred), len(truth)))
	}
	if len(pred) == 0 {
		return math.NaN()
	}
	var sum float64
	for i, p := range pred {
		d := p - truth[i]
		sum += d * d
	}
	return sum / float64(len(pred))
}

// R2 returns the coefficient of determination of pred against truth,
// 1 - Σ(pred-truth)²/Σ(truth-mean(truth))². It is 1 for a perfect
// prediction, 0 for predicting the mean of truth and negative for worse
// predictions. R2 returns NaN for empty input or when truth is constant,
// and panics if the lengths differ.
func R2(pred, truth []float64) float64 {
	if len(pred) != len(truth) {
		panic(lengthError(len(pred), len(truth)))
	}
	if len(pred) == 0 {
		return math.NaN()
	}
	var mean float64
	for _, t := range truth {
		mean += t
	}
	mean /= float64(len(truth))
	var res, tot float64
	for i, p := range pred {
		d := p - truth[i]
		res += d * d
		e := truth[i] - mean
		tot += e * e
	}
	if tot == 0 {
		return math.NaN()
	}
	return 1 - res/tot
}

func lengthError(p, t int) error {
	return fmt.Errorf("metrics: %d predictions but %d true values", p, t)
}

// GroupMean returns the mean of values in each group, for instance the
// mean of the 48 image predictions of each simulation. The keys are the
// distinct groups in increasing order and means[i] is the mean of the
// values whose group is keys[i]. GroupMean returns nil slices for empty
// input and panics if the lengths differ.
func GroupMean(values []float64, groups []string) (keys []string, means []float64) {
	if len(values) != len(groups) {
		panic(fmt.Sprintf("metrics: %d values but %d groups", len(values), len(groups)))
	}
	if len(values) == 0 {
		return nil, nil
	}
	type acc struct {
		sum float64
		n   int
	}
	m := make(map[string]*acc)
	for i, g := range groups {
		a, ok := m[g]
		if !ok {
			a = &acc{}
			m[g] = a
			keys = append(keys, g)
		}
		a.sum += values[i]
		a.n++
	}
	sort.Strings(keys)
	means = make([]float64, len(keys))
	for i, k := range keys {
		a := m[k]
		means[i] = a.sum / float64(a.n)
	}
	return keys, means
}

// Classification holds the figures of merit of a binary classifier.
type Classification struct {
	// Accuracy is Confusion.Accuracy().
	Accuracy float64 `json:"accuracy"`
	// AUC is the area under the ROC curve, independent of Threshold.
	AUC float64 `json:"auc"`
	// Precision is Confusion.Precision().
	Precision float64 `json:"precision"`
	// Recall is Confusion.Recall().
	Recall float64 `json:"recall"`
	// F1 is Confusion.F1().
	F1 float64 `json:"f1"`
	// Threshold is the score threshold of Confusion.
	Threshold float64 `json:"threshold"`
	// Confusion is the confusion matrix at Threshold.
	Confusion Confusion `json:"confusion"`
	// N is the number of samples.
	N int `json:"n"`
}

// Classify returns the figures of merit of scores against labels at
// DefaultThreshold. It is ClassifyAt(scores, labels, DefaultThreshold).
func Classify(scores []float64, labels []int) (Classification, error) {
	return ClassifyAt(scores, labels, DefaultThreshold)
}

// ClassifyAt returns the figures of merit of scores against labels, the
// threshold-dependent ones with a score ≥ threshold predicting the
// positive class. It returns an error, and no figures, if the input is
// empty, if the lengths differ, if a label is neither 0 nor 1, if a score
// is not finite or if the labels do not contain both classes (wrapping
// ErrOneClass). Every field of a successful result is finite, so the
// result can be encoded as JSON.
func ClassifyAt(scores []float64, labels []int, threshold float64) (Classification, error) {
	if len(scores) == 0 && len(labels) == 0 {
		return Classification{}, errors.New("metrics: no samples to classify")
	}
	if err := checkBinary(scores, labels); err != nil {
		return Classification{}, err
	}
	for i, s := range scores {
		if math.IsInf(s, 0) {
			return Classification{}, fmt.Errorf("metrics: score at index %d is infinite", i)
		}
	}
	if math.IsNaN(threshold) || math.IsInf(threshold, 0) {
		return Classification{}, fmt.Errorf("metrics: threshold %v is not finite", threshold)
	}
	a, err := auc(scores, labels)
	if err != nil {
		return Classification{}, err
	}
	c := confuse(scores, labels, threshold)
	return Classification{
		Accuracy:  c.Accuracy(),
		AUC:       a,
		Precision: c.Precision(),
		Recall:    c.Recall(),
		F1:        c.F1(),
		Threshold: threshold,
		Confusion: c,
		N:         c.N(),
	}, nil
}

// Regression holds the figures of merit of a regressor.
type Regression struct {
	// MSE is the mean squared error.
	MSE float64 `json:"mse"`
	// RMSE is the root mean squared error, √MSE.
	RMSE float64 `json:"rmse"`
	// R2 is the coefficient of determination.
	R2 float64 `json:"r2"`
	// Bias is the mean of pred-truth.
	Bias float64 `json:"bias"`
	// N is the number of samples.
	N int `json:"n"`
}

// Regress returns the figures of merit of pred against truth. It returns
// an error, and no figures, if the input is empty, if the lengths differ,
// if a value is not finite or if truth is constant, which leaves R²
// undefined. Every field of a successful result is finite, so the result
// can be encoded as JSON.
func Regress(pred, truth []float64) (Regression, error) {
	if len(pred) != len(truth) {
		return Regression{}, lengthError(len(pred), len(truth))
	}
	if len(pred) == 0 {
		return Regression{}, errors.New("metrics: no samples to regress")
	}
	for i := range pred {
		if !isFinite(pred[i]) {
			return Regression{}, fmt.Errorf("metrics: prediction at index %d is %v", i, pred[i])
		}
		if !isFinite(truth[i]) {
			return Regression{}, fmt.Errorf("metrics: true value at index %d is %v", i, truth[i])
		}
	}
	r2 := R2(pred, truth)
	if math.IsNaN(r2) {
		return Regression{}, fmt.Errorf("metrics: R² undefined: all %d true values are %v", len(truth), truth[0])
	}
	var bias float64
	for i, p := range pred {
		bias += p - truth[i]
	}
	bias /= float64(len(pred))
	mse := MSE(pred, truth)
	if !isFinite(mse) || !isFinite(r2) || !isFinite(bias) {
		return Regression{}, errors.New("metrics: errors overflow float64")
	}
	return Regression{
		MSE:  mse,
		RMSE: math.Sqrt(mse),
		R2:   r2,
		Bias: bias,
		N:    len(pred),
	}, nil
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
