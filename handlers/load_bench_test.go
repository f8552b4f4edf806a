package handlers_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// benchRate and benchFor are the load of the in-process benchmarks: a
// constant rate (vegeta's open model: a slow answer delays no later
// request, so its latency is not hidden by coordinated omission).
// Throughput ratios to a bare Echo handler are wrk's (BENCHMARKS.md).
const (
	benchRate = 200
	benchFor  = 5 * time.Second
)

// attackPage sends GETs of url with header at benchRate for benchFor, then
// the same to a bare Echo handler in this process serving a static body of
// the size of the page's first answer (the ceiling, measured in the same
// run), and reports both's latencies as the benchmark's metrics. It fails
// the benchmark on any error.
func attackPage(b *testing.B, url string, header http.Header) (page, ceiling vegeta.Metrics) {
	b.Helper()
	size := pageSize(b, url, header)
	e := echo.New()
	body := bytes.Repeat([]byte("x"), size)
	e.GET("/", func(c echo.Context) error { return c.HTMLBlob(http.StatusOK, body) })
	bare := httptest.NewServer(e)
	defer bare.Close()

	ceiling = attackURL(b, bare.URL+"/", nil)
	page = attackURL(b, url, header)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(page.Latencies.P50), "p50-ms")
	b.ReportMetric(ms(page.Latencies.P99), "p99-ms")
	b.ReportMetric(ms(page.Latencies.Max), "max-ms")
	b.ReportMetric(ms(ceiling.Latencies.P99), "echo-p99-ms")
	b.ReportMetric(float64(size), "body-bytes")
	return page, ceiling
}

func attackURL(b *testing.B, url string, header http.Header) vegeta.Metrics {
	b.Helper()
	atk := vegeta.NewAttacker(vegeta.Redirects(vegeta.NoFollow), vegeta.Timeout(30*time.Second))
	tr := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: url, Header: header})
	var m vegeta.Metrics
	for res := range atk.Attack(tr, vegeta.Rate{Freq: benchRate, Per: time.Second}, benchFor, url) {
		if res.Error == "" && res.Code >= 300 {
			res.Error = "redirected: " + res.Headers.Get("Location")
		}
		m.Add(res)
	}
	m.Close()
	if len(m.Errors) > 0 {
		b.Fatalf("%s: %d requests, %.1f%% successful, errors: %v", url, m.Requests, m.Success*100, m.Errors)
	}
	return m
}

// pageSize is the length of the page's body, read once.
func pageSize(b *testing.B, url string, header http.Header) int {
	b.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header = header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %s, %v", url, resp.Status, err)
	}
	return int(n)
}
