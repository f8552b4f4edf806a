// Package metrics holds the dashboard's own Prometheus series and the rules
// that keep their labels bounded. The registry, the exposition format and
// the Go runtime's and the process's series come from the Prometheus Go
// client (github.com/prometheus/client_golang), which is what Prometheus
// users expect to scrape. A registry is an ordinary value built in main;
// there are no package-level registries (prometheus.DefaultRegisterer is
// never used).
//
// Every label value that comes from a request is from a fixed set (see
// Method, Route, Code): a label value is a series kept in memory for the
// life of the process, so a value an anonymous client can invent is a way
// to fill the heap.
package metrics

import (
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry returns a registry with the Go runtime's series
// (go_goroutines, go_memstats_*, and go_gc_heap_live_bytes, the heap the
// last GC found live, which is what shows a leak: heap in use swings with
// the GC cycle) and the process's (process_resident_memory_bytes, CPU, open
// files). The soak (go run ./cmd/loadtest soak) reads these names.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
			collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/heap/live:bytes$`)},
		)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// Handler answers a scrape of reg. A failure to gather one collector is
// served as far as it goes (and said in the answer) rather than as a 500,
// so one broken gauge does not blind the whole scrape.
func Handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// DefBuckets are latency buckets in seconds, for a web app answering in
// milliseconds with the occasional slow cloud call.
func DefBuckets() []float64 {
	return []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
}

// HTTP are the series of answered requests:
// imagedash_http_requests_total{method,route,code} and
// imagedash_http_request_duration_seconds{route}.
type HTTP struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewHTTP registers the HTTP series with reg.
func NewHTTP(reg prometheus.Registerer) *HTTP {
	h := &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imagedash_http_requests_total",
			Help: "HTTP requests answered, by method, route and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "imagedash_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route.",
			Buckets: DefBuckets(),
		}, []string{"route"}),
	}
	reg.MustRegister(h.requests, h.duration)
	return h
}

// Observe records one answered request. method is the request's, route
// the router's template for it ("" when none matched), code the status
// sent; each is normalised to its fixed set here, so no caller can grow
// the series by passing request text.
func (h *HTTP) Observe(method, route string, code int, elapsed time.Duration) {
	r := Route(route)
	h.requests.WithLabelValues(Method(method), r, Code(code)).Inc()
	h.duration.WithLabelValues(r).Observe(elapsed.Seconds())
}

// Method is the method's label: one of the methods the dashboard knows, or
// "other" for anything a client invents (HTTP allows any token).
func Method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// Route is the route's label: the router's template (from the route table,
// never from the request), or "unmatched" when no route matched.
func Route(template string) string {
	if template == "" {
		return "unmatched"
	}
	return template
}

// StatusClientClosedRequest is nginx's 499, "client closed request": the
// status a request is counted with when its client went away before the
// answer was sent (a closed tab, an aborted search). It is never sent; it
// keeps those requests apart from the 5xx of real faults.
const StatusClientClosedRequest = 499

// Code is the status's label: the code itself when net/http names it (a
// fixed set of about sixty, plus 286, htmx's "stop polling", and 499, a
// client gone), otherwise its class ("4xx"), or "other" outside 100..599.
func Code(status int) string {
	switch {
	case status < 100 || status > 599:
		return "other"
	case http.StatusText(status) != "" || status == 286 || status == StatusClientClosedRequest:
		return strconv.Itoa(status)
	}
	return strconv.Itoa(status/100) + "xx"
}
