package loadtest

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// nearestRank is the textbook percentile the histogram approximates.
func nearestRank(sorted []time.Duration, p float64) time.Duration {
	rank := max(int(math.Ceil(p/100*float64(len(sorted)))), 1)
	return sorted[rank-1]
}

func TestPercentileExactBelow256ns(t *testing.T) {
	var h histogram
	for v := 100; v >= 1; v-- { // order must not matter
		h.record(time.Duration(v))
	}
	tests := []struct {
		give float64
		want time.Duration
	}{
		{give: 1, want: 1},
		{give: 50, want: 50},
		{give: 90, want: 90},
		{give: 95, want: 95},
		{give: 99, want: 99},
		{give: 99.5, want: 100},
		{give: 100, want: 100},
	}
	for _, tt := range tests {
		if got := h.percentile(tt.give); got != tt.want {
			t.Errorf("p%v = %v, want %v", tt.give, got, tt.want)
		}
	}
	if got, want := h.mean(), time.Duration(50); got != want { // 50.5 ns, truncated
		t.Errorf("mean = %v, want %v", got, want)
	}
	if got, want := h.n, uint64(100); got != want {
		t.Errorf("n = %d, want %d", got, want)
	}
}

func TestPercentileFixedSamples(t *testing.T) {
	tests := []struct {
		name string
		give []time.Duration
	}{
		{name: "1..1000 µs", give: steps(1000, time.Microsecond)},
		{name: "990 fast, 10 slow", give: append(repeat(990, time.Millisecond), repeat(10, 100*time.Millisecond)...)},
		{name: "one sample", give: []time.Duration{2300 * time.Microsecond}},
		{name: "page-like", give: []time.Duration{
			2100 * time.Microsecond, 2300 * time.Microsecond, 2250 * time.Microsecond, 2400 * time.Microsecond,
			3100 * time.Microsecond, 18500 * time.Microsecond, 2200 * time.Microsecond, 2350 * time.Microsecond,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h histogram
			for _, d := range tt.give {
				h.record(d)
			}
			sorted := slices.Sorted(slices.Values(tt.give))
			for _, p := range []float64{1, 50, 90, 95, 99, 100} {
				got, want := h.percentile(p), nearestRank(sorted, p)
				if diff := math.Abs(float64(got-want)) / float64(want); diff > 1.0/256 {
					t.Errorf("p%v = %v, want %v (±0.4%%)", p, got, want)
				}
			}
			if got, want := h.max, sorted[len(sorted)-1]; got != want {
				t.Errorf("max = %v, want %v exactly", got, want)
			}
			if got, want := h.min, sorted[0]; got != want {
				t.Errorf("min = %v, want %v exactly", got, want)
			}
		})
	}
}

func TestPercentileSkewed(t *testing.T) {
	var h histogram
	for _, d := range append(repeat(990, time.Millisecond), repeat(10, 100*time.Millisecond)...) {
		h.record(d)
	}
	// Rank 990 of 1000 is the last fast sample; rank 991 the first slow one.
	for _, tt := range []struct {
		give float64
		want time.Duration
	}{{give: 99, want: time.Millisecond}, {give: 99.1, want: 100 * time.Millisecond}} {
		got := h.percentile(tt.give)
		if diff := math.Abs(float64(got-tt.want)) / float64(tt.want); diff > 1.0/256 {
			t.Errorf("p%v = %v, want %v (±0.4%%)", tt.give, got, tt.want)
		}
	}
}

func TestEmptyHistogram(t *testing.T) {
	var h histogram
	if got := h.percentile(50); got != 0 {
		t.Errorf("p50 of nothing = %v, want 0", got)
	}
	if got := h.mean(); got != 0 {
		t.Errorf("mean of nothing = %v, want 0", got)
	}
}

func TestBucketsCoverValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	values := []int64{0, 1, 127, 128, 255, 256, 257, 1 << 20, 1<<40 + 12345, math.MaxInt64}
	for range 10000 {
		values = append(values, rng.Int64N(int64(time.Minute)))
	}
	for _, v := range values {
		i := bucketOf(v)
		low, width := bucketRange(i)
		if v < low || v-low >= width {
			t.Fatalf("value %d in bucket %d = [%d, %d+%d)", v, i, low, low, width)
		}
		if width > 1 && float64(width)/float64(low) > 1.0/subCount {
			t.Fatalf("bucket %d = [%d, +%d) is wider than 1/%d", i, low, width, subCount)
		}
	}
}

func TestMergeEqualsRecordingAll(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var a, b, all histogram
	for i := range 5000 {
		d := time.Duration(rng.Int64N(int64(50 * time.Millisecond)))
		all.record(d)
		if i%3 == 0 {
			a.record(d)
		} else {
			b.record(d)
		}
	}
	var merged histogram
	merged.merge(&a)
	merged.merge(&b)
	for _, p := range []float64{50, 95, 99, 100} {
		if got, want := merged.percentile(p), all.percentile(p); got != want {
			t.Errorf("merged p%v = %v, want %v", p, got, want)
		}
	}
	if merged.n != all.n || merged.sum != all.sum || merged.min != all.min || merged.max != all.max {
		t.Errorf("merged n/sum/min/max = %d/%v/%v/%v, want %d/%v/%v/%v",
			merged.n, merged.sum, merged.min, merged.max, all.n, all.sum, all.min, all.max)
	}
}

func TestInterleave(t *testing.T) {
	tests := []struct {
		name string
		give []int
		want []int
	}{
		{name: "one", give: []int{1}, want: []int{0}},
		{name: "3:1", give: []int{3, 1}, want: []int{0, 0, 1, 0}},
		{name: "1:1:2", give: []int{1, 1, 2}, want: []int{2, 0, 1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mix Mix
			for _, w := range tt.give {
				mix = append(mix, WeightedTarget{Weight: w})
			}
			if got := interleave(mix); !slices.Equal(got, tt.want) {
				t.Errorf("interleave(%v) = %v, want %v", tt.give, got, tt.want)
			}
		})
	}
}

func steps(n int, unit time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * unit
	}
	return out
}

func repeat(n int, d time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}
