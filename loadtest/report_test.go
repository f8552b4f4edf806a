package loadtest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/imagedash/imagedash/loadtest"
)

func TestMarkdown(t *testing.T) {
	page := loadtest.Stats{
		Name: "/?q=a|b", Requests: 29000, RPS: 2900, Errors: 29, TransportErrors: 1,
		FirstError: "read: connection reset", Statuses: map[int]int{200: 28972, 286: 0, 500: 28},
		P50: 2300 * time.Microsecond, P95: 9 * time.Millisecond, P99: 18500 * time.Microsecond, Max: 120 * time.Millisecond,
	}
	base := loadtest.Stats{
		Name: loadtest.BaselineName, Requests: 280000, RPS: 28000, Statuses: map[int]int{200: 280000},
		P50: 250 * time.Microsecond, P95: 900 * time.Microsecond, P99: 1500 * time.Microsecond, Max: 8 * time.Millisecond,
	}
	rep := loadtest.Report{
		Config:     loadtest.Config{Concurrency: 8, Duration: 10 * time.Second, Warmup: 2 * time.Second},
		Date:       time.Date(2026, 11, 3, 9, 30, 0, 0, time.UTC),
		GoVersion:  "go1.26.8",
		Platform:   "linux/amd64",
		GOMAXPROCS: 2,
		NumCPU:     2,
		Runs:       []loadtest.RunStats{{Targets: []loadtest.Stats{page}, Total: page, Elapsed: 10 * time.Second}},
	}

	t.Run("without baseline", func(t *testing.T) {
		md := rep.Markdown()
		for _, want := range []string{
			"| target | requests | req/s | p50 | p95 | p99 | max | errors |\n",
			`| /?q=a\|b | 29000 | 2900 | 2.30 ms | 9.00 ms | 18.5 ms | 120 ms | 29 (0.1%) |` + "\n",
			"Concurrency 8, 10s measured per run after a 2s warmup; GOMAXPROCS 2 on 2 CPUs, go1.26.8 linux/amd64; 2026-11-03 09:30 UTC.",
			`- /?q=a\|b: 500 ×28, transport ×1 (first: read: connection reset)`,
		} {
			if !strings.Contains(md, want) {
				t.Errorf("Markdown lacks %q:\n%s", want, md)
			}
		}
		if strings.Contains(md, "bare Echo") {
			t.Errorf("Markdown mentions bare Echo without a baseline:\n%s", md)
		}
	})
	t.Run("with baseline", func(t *testing.T) {
		rep := rep
		rep.Baseline = &base
		rep.BaselineWhere = "in a separate process"
		md := rep.Markdown()
		for _, want := range []string{
			"| target | requests | req/s | p50 | p95 | p99 | max | errors | % of bare Echo |\n",
			"| bare Echo (baseline) | 280000 | 28000 | 0.250 ms | 0.900 ms | 1.50 ms | 8.00 ms | 0 | 100% |\n",
			`| /?q=a\|b | 29000 | 2900 | 2.30 ms | 9.00 ms | 18.5 ms | 120 ms | 29 (0.1%) | 10% |` + "\n",
			"measured just before in a separate process; in a mix, for the mix as a whole.",
		} {
			if !strings.Contains(md, want) {
				t.Errorf("Markdown lacks %q:\n%s", want, md)
			}
		}
		if got, ok := rep.Ratio("/?q=a|b"); !ok || got < 0.1035 || got > 0.1036 {
			t.Errorf("Ratio = %v, %v; want 2900/28000", got, ok)
		}
	})
}
