package main

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram is a fixed-size log-linear latency histogram in the spirit of
// HdrHistogram: values below 2·subBuckets are counted exactly, larger values
// fall into one of subBuckets linear buckets per power of two, so every
// bucket is narrower than 1/subBuckets of its value (under 0.8 % with 128).
//
// Recording is lock-free (atomic adds), so every worker of a run records into
// the same histogram without a mutex and without allocating. Values are
// microseconds: the resolution a latency report needs, and it keeps the
// array small (maxValue ≈ 2^36 µs ≈ 19 h).
type Histogram struct {
	counts [histBuckets]atomic.Uint64
	total  atomic.Uint64
	sum    atomic.Uint64
	max    atomic.Uint64
}

const (
	subBucketBits = 7
	subBuckets    = 1 << subBucketBits // linear buckets per power of two
	maxValueBits  = 36
	histBuckets   = (maxValueBits-subBucketBits)*subBuckets + subBuckets
	histMaxValue  = uint64(1)<<maxValueBits - 1
)

// bucketOf returns the bucket index of v (v <= histMaxValue).
func bucketOf(v uint64) int {
	if v < 2*subBuckets {
		return int(v)
	}
	shift := bits.Len64(v) - (subBucketBits + 1)
	return shift*subBuckets + int(v>>uint(shift))
}

// bucketRange returns the smallest and largest value that fall into bucket i.
func bucketRange(i int) (lo, hi uint64) {
	if i < 2*subBuckets {
		return uint64(i), uint64(i)
	}
	shift := i/subBuckets - 1
	mantissa := uint64(i - shift*subBuckets)
	lo = mantissa << uint(shift)
	return lo, lo + (uint64(1) << uint(shift)) - 1
}

// Record adds one latency, clamped to the histogram's range.
func (h *Histogram) Record(d time.Duration) {
	h.RecordValue(durationToMicros(d))
}

func durationToMicros(d time.Duration) uint64 {
	if d < 0 {
		return 0
	}
	return min(uint64(d/time.Microsecond), histMaxValue)
}

// RecordValue adds one value in microseconds.
func (h *Histogram) RecordValue(v uint64) {
	v = min(v, histMaxValue)
	h.counts[bucketOf(v)].Add(1)
	h.total.Add(1)
	h.sum.Add(v)
	raiseTo(&h.max, v)
}

func raiseTo(a *atomic.Uint64, v uint64) {
	for cur := a.Load(); v > cur; cur = a.Load() {
		if a.CompareAndSwap(cur, v) {
			return
		}
	}
}

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total.Load() }

// Max is the largest recorded value in microseconds (exact).
func (h *Histogram) Max() uint64 { return h.max.Load() }

// Mean is the exact mean in microseconds.
func (h *Histogram) Mean() float64 {
	n := h.Count()
	if n == 0 {
		return 0
	}
	return float64(h.sum.Load()) / float64(n)
}

// Quantile returns the value at quantile q (0 < q <= 1) in microseconds: the
// upper edge of the bucket holding the ⌈q·n⌉-th smallest value, never above
// the recorded maximum. Reporting the upper edge errs on the slow side.
func (h *Histogram) Quantile(q float64) uint64 {
	n := h.Count()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	rank = max(rank, 1)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			_, hi := bucketRange(i)
			return min(hi, h.Max())
		}
	}
	return h.Max()
}
