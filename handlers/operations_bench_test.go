package handlers_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

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
	for b.Loop() {
		attackPage(b, srv.URL+badgeURL(o.ID), http.Header{"Hx-Request": {"true"}, "Cookie": {cookie.String()}})
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
		putOp(b, e.store, opSpec{folder: []string{team, golden}[i%2], name: fmt.Sprintf("flying-%d", i), state: store.OpRunning})
	}
	srv := httptest.NewServer(e.srv)
	defer srv.Close()
	cookie := e.browser.SessionCookie()
	for b.Loop() {
		attackPage(b, srv.URL+"/operations?part=inflight", http.Header{"Hx-Request": {"true"}, "Cookie": {cookie.String()}})
	}
}

// BenchmarkInFlightPageOne is one in-flight section at a time, for
// profiles: go test -run '^$' -bench InFlightPageOne -cpuprofile cpu.out ./handlers/
func BenchmarkInFlightPageOne(b *testing.B) {
	e := newMonitorEnv(b)
	for i := range 1000 {
		putOp(b, e.store, opSpec{folder: []string{team, golden}[i%2], name: fmt.Sprintf("flying-%d", i), state: store.OpRunning})
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
