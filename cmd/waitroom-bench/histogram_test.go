package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsTileTheRange(t *testing.T) {
	// Every bucket starts right after the previous one ends: no value is
	// lost between buckets and none is counted twice.
	var next uint64
	for i := 0; i < histBuckets; i++ {
		lo, hi := bucketRange(i)
		if lo != next {
			t.Fatalf("bucket %d starts at %d, want %d", i, lo, next)
		}
		if hi < lo {
			t.Fatalf("bucket %d: hi %d < lo %d", i, hi, lo)
		}
		next = hi + 1
	}
	if next-1 != histMaxValue {
		t.Fatalf("last bucket ends at %d, want %d", next-1, histMaxValue)
	}
}

func TestBucketOfIsInverseOfRange(t *testing.T) {
	values := []uint64{0, 1, 127, 128, 255, 256, 257, 511, 512, 1000, 1 << 20, 123456789, histMaxValue}
	for _, v := range values {
		i := bucketOf(v)
		lo, hi := bucketRange(i)
		if v < lo || v > hi {
			t.Errorf("value %d in bucket %d [%d,%d]", v, i, lo, hi)
		}
	}
}

func TestBucketRelativeWidth(t *testing.T) {
	for i := 2 * subBuckets; i < histBuckets; i++ {
		lo, hi := bucketRange(i)
		if width := float64(hi-lo+1) / float64(lo); width > 1.0/subBuckets {
			t.Fatalf("bucket %d [%d,%d] is %.4f of its value, want <= %.4f", i, lo, hi, width, 1.0/subBuckets)
		}
	}
}

func TestQuantilesOfKnownDistribution(t *testing.T) {
	var h Histogram
	for v := uint64(1); v <= 10000; v++ {
		h.RecordValue(v)
	}
	cases := []struct {
		q    float64
		want uint64
	}{{0.5, 5000}, {0.95, 9500}, {0.99, 9900}, {1, 10000}}
	for _, c := range cases {
		got := h.Quantile(c.q)
		if got < c.want || float64(got) > float64(c.want)*(1+1.0/subBuckets) {
			t.Errorf("q%.2f = %d, want %d within one bucket above", c.q, got, c.want)
		}
	}
	if h.Max() != 10000 || h.Count() != 10000 {
		t.Errorf("max/count = %d/%d", h.Max(), h.Count())
	}
	if h.Mean() != 5000.5 {
		t.Errorf("mean = %v, want 5000.5", h.Mean())
	}
}

func TestQuantileMatchesSortedSample(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	sample := make([]uint64, 50000)
	for i := range sample {
		// Log-normal-ish latencies from 50 µs to seconds.
		sample[i] = uint64(50 + rng.ExpFloat64()*2000*float64(1+rng.IntN(50)))
		h.RecordValue(sample[i])
	}
	slices.Sort(sample)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := sample[int(q*float64(len(sample)))-1]
		got := h.Quantile(q)
		if got < exact || float64(got) > float64(exact)*1.01+1 {
			t.Errorf("q%v = %d, exact %d", q, got, exact)
		}
	}
}

func TestEmptyHistogram(t *testing.T) {
	var h Histogram
	if h.Quantile(0.99) != 0 || h.Max() != 0 || h.Mean() != 0 {
		t.Fatal("empty histogram must report zeros")
	}
}

func TestRecordClampsAndConvertsDurations(t *testing.T) {
	var h Histogram
	h.Record(-time.Second)
	h.Record(1500 * time.Microsecond)
	h.Record(1000 * time.Hour)
	if h.Max() != histMaxValue || h.Count() != 3 {
		t.Fatalf("max %d count %d", h.Max(), h.Count())
	}
	if q := h.Quantile(0.5); q < 1500 || q > 1512 {
		t.Fatalf("median %d, want ~1500", q)
	}
}

func TestConcurrentRecording(t *testing.T) {
	var h Histogram
	done := make(chan struct{})
	for w := 0; w < 8; w++ {
		go func() {
			for i := uint64(0); i < 1000; i++ {
				h.RecordValue(i)
			}
			done <- struct{}{}
		}()
	}
	for w := 0; w < 8; w++ {
		<-done
	}
	if h.Count() != 8000 || h.Max() != 999 {
		t.Fatalf("count %d max %d", h.Count(), h.Max())
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h Histogram
	for i := 0; b.Loop(); i++ {
		h.RecordValue(uint64(i & 0xfffff))
	}
}
