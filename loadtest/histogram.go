package loadtest

import (
	"math"
	"math/bits"
	"time"
)

// histogram records latencies in log-linear buckets, HDR style: values below
// 256 ns are exact, larger ones fall in buckets 1/128 of their power of two
// wide, so a percentile is within 0.4% of the exact one (nearest rank) while
// memory stays a few kilobytes however long the run. Min, max, count and sum
// are exact. The zero value is empty and ready; it is not safe for
// concurrent use.
type histogram struct {
	counts   []uint64 // by bucket index; grown on demand
	n        uint64
	sum      time.Duration
	min, max time.Duration
}

const (
	subBits  = 7
	subCount = 1 << subBits // buckets per power of two
)

// bucketOf is the index of the bucket holding v (v ≥ 0).
func bucketOf(v int64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - subBits - 1
	return shift*subCount + int(v>>shift)
}

// bucketRange is the smallest value in bucket i and the bucket's width.
func bucketRange(i int) (low, width int64) {
	if i < subCount {
		return int64(i), 1
	}
	shift := i/subCount - 1
	return int64(subCount+i%subCount) << shift, 1 << shift
}

func (h *histogram) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	i := bucketOf(int64(d))
	if i >= len(h.counts) {
		grown := make([]uint64, i+1, max(i+1, 2*len(h.counts)))
		copy(grown, h.counts)
		h.counts = grown
	}
	h.counts[i]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += d
}

// merge adds o's samples to h.
func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	if len(o.counts) > len(h.counts) {
		grown := make([]uint64, len(o.counts))
		copy(grown, h.counts)
		h.counts = grown
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// percentile is the nearest-rank p-th percentile (0 < p ≤ 100): the smallest
// recorded value with at least p% of the samples at or below it, reported as
// the middle of its bucket and clamped to [min, max]. It is 0 for an empty
// histogram; p ≥ 100 gives the exact max.
func (h *histogram) percentile(p float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	if p >= 100 {
		return h.max
	}
	rank := uint64(math.Ceil(p / 100 * float64(h.n)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			low, width := bucketRange(i)
			v := time.Duration(low + (width-1)/2)
			return min(max(v, h.min), h.max)
		}
	}
	return h.max
}

// mean is the exact average; 0 for an empty histogram.
func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}
