package metrics

import (
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLabels(t *testing.T) {
	methods := []struct{ give, want string }{
		{"GET", "GET"}, {"HEAD", "HEAD"}, {"POST", "POST"}, {"PUT", "PUT"}, {"PATCH", "PATCH"},
		{"DELETE", "DELETE"}, {"OPTIONS", "OPTIONS"},
		{"get", "other"}, {"TRACE", "other"}, {"CONNECT", "other"}, {"XKQWZ", "other"}, {"", "other"},
	}
	for _, tt := range methods {
		if got := Method(tt.give); got != tt.want {
			t.Errorf("Method(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
	codes := []struct {
		give int
		want string
	}{
		{200, "200"}, {286, "286"}, {499, "499"}, {303, "303"}, {404, "404"}, {408, "408"}, {421, "421"}, {507, "507"},
		{299, "2xx"}, {498, "4xx"}, {599, "5xx"}, {0, "other"}, {99, "other"}, {600, "other"}, {-1, "other"},
	}
	for _, tt := range codes {
		if got := Code(tt.give); got != tt.want {
			t.Errorf("Code(%d) = %q, want %q", tt.give, got, tt.want)
		}
	}
	routes := []struct{ give, want string }{{"", "unmatched"}, {"/images/:service/:id", "/images/:service/:id"}}
	for _, tt := range routes {
		if got := Route(tt.give); got != tt.want {
			t.Errorf("Route(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
}

// TestRegistry: the series the soak test and dashboards read come from the
// library's collectors under their usual names.
func TestRegistry(t *testing.T) {
	reg := NewRegistry()
	h := NewHTTP(reg)
	h.Observe("BREW", "", 418, 3*time.Millisecond)
	h.Observe("GET", "/", 200, time.Millisecond)
	runtime.GC() // the live heap is what the last GC found

	rec := httptest.NewRecorder()
	Handler(reg).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q, want the text format", ct)
	}
	body := rec.Body.String()
	got := map[string]float64{}
	for _, line := range strings.Split(body, "\n") {
		name, value, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		got[name] = v
	}
	sizes := []string{"go_memstats_heap_inuse_bytes", "go_memstats_heap_alloc_bytes", "go_memstats_sys_bytes", "go_gc_heap_live_bytes"}
	if runtime.GOOS == "linux" {
		sizes = append(sizes, "process_resident_memory_bytes")
	}
	for _, name := range sizes {
		// A Go process holds at least a few hundred kilobytes of each.
		if v := got[name]; v < 100<<10 || v > 1<<40 {
			t.Errorf("%s = %v, want a plausible size in bytes", name, v)
		}
	}
	if got["go_goroutines"] < 1 {
		t.Errorf("go_goroutines = %v", got["go_goroutines"])
	}
	for _, want := range []string{
		`imagedash_http_requests_total{code="418",method="other",route="unmatched"} 1`,
		`imagedash_http_requests_total{code="200",method="GET",route="/"} 1`,
		`imagedash_http_request_duration_seconds_count{route="unmatched"} 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("no %q in\n%s", want, body)
		}
	}
}
