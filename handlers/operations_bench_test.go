package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/imagedash/imagedash/loadtest"
	"github.com/imagedash/imagedash/store"
)

// BenchmarkBadge measures an open operation's badge poll (the partial every
// watching browser asks for every 2 s) through the real router and
// middleware, signed in, with 8 concurrent clients, against a bare Echo
// handler measured in the same run. Issue #5's target: at least 40% of
// bare Echo's throughput.
//
//	go test -run '^$' -bench Badge -benchtime 1x ./handlers/
func BenchmarkBadge(b *testing.B) {
	e := newMonitorEnv(b)
	for i := range 1000 { // a store with some history, the badge one row among many
		putOp(b, e.store, opSpec{folder: team, name: "old", state: []store.OpState{store.OpDone, store.OpFailed}[i%2]})
	}
	o := putOp(b, e.store, opSpec{folder: team, name: "watched", state: store.OpRunning})
	srv := httptest.NewServer(e.srv)
	defer srv.Close()
	cookie := e.browser.SessionCookie()
	if cookie == nil {
		b.Fatal("not signed in")
	}
	cfg := loadtest.Config{Concurrency: 8, Duration: 5 * time.Second, Warmup: time.Second}
	for b.Loop() {
		mix := loadtest.Single(loadtest.Target{
			Name: "badge", URL: srv.URL + badgeURL(o.ID),
			Header: http.Header{"Hx-Request": {"true"}, "Cookie": {cookie.String()}},
		})
		rep, err := loadtest.Compare(context.Background(), cfg, mix)
		if err != nil {
			b.Fatal(err)
		}
		st, _ := rep.Stats("badge")
		ratio, _ := rep.Ratio("badge")
		if st.Errors > 0 {
			b.Fatalf("%d errors (statuses %v): %s", st.Errors, st.Statuses, st.FirstError)
		}
		if st.Statuses[http.StatusOK] == 0 {
			b.Fatalf("no 200 answers: %v", st.Statuses)
		}
		b.ReportMetric(float64(st.P50.Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(st.P99.Microseconds())/1000, "p99-ms")
		b.ReportMetric(st.RPS, "req/s")
		b.ReportMetric(ratio*100, "%-of-echo")
		b.Log("\n" + rep.Markdown())
	}
}

// BenchmarkInFlightPage measures the monitor's in-flight section (the part
// that polls itself every 2 s) with 1 000 operations in flight, through the
// real router, signed in, 8 concurrent clients. Issue #5's target: p99 ≤
// 20 ms.
//
//	go test -run '^$' -bench InFlightPage -benchtime 1x ./handlers/
func BenchmarkInFlightPage(b *testing.B) {
	e := newMonitorEnv(b)
	for i := range 1000 {
		putOp(b, e.store, opSpec{folder: []string{team, golden}[i%2], name: "flying", state: store.OpRunning})
	}
	srv := httptest.NewServer(e.srv)
	defer srv.Close()
	cookie := e.browser.SessionCookie()
	cfg := loadtest.Config{Concurrency: 8, Duration: 5 * time.Second, Warmup: time.Second}
	for b.Loop() {
		mix := loadtest.Single(loadtest.Target{
			Name: "in-flight", URL: srv.URL + "/operations?part=inflight",
			Header: http.Header{"Hx-Request": {"true"}, "Cookie": {cookie.String()}},
		})
		rep, err := loadtest.Compare(context.Background(), cfg, mix)
		if err != nil {
			b.Fatal(err)
		}
		st, _ := rep.Stats("in-flight")
		ratio, _ := rep.Ratio("in-flight")
		if st.Errors > 0 || st.Statuses[http.StatusOK] == 0 {
			b.Fatalf("%d errors (statuses %v): %s", st.Errors, st.Statuses, st.FirstError)
		}
		b.ReportMetric(float64(st.P50.Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(st.P99.Microseconds())/1000, "p99-ms")
		b.ReportMetric(st.RPS, "req/s")
		b.ReportMetric(ratio*100, "%-of-echo")
	}
}

// BenchmarkInFlightPageOne is one in-flight section at a time, for
// profiles: go test -run '^$' -bench InFlightPageOne -cpuprofile cpu.out ./handlers/
func BenchmarkInFlightPageOne(b *testing.B) {
	e := newMonitorEnv(b)
	for i := range 1000 {
		putOp(b, e.store, opSpec{folder: []string{team, golden}[i%2], name: "flying", state: store.OpRunning})
	}
	req := httptest.NewRequest(http.MethodGet, "/operations?part=inflight", nil)
	req.Header.Set("Hx-Request", "true")
	req.Header.Set("Cookie", e.sessionCookie())
	for b.Loop() {
		rec := httptest.NewRecorder()
		e.srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("= %d", rec.Code)
		}
	}
}
