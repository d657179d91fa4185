package sqlstore

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ticket-watchdog/watchdog"
)

// Binned's two passes pick the same percentiles as sorting every value:
// random groups whose values crowd a few bins (many equal to the
// percentile) and spread over many.
func TestBinnedPicksExactPercentiles(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		n := 1 + r.IntN(400)
		spread := int64(1 + r.IntN(5000))
		values := make([]int64, n)
		for i := range values {
			values[i] = r.Int64N(spread)
		}
		b := NewBinned(nil)
		perBin := map[int64]int{}
		for _, v := range values {
			perBin[v/BinSeconds]++
		}
		for bin, c := range perBin {
			b.AddCounts("", "gold", "", "", "", 0, bin, c, c, 0, 0, 0)
		}
		needed := b.NeededBins()
		for _, v := range values {
			if slices.Contains(needed, v/BinSeconds) {
				b.AddValue("", "gold", "", "", "", 0, v)
			}
		}
		rows := b.Rows()
		sorted := slices.Clone(values)
		slices.Sort(sorted)
		p50, p90 := watchdog.NearestRank(sorted, 0.5), watchdog.NearestRank(sorted, 0.9)
		if len(rows) != 1 || *rows[0].P50Seconds != p50 || *rows[0].P90Seconds != p90 || rows[0].Stopped != n {
			t.Fatalf("trial %d (n %d, spread %d): got %+v, want p50 %d p90 %d", trial, n, spread, rows, p50, p90)
		}
	}
}
