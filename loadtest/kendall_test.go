package loadtest

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bruteTauB computes tau-b from its definition in O(n²).
func bruteTauB(pairs []Pair) (float64, bool) {
	var concordant, discordant, tiedXOnly, tiedYOnly float64
	for i := range pairs {
		for j := i + 1; j < len(pairs); j++ {
			dx := cmpInt(pairs[i].X, pairs[j].X)
			dy := cmpInt(pairs[i].Y, pairs[j].Y)
			switch {
			case dx == 0 && dy == 0:
			case dx == 0:
				tiedXOnly++
			case dy == 0:
				tiedYOnly++
			case dx == dy:
				concordant++
			default:
				discordant++
			}
		}
	}
	d := math.Sqrt((concordant + discordant + tiedXOnly) * (concordant + discordant + tiedYOnly))
	if d == 0 {
		return 0, false
	}
	return (concordant - discordant) / d, true
}

func TestKendallTauB(t *testing.T) {
	cases := []struct {
		name  string
		pairs []Pair
		want  float64
		ok    bool
	}{
		{name: "same order", pairs: []Pair{{1, 1}, {2, 2}, {3, 3}, {4, 4}}, want: 1, ok: true},
		{name: "reversed", pairs: []Pair{{1, 4}, {2, 3}, {3, 2}, {4, 1}}, want: -1, ok: true},
		{name: "one swap of four", pairs: []Pair{{1, 1}, {2, 3}, {3, 2}, {4, 4}}, want: 4.0 / 6, ok: true},
		{name: "ties in x", pairs: []Pair{{1, 1}, {1, 2}, {2, 3}, {3, 4}}, want: 5 / math.Sqrt(5*6), ok: true},
		{name: "one pair", pairs: []Pair{{1, 1}}, ok: false},
		{name: "all x tied", pairs: []Pair{{1, 1}, {1, 2}, {1, 3}}, ok: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := KendallTauB(append([]Pair(nil), tc.pairs...))
			if ok != tc.ok {
				t.Fatalf("ok: got %v, want %v", ok, tc.ok)
			}
			if ok && math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("tau-b: got %.15f, want %.15f", got, tc.want)
			}
		})
	}
}

func TestKendallTauBMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		n := 2 + rng.IntN(60)
		pairs := make([]Pair, n)
		for i := range pairs {
			// Small ranges make many ties in both rankings.
			pairs[i] = Pair{X: rng.Int64N(int64(1 + round%12)), Y: rng.Int64N(20)}
		}
		want, wantOK := bruteTauB(pairs)
		got, gotOK := KendallTauB(append([]Pair(nil), pairs...))
		if gotOK != wantOK || (gotOK && math.Abs(got-want) > 1e-9) {
			t.Fatalf("round %d, %v: got %v %v, want %v %v", round, pairs, got, gotOK, want, wantOK)
		}
	}
}

func TestMergeCountInversions(t *testing.T) {
	a := []int64{5, 1, 4, 2, 3, 3}
	// Inversions: 5>1,4,2,3,3 (5); 4>2,3,3 (3); total 8.
	if got := mergeCount(a, make([]int64, len(a))); got != 8 {
		t.Errorf("inversions: got %d, want 8", got)
	}
	for i := 1; i < len(a); i++ {
		if a[i-1] > a[i] {
			t.Fatalf("after mergeCount: got %v, want sorted", a)
		}
	}
}

func BenchmarkKendallTauB(b *testing.B) {
	b.ReportAllocs()
	rng := rand.New(rand.NewPCG(3, 4))
	base := make([]Pair, 100_000)
	for i := range base {
		base[i] = Pair{X: int64(i) / 3, Y: int64(i) + rng.Int64N(50)}
	}
	pairs := make([]Pair, len(base))
	for b.Loop() {
		copy(pairs, base)
		KendallTauB(pairs)
	}
}
