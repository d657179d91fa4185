package bench

import (
	"math"
	"slices"
	"time"
)

// Latency summarises a sample of durations, in milliseconds so that JSON
// readers need not know Go's duration encoding.
type Latency struct {
	N      int     `json:"n"`
	MeanMs float64 `json:"mean_ms"`
	P50Ms  float64 `json:"p50_ms"`
	P99Ms  float64 `json:"p99_ms"`
	MaxMs  float64 `json:"max_ms"`
	MinMs  float64 `json:"min_ms"`
}

// Summarize computes a Latency from samples; it sorts samples in place.
// Percentiles use the nearest-rank method, so p99 of 100 samples is the
// 99th smallest.
func Summarize(samples []time.Duration) Latency {
	if len(samples) == 0 {
		return Latency{}
	}
	slices.Sort(samples)
	var sum time.Duration
	for _, d := range samples {
		sum += d
	}
	return Latency{
		N:      len(samples),
		MeanMs: ms(sum / time.Duration(len(samples))),
		P50Ms:  ms(percentile(samples, 0.50)),
		P99Ms:  ms(percentile(samples, 0.99)),
		MaxMs:  ms(samples[len(samples)-1]),
		MinMs:  ms(samples[0]),
	}
}

// percentile returns the nearest-rank q-quantile of sorted samples.
func percentile(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
func round2(f float64) float64 { return math.Round(f*100) / 100 }
