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

// Span is one visitor's join seen from the client: when the request was
// sent, when its response came back, and the visitor's admission position Y.
type Span struct {
	Sent, Received int64
	Y              int64
}

// ClearOrderTau is Kendall's tau over the pairs of spans in clear time
// order: pairs where one response came back before the other request was
// sent. A server that numbers joins in arrival order and admits by number
// puts every such pair in order, however slow or reordered the network,
// so it scores exactly 1. Pairs whose requests overlapped are left out, as
// are pairs with equal Y. It returns (concordant - discordant) /
// (concordant + discordant) and the number of pairs counted; ok is false
// when no pair is in clear order. It runs in O(n log n) with a Fenwick
// tree over the ranks of Y.
func ClearOrderTau(spans []Span) (tau float64, counted int64, ok bool) {
	n := len(spans)
	ys := make([]int64, n)
	for i, s := range spans {
		ys[i] = s.Y
	}
	slices.Sort(ys)
	ys = slices.Compact(ys)
	rank := func(y int64) int {
		r, _ := slices.BinarySearch(ys, y)
		return r + 1 // Fenwick indices start at 1
	}

	bySent := slices.Clone(spans)
	slices.SortFunc(bySent, func(a, b Span) int { return cmpInt(a.Sent, b.Sent) })
	byReceived := slices.Clone(spans)
	slices.SortFunc(byReceived, func(a, b Span) int { return cmpInt(a.Received, b.Received) })

	tree := make([]int64, len(ys)+1)
	add := func(i int) {
		for ; i < len(tree); i += i & -i {
			tree[i]++
		}
	}
	below := func(i int) int64 { // inserted spans with rank <= i
		var sum int64
		for ; i > 0; i -= i & -i {
			sum += tree[i]
		}
		return sum
	}

	var concordant, discordant, inserted int64
	next := 0
	for _, s := range bySent {
		// Every span whose response came back before s was sent is clearly
		// earlier.
		for next < n && byReceived[next].Received < s.Sent {
			add(rank(byReceived[next].Y))
			next++
			inserted++
		}
		r := rank(s.Y)
		concordant += below(r - 1)
		discordant += inserted - below(r)
	}
	counted = concordant + discordant
	if counted == 0 {
		return 0, 0, false
	}
	return float64(concordant-discordant) / float64(counted), counted, true
}
