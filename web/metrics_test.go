package web_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestMetricsLabelsBounded is the attack of issue 15 (item 2): anonymous
// requests with invented methods and random paths, each of which used to
// become a new series (1.1 GB of heap in 11 s). Every label value must come
// from a fixed set, so the number of series stops growing however many
// requests come.
func TestMetricsLabelsBounded(t *testing.T) {
	s := newServer(t, nil)
	rnd := rand.New(rand.NewPCG(15, 2))
	word := func(n int) string {
		const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		b := make([]byte, n)
		for i := range b {
			b[i] = letters[rnd.IntN(len(letters))]
		}
		return string(b)
	}
	paths := []func() string{
		func() string { return "/" + strings.ToLower(word(8)) },                                  // no route
		func() string { return "/images/" + strings.ToLower(word(4)) + "/" + word(12) },          // a route's template
		func() string { return "/operations/" + word(10) + "/badge" },                            // another
		func() string { return "/static/" + word(6) + ".js" },                                    // the static catch-all
		func() string { return "/healthz" },                                                      // a public route
		func() string { return "/metrics/" + word(5) + "/" + word(5) + "?q=" + word(3) },         // a near miss
		func() string { return "/admin/users/" + fmt.Sprint(rnd.IntN(1e6)) + "/delete" },         // admin, anonymous
		func() string { return "/" + word(3) + "%2F" + word(3) + "/" + strings.Repeat("x", 40) }, // escaped
	}
	scrape := func() string {
		rec := httptest.NewRecorder()
		s.e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		return rec.Body.String()
	}
	known := []string{"GET", "POST", "DELETE", "PROPFIND", "TRACE"}
	send := func(method, path string) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Method = method // httptest.NewRequest refuses some tokens; set it afterwards
		s.e.ServeHTTP(httptest.NewRecorder(), req)
	}
	// Every kind of request once (each known method, an invented one, on
	// each kind of path), then thousands more of the same kinds with fresh
	// invented methods and paths: those must add no series.
	for _, p := range paths {
		for _, m := range append(known, word(6)) {
			send(m, p())
		}
	}
	scrape() // a scrape counts too: the baseline includes it
	first := series(scrape())
	for range 5000 {
		method := word(3 + rnd.IntN(8)) // invented: BREW, XKQWZ…
		if rnd.IntN(4) == 0 {
			method = known[rnd.IntN(len(known))]
		}
		send(method, paths[rnd.IntN(len(paths))]())
	}
	second := series(scrape())

	// A fixed small number: 8 methods × the routes hit × a handful of
	// codes, far below the 5 000 requests.
	if len(second) > 80 {
		t.Errorf("%d imagedash_http series after 5000 requests, want a small fixed number:\n%s", len(second), strings.Join(second, "\n"))
	}
	if len(second) != len(first) {
		t.Errorf("series grew from %d to %d with 5000 more requests of the same kinds:\n%s\n---\n%s", len(first), len(second), strings.Join(first, "\n"), strings.Join(second, "\n"))
	}
	routes := map[string]bool{"unmatched": true}
	for _, r := range s.e.Routes() {
		routes[r.Path] = true
	}
	methods := map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true, "other": true}
	code := regexp.MustCompile(`^([1-5][0-9][0-9]|[1-5]xx|other)$`)
	for _, line := range second {
		for _, m := range labelRE.FindAllStringSubmatch(line, -1) {
			name, value := m[1], m[2]
			ok := map[string]bool{"method": methods[value], "route": routes[value], "code": code.MatchString(value), "le": true}[name]
			if !ok {
				t.Errorf("label %s=%q is not from the fixed set: %s", name, value, line)
			}
		}
	}
}

var labelRE = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)

// series are the samples of the dashboard's HTTP series in a scrape, one
// per label set (histograms once per series, not per bucket).
func series(body string) []string {
	var out []string
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "imagedash_http_requests_total{") ||
			strings.HasPrefix(line, "imagedash_http_request_duration_seconds_count{") {
			out = append(out, line[:strings.LastIndexByte(line, ' ')])
		}
	}
	return out
}
