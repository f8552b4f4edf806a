package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/imagedash/imagedash/store"
)

// TestLockedOutFloodIsCounted: an address past its sign-in limit that
// keeps posting (10 000 times, each with a different 256-byte name) adds
// one audit entry whose count says how many, not a row each.
func TestLockedOutFloodIsCounted(t *testing.T) {
	g := &gateHasher{entered: make(chan struct{}, 100), gate: make(chan struct{})}
	close(g.gate)
	srv, st := newLimitEnv(t, g)
	// Under the race detector (SQLite in pure Go is about twenty times slower)
	// fewer requests make the same point.
	n := 10000
	if raceOn {
		n = 2000
	}
	codes := map[int]int{}
	for i := range n {
		name := fmt.Sprintf("%05d", i) + strings.Repeat("n", 251)
		form := url.Values{"username": {name}, "password": {"guess"}}
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.RemoteAddr = "203.0.113.50:4000"
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		codes[rec.Code]++
	}
	if codes[http.StatusUnauthorized] != 20 || codes[http.StatusTooManyRequests] != n-20 {
		t.Fatalf("answers = %v", codes)
	}
	es, err := st.AuditLog(context.Background(), store.AuditQuery{Limit: store.MaxAuditLimit})
	if err != nil {
		t.Fatal(err)
	}
	var refusals, counted int64
	for _, e := range es {
		if e.Detail == "rate limited" {
			refusals++
			counted += e.Count
		}
	}
	if len(es) > 25 || refusals != 1 || counted != int64(n-20) {
		t.Errorf("%d audit rows, %d for refusals counting %d; want ≤ 25, 1 counting %d", len(es), refusals, counted, n-20)
	}
}
