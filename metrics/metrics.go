// Package metrics is a small Prometheus-compatible metrics registry: counters,
// gauges and histograms with labels, and the text exposition format 0.0.4.
// It exists so the dashboard needs no client library for the handful of
// series it exports. A Registry is an ordinary value built in main; there
// are no package-level registries.
package metrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ContentType is the media type of the text exposition format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// DefBuckets returns latency buckets in seconds, for a web app answering in
// milliseconds with the occasional slow cloud call.
func DefBuckets() []float64 {
	return []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
}

// Registry holds metric families and writes them out.
type Registry struct {
	mu       sync.Mutex
	families map[string]family
}

// family is one metric name with its HELP, TYPE and series.
type family interface {
	write(w *bufio.Writer, name string)
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{families: map[string]family{}} }

func (r *Registry) register(name string, f family) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.families[name]; dup {
		// Two registrations of one name are a programming error, caught by
		// the first test that builds the registry.
		panic("metrics: duplicate metric " + name)
	}
	r.families[name] = f
}

// Counter registers a counter with the given label names.
func (r *Registry) Counter(name, help string, labels ...string) *CounterVec {
	v := &CounterVec{}
	v.vec.init(name, help, "counter", labels)
	r.register(name, v)
	return v
}

// Gauge registers a gauge with the given label names.
func (r *Registry) Gauge(name, help string, labels ...string) *GaugeVec {
	v := &GaugeVec{}
	v.vec.init(name, help, "gauge", labels)
	r.register(name, v)
	return v
}

// GaugeFunc registers an unlabelled gauge whose value is read at scrape time.
func (r *Registry) GaugeFunc(name, help string, fn func() float64) {
	r.register(name, &gaugeFunc{help: help, fn: fn})
}

// Histogram registers a histogram with the given upper bounds (sorted
// ascending; +Inf is implied) and label names.
func (r *Registry) Histogram(name, help string, buckets []float64, labels ...string) *HistogramVec {
	b := slices.Clone(buckets)
	slices.Sort(b)
	v := &HistogramVec{buckets: b}
	v.vec.init(name, help, "histogram", labels)
	r.register(name, v)
	return v
}

// WriteText writes every family in the text exposition format, sorted by
// name so the output is stable.
func (r *Registry) WriteText(w io.Writer) error {
	r.mu.Lock()
	names := make([]string, 0, len(r.families))
	for n := range r.families {
		names = append(names, n)
	}
	fams := make([]family, len(names))
	slices.Sort(names)
	for i, n := range names {
		fams[i] = r.families[n]
	}
	r.mu.Unlock()

	bw := bufio.NewWriter(w)
	for i, f := range fams {
		f.write(bw, names[i])
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	return nil
}

// ServeHTTP answers a scrape.
func (r *Registry) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", ContentType)
	_ = r.WriteText(w) // a failed write is the scraper hanging up; nothing to tell it
}

// vec is the shared part of a labelled family: series keyed by label values.
type vec[S any] struct {
	help, typ string
	labels    []string
	mu        sync.Mutex
	series    map[string]*S
	values    map[string][]string
}

func (v *vec[S]) init(name, help, typ string, labels []string) {
	for _, l := range labels {
		if l == "" || l == "le" || strings.HasPrefix(l, "__") {
			panic(fmt.Sprintf("metrics: %s: bad label name %q", name, l))
		}
	}
	v.help, v.typ, v.labels = help, typ, slices.Clone(labels)
	v.series, v.values = map[string]*S{}, map[string][]string{}
}

// get returns the series for values, creating it on first use.
func (v *vec[S]) get(values []string) *S {
	if len(values) != len(v.labels) {
		panic(fmt.Sprintf("metrics: got %d label values, want %d (%v)", len(values), len(v.labels), v.labels))
	}
	key := strings.Join(values, "\xff")
	v.mu.Lock()
	defer v.mu.Unlock()
	s, ok := v.series[key]
	if !ok {
		s = new(S)
		v.series[key] = s
		v.values[key] = slices.Clone(values)
	}
	return s
}

// each calls fn for every series in a stable order, holding the lock.
func (v *vec[S]) each(fn func(labels string, s *S)) {
	v.mu.Lock()
	defer v.mu.Unlock()
	keys := make([]string, 0, len(v.series))
	for k := range v.series {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fn(labelPairs(v.labels, v.values[k]), v.series[k])
	}
}

func (v *vec[S]) header(w *bufio.Writer, name string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, escapeHelp(v.help), name, v.typ)
}

// value is a float64 updated atomically enough for metrics: under its vec's
// lock for creation, and under its own for updates.
type value struct {
	mu sync.Mutex
	v  float64
}

func (x *value) add(d float64) {
	x.mu.Lock()
	x.v += d
	x.mu.Unlock()
}

func (x *value) set(v float64) {
	x.mu.Lock()
	x.v = v
	x.mu.Unlock()
}

func (x *value) get() float64 {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.v
}

// CounterVec is a counter family.
type CounterVec struct{ vec vec[value] }

// Counter is one counter series.
type Counter struct{ v *value }

// With returns the series for the label values, in the registered order.
func (c *CounterVec) With(values ...string) Counter { return Counter{c.vec.get(values)} }

// Inc adds one.
func (c Counter) Inc() { c.v.add(1) }

// Add adds d, which must not be negative: a counter only goes up.
func (c Counter) Add(d float64) {
	if d < 0 {
		panic("metrics: counter decreased")
	}
	c.v.add(d)
}

// Value is the current count.
func (c Counter) Value() float64 { return c.v.get() }

func (c *CounterVec) write(w *bufio.Writer, name string) {
	c.vec.header(w, name)
	c.vec.each(func(l string, s *value) { writeSample(w, name, l, s.get()) })
}

// GaugeVec is a gauge family.
type GaugeVec struct{ vec vec[value] }

// Gauge is one gauge series.
type Gauge struct{ v *value }

// With returns the series for the label values, in the registered order.
func (g *GaugeVec) With(values ...string) Gauge { return Gauge{g.vec.get(values)} }

// Set sets the gauge.
func (g Gauge) Set(v float64) { g.v.set(v) }

// Add adds d (negative to subtract).
func (g Gauge) Add(d float64) { g.v.add(d) }

// Value is the current value.
func (g Gauge) Value() float64 { return g.v.get() }

func (g *GaugeVec) write(w *bufio.Writer, name string) {
	g.vec.header(w, name)
	g.vec.each(func(l string, s *value) { writeSample(w, name, l, s.get()) })
}

type gaugeFunc struct {
	help string
	fn   func() float64
}

func (g *gaugeFunc) write(w *bufio.Writer, name string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n", name, escapeHelp(g.help), name)
	writeSample(w, name, "", g.fn())
}

// HistogramVec is a histogram family.
type HistogramVec struct {
	vec     vec[histogram]
	buckets []float64
}

type histogram struct {
	mu     sync.Mutex
	counts []uint64 // per bucket, not cumulative; len(buckets)+1, the last is +Inf
	sum    float64
	count  uint64
}

// Histogram is one histogram series.
type Histogram struct {
	h       *histogram
	buckets []float64
}

// With returns the series for the label values, in the registered order.
func (h *HistogramVec) With(values ...string) Histogram {
	return Histogram{h: h.vec.get(values), buckets: h.buckets}
}

// Observe records one value.
func (h Histogram) Observe(v float64) {
	i, _ := slices.BinarySearch(h.buckets, v) // first bucket with bound >= v (le is inclusive)
	h.h.mu.Lock()
	defer h.h.mu.Unlock()
	if h.h.counts == nil {
		h.h.counts = make([]uint64, len(h.buckets)+1)
	}
	h.h.counts[i]++
	h.h.sum += v
	h.h.count++
}

// Count is the number of observations.
func (h Histogram) Count() uint64 {
	h.h.mu.Lock()
	defer h.h.mu.Unlock()
	return h.h.count
}

func (h *HistogramVec) write(w *bufio.Writer, name string) {
	h.vec.header(w, name)
	h.vec.each(func(l string, s *histogram) {
		s.mu.Lock()
		counts := slices.Clone(s.counts)
		sum, count := s.sum, s.count
		s.mu.Unlock()
		if counts == nil {
			counts = make([]uint64, len(h.buckets)+1)
		}
		var cum uint64
		for i, le := range h.buckets {
			cum += counts[i]
			writeSample(w, name+"_bucket", joinLabels(l, `le="`+formatFloat(le)+`"`), float64(cum))
		}
		writeSample(w, name+"_bucket", joinLabels(l, `le="+Inf"`), float64(count))
		writeSample(w, name+"_sum", l, sum)
		writeSample(w, name+"_count", l, float64(count))
	})
}

func writeSample(w *bufio.Writer, name, labels string, v float64) {
	w.WriteString(name)
	if labels != "" {
		w.WriteString("{" + labels + "}")
	}
	w.WriteByte(' ')
	w.WriteString(formatFloat(v))
	w.WriteByte('\n')
}

func labelPairs(names, values []string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + `="` + escapeLabel(values[i]) + `"`
	}
	return strings.Join(parts, ",")
}

func joinLabels(a, b string) string {
	if a == "" {
		return b
	}
	return a + "," + b
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }
