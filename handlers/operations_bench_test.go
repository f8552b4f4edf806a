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
