package metrics

import (
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestWriteText(t *testing.T) {
	reg := NewRegistry()
	req := reg.Counter("app_requests_total", "Requests.\nBy route.", "method", "route")
	req.With("GET", "/").Inc()
	req.With("GET", "/").Add(2)
	req.With("POST", `/a"b\c`).Inc()
	g := reg.Gauge("app_queue", "Queue length.")
	g.With().Set(7)
	g.With().Add(-2)
	reg.GaugeFunc("app_up", "Always one.", func() float64 { return 1 })
	h := reg.Histogram("app_seconds", "Latency.", []float64{1, 0.1}, "route")
	for _, v := range []float64{0.05, 0.1, 0.5, 3} {
		h.With("/").Observe(v)
	}
	reg.Histogram("app_empty_seconds", "Never observed.", []float64{1})

	var b strings.Builder
	if err := reg.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `# HELP app_empty_seconds Never observed.
# TYPE app_empty_seconds histogram
# HELP app_queue Queue length.
# TYPE app_queue gauge
app_queue 5
# HELP app_requests_total Requests.\nBy route.
# TYPE app_requests_total counter
app_requests_total{method="GET",route="/"} 3
app_requests_total{method="POST",route="/a\"b\\c"} 1
# HELP app_seconds Latency.
# TYPE app_seconds histogram
app_seconds_bucket{route="/",le="0.1"} 2
app_seconds_bucket{route="/",le="1"} 3
app_seconds_bucket{route="/",le="+Inf"} 4
app_seconds_sum{route="/"} 3.65
app_seconds_count{route="/"} 4
# HELP app_up Always one.
# TYPE app_up gauge
app_up 1
`
	if got := b.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestServeHTTP(t *testing.T) {
	reg := NewRegistry()
	reg.Counter("x_total", "X.").With().Inc()
	rec := httptest.NewRecorder()
	reg.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if ct := rec.Header().Get("Content-Type"); ct != ContentType {
		t.Errorf("Content-Type = %q, want %q", ct, ContentType)
	}
	if !strings.Contains(rec.Body.String(), "x_total 1\n") {
		t.Errorf("body = %q", rec.Body.String())
	}
}

func TestPanics(t *testing.T) {
	tests := []struct {
		name string
		give func(r *Registry)
	}{
		{"duplicate name", func(r *Registry) { r.Counter("a", ""); r.Gauge("a", "") }},
		{"reserved label", func(r *Registry) { r.Histogram("h", "", nil, "le") }},
		{"wrong label count", func(r *Registry) { r.Counter("c", "", "x").With() }},
		{"counter decreases", func(r *Registry) { r.Counter("c", "").With().Add(-1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("did not panic")
				}
			}()
			tt.give(NewRegistry())
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	reg := NewRegistry()
	c := reg.Counter("c_total", "", "k")
	h := reg.Histogram("h_seconds", "", DefBuckets(), "k")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 1000 {
				c.With("a").Inc()
				h.With("a").Observe(float64(i) / 100)
			}
			_ = reg.WriteText(&strings.Builder{})
		})
	}
	wg.Wait()
	if got := c.With("a").Value(); got != 8000 {
		t.Errorf("counter = %v, want 8000", got)
	}
	if got := h.With("a").Count(); got != 8000 {
		t.Errorf("histogram count = %v, want 8000", got)
	}
}
