package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ScrapeMetrics reads the unlabelled series called names from a
// Prometheus text exposition at rawURL (the app's /metrics). A name the
// page lacks is missing from the map. Loopback only, like the load.
func ScrapeMetrics(ctx context.Context, rawURL string, names ...string) (map[string]float64, error) {
	if err := CheckLoopback(rawURL); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := newClient(1, false).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", rawURL, resp.Status)
	}
	return parseMetrics(resp.Body, names)
}

// parseMetrics reads "name value" lines of the text format.
func parseMetrics(r io.Reader, names []string) (map[string]float64, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name, rest, ok := strings.Cut(line, " ")
		if !ok || !want[name] {
			continue
		}
		value, _, _ := strings.Cut(strings.TrimSpace(rest), " ") // a timestamp may follow
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return out, fmt.Errorf("metrics line %q: %w", line, err)
		}
		out[name] = v
	}
	return out, sc.Err()
}

// Trend compares the start and the end of a series sampled at a steady
// rate: First is the mean of its first third, Last of its last third, and
// Growth is (Last - First) / First. With fewer than 3 values it is zero.
type Trend struct {
	First, Last, Min, Max, Growth float64
}

// TrendOf is the trend of values.
func TrendOf(values []float64) Trend {
	if len(values) < 3 {
		return Trend{}
	}
	third := len(values) / 3
	mean := func(vs []float64) float64 {
		s := 0.0
		for _, v := range vs {
			s += v
		}
		return s / float64(len(vs))
	}
	t := Trend{First: mean(values[:third]), Last: mean(values[len(values)-third:]), Min: values[0], Max: values[0]}
	for _, v := range values {
		t.Min, t.Max = min(t.Min, v), max(t.Max, v)
	}
	if t.First != 0 {
		t.Growth = (t.Last - t.First) / t.First
	}
	return t
}

// Flat says whether the series grew by at most tolerance (a fraction)
// from its first third to its last, or by at most slack in absolute terms
// (for small counts, where one goroutine is a big fraction).
func (t Trend) Flat(tolerance, slack float64) bool {
	return t.Last-t.First <= slack || t.Growth <= tolerance
}
