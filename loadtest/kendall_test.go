package loadtest

import (
	"math"
	"math/rand/v2"
	"slices"
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

// bruteClearOrderTau computes ClearOrderTau from its definition in O(n²).
func bruteClearOrderTau(spans []Span) (float64, int64, bool) {
	var concordant, discordant int64
	for _, a := range spans {
		for _, b := range spans {
			if a.Received >= b.Sent || a.Y == b.Y {
				continue // not in clear order, or tied
			}
			if a.Y < b.Y {
				concordant++
			} else {
				discordant++
			}
		}
	}
	if concordant+discordant == 0 {
		return 0, 0, false
	}
	return float64(concordant-discordant) / float64(concordant+discordant), concordant + discordant, true
}

func TestClearOrderTau(t *testing.T) {
	cases := []struct {
		name    string
		spans   []Span
		want    float64
		counted int64
		ok      bool
	}{
		{name: "in order", spans: []Span{{0, 5, 0}, {10, 15, 1}, {20, 25, 2}}, want: 1, counted: 3, ok: true},
		{name: "reversed", spans: []Span{{0, 5, 2}, {10, 15, 1}, {20, 25, 0}}, want: -1, counted: 3, ok: true},
		{name: "overlapping pair swapped is not counted", spans: []Span{{0, 10, 1}, {5, 15, 0}, {20, 25, 2}}, want: 1, counted: 2, ok: true},
		{name: "answer at the moment of the next send overlaps", spans: []Span{{0, 10, 1}, {10, 20, 0}}, ok: false},
		{name: "all overlap", spans: []Span{{0, 100, 0}, {1, 90, 1}, {2, 80, 2}}, ok: false},
		{name: "none", ok: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, counted, ok := ClearOrderTau(tc.spans)
			if ok != tc.ok || counted != tc.counted {
				t.Fatalf("got ok %v over %d pairs, want ok %v over %d", ok, counted, tc.ok, tc.counted)
			}
			if ok && got != tc.want {
				t.Errorf("tau: got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestClearOrderTauMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 300 {
		n := rng.IntN(50)
		spans := make([]Span, n)
		for i := range spans {
			sent := rng.Int64N(100)
			// Latencies up to the whole range make many overlaps; a small
			// Y range makes ties.
			spans[i] = Span{Sent: sent, Received: sent + rng.Int64N(1+int64(round%40)), Y: rng.Int64N(30)}
		}
		want, wantCounted, wantOK := bruteClearOrderTau(spans)
		got, gotCounted, gotOK := ClearOrderTau(spans)
		if gotOK != wantOK || gotCounted != wantCounted || math.Abs(got-want) > 1e-12 {
			t.Fatalf("round %d, %v: got %v over %d (%v), want %v over %d (%v)", round, spans, got, gotCounted, gotOK, want, wantCounted, wantOK)
		}
	}
}

// TestClearOrderTauIgnoresSlowNetwork shows why the check counts only
// pairs in clear order: a fair server that numbers joins as they arrive
// scores 1 however much the network delays and reorders requests.
func TestClearOrderTauIgnoresSlowNetwork(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	type join struct {
		span    Span
		arrived int64
	}

	// Joins are sent 5 units apart, and each way takes up to 300 units.
	joins := make([]join, 2000)
	for i := range joins {
		sent := int64(i) * 5
		toServer, toClient := rng.Int64N(300), rng.Int64N(300)
		joins[i] = join{span: Span{Sent: sent, Received: sent + toServer + toClient}, arrived: sent + toServer}
	}

	// The server admits in arrival order.
	order := make([]int, len(joins))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmpInt(joins[a].arrived, joins[b].arrived) })
	spans := make([]Span, len(joins))
	pairs := make([]Pair, len(joins))
	for position, i := range order {
		spans[i] = joins[i].span
		spans[i].Y = int64(position)
		pairs[i] = Pair{X: joins[i].span.Sent / 5, Y: int64(position)}
	}

	tau, counted, ok := ClearOrderTau(spans)
	if !ok {
		t.Fatalf("clear-order tau of a fair server: got undefined over %d pairs, want 1", counted)
	}
	if tau != 1 {
		t.Errorf("clear-order tau of a fair server: got %v over %d pairs, want 1", tau, counted)
	}
	if tauB, _ := KendallTauB(pairs); tauB >= 0.99 {
		t.Errorf("tau-b with 5-unit bins: got %.4f, want below 0.99 to show the reordering this test models", tauB)
	}
}
