package loadtest_test

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/imagedash/imagedash/loadtest"
)

func TestScrapeMetrics(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("# HELP go_goroutines Number of goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines 42\n" +
			"go_memstats_heap_inuse_bytes 1.2345e+08\n" +
			"imagedash_http_requests_total{method=\"GET\",route=\"/\",code=\"200\"} 9\n" +
			"process_resident_memory_bytes 2e+08 1700000000000\n"))
	}))
	defer srv.Close()
	got, err := loadtest.ScrapeMetrics(context.Background(), srv.URL+"/metrics",
		"go_goroutines", "go_memstats_heap_inuse_bytes", "process_resident_memory_bytes", "absent")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"go_goroutines": 42, "go_memstats_heap_inuse_bytes": 1.2345e8, "process_resident_memory_bytes": 2e8}
	if len(got) != len(want) {
		t.Errorf("ScrapeMetrics = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if _, err := loadtest.ScrapeMetrics(context.Background(), "http://192.0.2.1/metrics"); err == nil {
		t.Error("scraped a remote address")
	}
}

func TestTrend(t *testing.T) {
	tests := []struct {
		name       string
		give       []float64
		wantGrowth float64
		wantFlat   bool
	}{
		{name: "flat", give: []float64{100, 104, 98, 101, 99, 103}, wantGrowth: 0, wantFlat: true},
		{name: "leak", give: []float64{100, 110, 120, 130, 140, 150}, wantGrowth: 0.4, wantFlat: false},
		{name: "shrinking", give: []float64{150, 140, 130, 120, 110, 100}, wantGrowth: -0.28, wantFlat: true},
		{name: "few goroutines, within slack", give: []float64{20, 22, 24, 26, 28, 30}, wantGrowth: 0.4, wantFlat: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := loadtest.TrendOf(tt.give)
			if math.Abs(tr.Growth-tt.wantGrowth) > 0.02 {
				t.Errorf("Growth = %.3f, want %.3f", tr.Growth, tt.wantGrowth)
			}
			if got := tr.Flat(0.1, 10); got != tt.wantFlat {
				t.Errorf("Flat = %v, want %v (%+v)", got, tt.wantFlat, tr)
			}
		})
	}
}
