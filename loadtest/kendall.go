package loadtest

import (
	"math"
	"slices"
)

// Pair is one observation of two rankings, such as a visitor's join time
// bin and admission position. Equal values are ties.
type Pair struct {
	X, Y int64
}

// KendallTauB returns Kendall's tau-b rank correlation of the pairs, from
// -1 (reversed) through 0 to 1 (same order), with ties counted as in
// tau-b. ok is false when it is undefined: fewer than two pairs, or every X
// or every Y equal. It sorts pairs in place.
//
// It runs in O(n log n) by Knight's method: sort by X then Y, count the
// tied pairs, then count the discordant pairs as the swaps of a merge sort
// by Y.
func KendallTauB(pairs []Pair) (tau float64, ok bool) {
	n := int64(len(pairs))
	if n < 2 {
		return 0, false
	}
	slices.SortFunc(pairs, func(a, b Pair) int {
		if a.X != b.X {
			return cmpInt(a.X, b.X)
		}
		return cmpInt(a.Y, b.Y)
	})

	all := n * (n - 1) / 2
	tiedX := tiedPairs(pairs, func(a, b Pair) bool { return a.X == b.X })
	tiedXY := tiedPairs(pairs, func(a, b Pair) bool { return a == b })

	ys := make([]int64, n)
	for i, p := range pairs {
		ys[i] = p.Y
	}
	swaps := mergeCount(ys, make([]int64, n))
	tiedY := int64(0)
	for i := int64(0); i < n; {
		j := i + 1
		for j < n && ys[j] == ys[i] {
			j++
		}
		tiedY += (j - i) * (j - i - 1) / 2
		i = j
	}

	denominator := math.Sqrt(float64(all-tiedX) * float64(all-tiedY))
	if denominator == 0 {
		return 0, false
	}
	return float64(all-tiedX-tiedY+tiedXY-2*swaps) / denominator, true
}

// tiedPairs counts the pairs within runs of sorted pairs that same reports
// as equal.
func tiedPairs(sorted []Pair, same func(a, b Pair) bool) int64 {
	var total int64
	for i := 0; i < len(sorted); {
		j := i + 1
		for j < len(sorted) && same(sorted[j], sorted[i]) {
			j++
		}
		run := int64(j - i)
		total += run * (run - 1) / 2
		i = j
	}
	return total
}

// mergeCount sorts a with a bottom-up merge sort and returns the number of
// inversions, the pairs i < j with a[i] > a[j]. buf must be as long as a.
func mergeCount(a, buf []int64) int64 {
	var swaps int64
	n := len(a)
	for width := 1; width < n; width *= 2 {
		for lo := 0; lo < n-width; lo += 2 * width {
			mid, hi := lo+width, min(lo+2*width, n)
			i, j, k := lo, mid, lo
			for i < mid && j < hi {
				if a[j] < a[i] {
					// a[j] jumps over every element left in the first run.
					swaps += int64(mid - i)
					buf[k] = a[j]
					j++
				} else {
					buf[k] = a[i]
					i++
				}
				k++
			}
			k += copy(buf[k:], a[i:mid])
			copy(buf[k:], a[j:hi])
			copy(a[lo:hi], buf[lo:hi])
		}
	}
	return swaps
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
