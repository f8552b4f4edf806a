package loadtest_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imagedash/imagedash/loadtest"
)

// Every run in these tests is bounded by its Duration; the Requests bound
// makes counts exact. Nothing asserts speed: only counts, and time bounds
// with wide margins.

// app is a test server with a few behaviours, counting what it serves.
type app struct {
	*httptest.Server
	served    atomic.Int64
	cancelled atomic.Int64 // requests the client gave up on
	mu        sync.Mutex
	seen      map[string]int // by path and query
}

func newApp(t *testing.T) *app {
	t.Helper()
	a := &app{seen: map[string]int{}}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.served.Add(1)
		a.mu.Lock()
		a.seen[r.URL.RequestURI()]++
		a.mu.Unlock()
		switch r.URL.Path {
		case "/ok":
			io.WriteString(w, "hello")
		case "/fail":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "/poll":
			w.WriteHeader(loadtest.StatusStopPolling)
		case "/htmx":
			if r.Header.Get("HX-Request") != "true" {
				http.Error(w, "want HX-Request", http.StatusBadRequest)
				return
			}
			io.WriteString(w, "<tr></tr>")
		case "/echo":
			io.Copy(w, r.Body)
		case "/away":
			http.Redirect(w, r, "http://192.0.2.1/", http.StatusFound)
		case "/slow":
			select {
			case <-r.Context().Done():
				a.cancelled.Add(1)
			case <-time.After(200 * time.Millisecond):
			}
		case "/hang":
			select { // until the client gives up, or 10 s
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *app) count(uri string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seen[uri]
}

func target(name, url string) loadtest.Target { return loadtest.Target{Name: name, URL: url} }

// run calls Run and fails the test on an error.
func run(t *testing.T, cfg loadtest.Config, mix loadtest.Mix) loadtest.RunStats {
	t.Helper()
	rep, err := loadtest.Run(context.Background(), cfg, mix)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(rep.Runs) != 1 {
		t.Fatalf("Run gave %d runs, want 1", len(rep.Runs))
	}
	return rep.Runs[0]
}

func TestRunCountsAddUp(t *testing.T) {
	a := newApp(t)
	got := run(t, loadtest.Config{Concurrency: 4, Requests: 200, Duration: time.Minute}, loadtest.Mix{
		{Target: target("ok", a.URL+"/ok"), Weight: 3},
		{Target: target("htmx", a.URL+"/htmx"), Weight: 1},
	})
	// The sending was cut short of a minute by Requests; but with no warmup
	// every request sent is measured.
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"total requests", got.Total.Requests, 200},
		{"ok requests", got.Targets[0].Requests, 150},
		{"htmx requests", got.Targets[1].Requests, 50},
		{"served", int(a.served.Load()), 200},
		{"ok 200s", got.Targets[0].Statuses[200], 150},
		{"htmx errors (no header sent)", got.Targets[1].Errors, 50},
		{"htmx 400s", got.Targets[1].Statuses[400], 50},
		{"ok errors", got.Targets[0].Errors, 0},
		{"unfinished", got.Total.Unfinished, 0},
		{"ok bytes", int(got.Targets[0].Bytes), 150 * len("hello")},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if got.Total.Name != "ok+htmx" {
		t.Errorf("total name = %q, want %q", got.Total.Name, "ok+htmx")
	}
	if got.Total.RPS <= 0 || got.Elapsed <= 0 || got.Elapsed > time.Minute {
		t.Errorf("RPS = %v, Elapsed = %v: want positive, elapsed within the minute", got.Total.RPS, got.Elapsed)
	}
	if s := got.Total; !(0 < s.P50 && s.P50 <= s.P95 && s.P95 <= s.P99 && s.P99 <= s.Max) {
		t.Errorf("latencies p50 %v, p95 %v, p99 %v, max %v: want 0 < p50 ≤ p95 ≤ p99 ≤ max", s.P50, s.P95, s.P99, s.Max)
	}
}

func TestRunByDurationWithWarmup(t *testing.T) {
	a := newApp(t)
	const d = 300 * time.Millisecond
	got := run(t, loadtest.Config{Concurrency: 3, Duration: d, Warmup: 100 * time.Millisecond},
		loadtest.Single(target("ok", a.URL+"/ok")))
	s := got.Total
	if s.Requests == 0 {
		t.Fatal("no requests completed in 300 ms")
	}
	// The server also saw the warmup, and requests cut off at the end.
	if served := int(a.served.Load()); s.Requests+s.Unfinished > served {
		t.Errorf("requests %d + unfinished %d > served %d", s.Requests, s.Unfinished, served)
	}
	if got.Elapsed != d {
		t.Errorf("Elapsed = %v, want %v", got.Elapsed, d)
	}
	if s.Errors != 0 || s.Statuses[200] != s.Requests {
		t.Errorf("errors %d, 200s %d of %d requests; want no errors", s.Errors, s.Statuses[200], s.Requests)
	}
}

func TestRunCountsErrors(t *testing.T) {
	a := newApp(t)
	got := run(t, loadtest.Config{Concurrency: 3, Requests: 90, Duration: time.Minute}, loadtest.Mix{
		{Target: target("ok", a.URL+"/ok"), Weight: 1},
		{Target: target("fail", a.URL+"/fail"), Weight: 1},
		{Target: target("poll", a.URL+"/poll"), Weight: 1},
	})
	tests := []struct {
		name         string
		give         loadtest.Stats
		wantStatus   int
		wantErrors   int
		wantRequests int
	}{
		{name: "200", give: got.Targets[0], wantStatus: 200, wantErrors: 0, wantRequests: 30},
		{name: "500", give: got.Targets[1], wantStatus: 500, wantErrors: 30, wantRequests: 30},
		{name: "286 is a success", give: got.Targets[2], wantStatus: 286, wantErrors: 0, wantRequests: 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.give.Requests != tt.wantRequests || tt.give.Errors != tt.wantErrors || tt.give.Statuses[tt.wantStatus] != tt.wantRequests {
				t.Errorf("requests %d, errors %d, statuses %v; want %d requests answering %d, %d errors",
					tt.give.Requests, tt.give.Errors, tt.give.Statuses, tt.wantRequests, tt.wantStatus, tt.wantErrors)
			}
		})
	}
	if got.Total.Errors != 30 {
		t.Errorf("total errors = %d, want 30", got.Total.Errors)
	}
}

func TestRunCountsConnectionRefused(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + lis.Addr().String() + "/"
	lis.Close() // nothing listens there now

	got := run(t, loadtest.Config{Concurrency: 2, Requests: 20, Duration: 5 * time.Second},
		loadtest.Single(target("refused", url)))
	s := got.Total
	if s.Requests != 20 || s.Errors != 20 || s.TransportErrors != 20 {
		t.Errorf("requests %d, errors %d, transport errors %d; want 20 of each", s.Requests, s.Errors, s.TransportErrors)
	}
	if !strings.Contains(s.FirstError, "refused") {
		t.Errorf("first error = %q, want it to say refused", s.FirstError)
	}
}

func TestRunStopsAtDuration(t *testing.T) {
	a := newApp(t)
	const d = 300 * time.Millisecond
	began := time.Now()
	got := run(t, loadtest.Config{Concurrency: 4, Duration: d},
		loadtest.Single(target("hang", a.URL+"/hang")))
	took := time.Since(began)
	if took < d+loadtest.Drain || took > d+loadtest.Drain+5*time.Second {
		t.Errorf("Run took %v, want about %v + the drain, %v", took, d, loadtest.Drain)
	}
	// Every worker had one request in flight, cut off at the end: neither
	// a completed request nor an error.
	if s := got.Total; s.Requests != 0 || s.Errors != 0 || s.Unfinished != 4 {
		t.Errorf("requests %d, errors %d, unfinished %d; want 0, 0, 4", s.Requests, s.Errors, s.Unfinished)
	}
}

func TestRunDrainsRequestsInFlight(t *testing.T) {
	a := newApp(t)
	// Both requests start at once and end 200 ms later, after the 100 ms
	// window but well within the drain: neither counted nor cut off.
	got := run(t, loadtest.Config{Concurrency: 2, Duration: 100 * time.Millisecond},
		loadtest.Single(target("slow", a.URL+"/slow")))
	if s := got.Total; s.Requests != 0 || s.Unfinished != 0 {
		t.Errorf("requests %d, unfinished %d; want 0, 0", s.Requests, s.Unfinished)
	}
	if n := a.cancelled.Load(); n != 0 {
		t.Errorf("the server saw %d requests cancelled, want none", n)
	}
	if n := a.served.Load(); n != 2 {
		t.Errorf("the server saw %d requests, want 2", n)
	}
}

func TestRunTimeoutIsAnError(t *testing.T) {
	a := newApp(t)
	got := run(t, loadtest.Config{Concurrency: 1, Duration: 3 * time.Second, Requests: 2, Timeout: 50 * time.Millisecond},
		loadtest.Single(target("hang", a.URL+"/hang")))
	if s := got.Total; s.Requests != 2 || s.TransportErrors != 2 {
		t.Errorf("requests %d, transport errors %d; want 2 timeouts (first error %q)", s.Requests, s.TransportErrors, s.FirstError)
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	a := newApp(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	began := time.Now()
	rep, err := loadtest.Run(ctx, loadtest.Config{Concurrency: 2, Duration: time.Minute},
		loadtest.Single(target("ok", a.URL+"/ok")))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run error = %v, want %v", err, context.DeadlineExceeded)
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("Run took %v after its context ended at 200 ms", took)
	}
	if len(rep.Runs) != 1 || rep.Runs[0].Total.Requests == 0 {
		t.Errorf("runs %+v: want the partial run, with requests", rep.Runs)
	}
}

func TestRunSendsHeaderBodyAndURLs(t *testing.T) {
	a := newApp(t)
	got := run(t, loadtest.Config{Concurrency: 4, Requests: 60, Duration: time.Minute}, loadtest.Mix{
		{Target: loadtest.Target{Name: "htmx", URL: a.URL + "/htmx", Header: http.Header{"Hx-Request": {"true"}}}, Weight: 1},
		{Target: loadtest.Target{Name: "post", Method: http.MethodPost, URL: a.URL + "/echo", Body: []byte("abc")}, Weight: 1},
		{Target: loadtest.Target{Name: "search", URLs: func(i int) string {
			return a.URL + "/ok?q=" + strconv.Itoa(i)
		}}, Weight: 1},
	})
	for _, s := range got.Targets {
		if s.Requests != 20 || s.Errors != 0 {
			t.Errorf("%s: %d requests, %d errors (%v); want 20, none", s.Name, s.Requests, s.Errors, s.Statuses)
		}
	}
	if got, want := got.Targets[1].Bytes, int64(20*len("abc")); got != want {
		t.Errorf("post echoed %d bytes, want %d", got, want)
	}
	for i := range 20 {
		if n := a.count("/ok?q=" + strconv.Itoa(i)); n != 1 {
			t.Errorf("/ok?q=%d requested %d times, want once", i, n)
		}
	}
}

func TestRunRefusesNonLoopback(t *testing.T) {
	a := newApp(t)
	cfg := loadtest.Config{Concurrency: 1, Duration: time.Second}
	tests := []struct {
		name string
		give loadtest.Target
	}{
		{name: "IP", give: target("x", "http://192.0.2.1/")},
		{name: "name", give: target("x", "http://example.com/")},
		{name: "private", give: target("x", "http://10.0.0.1:8080/")},
		{name: "unspecified", give: target("x", "http://0.0.0.0:8080/")},
		{name: "URLs", give: loadtest.Target{Name: "x", URLs: func(int) string { return "http://192.0.2.1/" }}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadtest.Run(context.Background(), cfg, loadtest.Single(tt.give))
			if !errors.Is(err, loadtest.ErrNotLoopback) {
				t.Errorf("Run error = %v, want %v", err, loadtest.ErrNotLoopback)
			}
		})
	}

	t.Run("redirect, default client", func(t *testing.T) {
		// Not followed: the 302 is the measured answer, an error.
		got := run(t, loadtest.Config{Concurrency: 1, Requests: 3, Duration: 5 * time.Second},
			loadtest.Single(target("away", a.URL+"/away")))
		if s := got.Total; s.Statuses[http.StatusFound] != 3 || s.Errors != 3 {
			t.Errorf("statuses %v, errors %d; want 3 × 302, 3 errors", s.Statuses, s.Errors)
		}
	})
	t.Run("redirect, own client", func(t *testing.T) {
		got := run(t, loadtest.Config{Concurrency: 1, Requests: 3, Duration: 5 * time.Second, Client: &http.Client{}},
			loadtest.Single(target("away", a.URL+"/away")))
		if s := got.Total; s.TransportErrors != 3 || !strings.Contains(s.FirstError, "not a loopback") {
			t.Errorf("transport errors %d (first %q); want 3 refusals to follow", s.TransportErrors, s.FirstError)
		}
	})
}

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		give string
		want error
	}{
		{give: "http://127.0.0.1:8080/", want: nil},
		{give: "https://127.0.0.53/x", want: nil},
		{give: "http://[::1]:8080/", want: nil},
		{give: "http://localhost:8080/?q=1", want: nil},
		{give: "http://LOCALHOST/", want: nil},
		{give: "http://[::ffff:127.0.0.1]/", want: nil},
		{give: "http://example.com/", want: loadtest.ErrNotLoopback},
		{give: "http://localhost.example.com/", want: loadtest.ErrNotLoopback},
		{give: "http://127.0.0.1.nip.io/", want: loadtest.ErrNotLoopback},
		{give: "http://192.168.1.1/", want: loadtest.ErrNotLoopback},
		{give: "http://[::]:80/", want: loadtest.ErrNotLoopback},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			if got := loadtest.CheckLoopback(tt.give); !errors.Is(got, tt.want) {
				t.Errorf("CheckLoopback(%q) = %v, want %v", tt.give, got, tt.want)
			}
		})
	}
	for _, give := range []string{"ftp://127.0.0.1/", "127.0.0.1:8080", "http://%zz/"} {
		if err := loadtest.CheckLoopback(give); err == nil {
			t.Errorf("CheckLoopback(%q) = nil, want an error", give)
		}
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	ok := loadtest.Single(target("ok", "http://127.0.0.1:1/"))
	good := loadtest.Config{Concurrency: 1, Duration: time.Second}
	tests := []struct {
		name string
		cfg  func(*loadtest.Config)
		mix  loadtest.Mix
	}{
		{name: "no concurrency", cfg: func(c *loadtest.Config) { c.Concurrency = 0 }, mix: ok},
		{name: "too many workers", cfg: func(c *loadtest.Config) { c.Concurrency = loadtest.MaxConcurrency + 1 }, mix: ok},
		{name: "no duration", cfg: func(c *loadtest.Config) { c.Duration = 0 }, mix: ok},
		{name: "over 30 minutes", cfg: func(c *loadtest.Config) { c.Duration, c.Warmup = 29*time.Minute, 2*time.Minute }, mix: ok},
		{name: "negative warmup", cfg: func(c *loadtest.Config) { c.Warmup = -time.Second }, mix: ok},
		{name: "negative requests", cfg: func(c *loadtest.Config) { c.Requests = -1 }, mix: ok},
		{name: "empty mix", mix: nil},
		{name: "zero weight", mix: loadtest.Mix{{Target: target("a", "http://127.0.0.1:1/")}}},
		{name: "same name twice", mix: append(ok, ok...)},
		{name: "URLs without a name", mix: loadtest.Single(loadtest.Target{URLs: func(int) string { return "" }})},
		{name: "bad URL", mix: loadtest.Single(target("bad", "http://127.0.0.1:1/%zz"))},
		{name: "weights too heavy", mix: loadtest.Mix{{Target: target("a", "http://127.0.0.1:1/"), Weight: loadtest.MaxTotalWeight + 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			began := time.Now()
			_, err := loadtest.Run(context.Background(), cfg, tt.mix)
			if !errors.Is(err, loadtest.ErrConfig) {
				t.Errorf("Run error = %v, want %v", err, loadtest.ErrConfig)
			}
			if took := time.Since(began); took > time.Second/2 {
				t.Errorf("Run took %v to refuse: it must refuse before loading", took)
			}
		})
	}
}

func TestBareEcho(t *testing.T) {
	url, stop := loadtest.BareEcho()
	if err := loadtest.CheckLoopback(url); err != nil {
		t.Fatalf("BareEcho URL %q: %v", url, err)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "Hello, World!" {
		t.Errorf("GET %s = %d %q, want 200 %q", url, resp.StatusCode, body, "Hello, World!")
	}
	stop()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := client.Get(url); err == nil {
		resp.Body.Close()
		t.Errorf("GET %s after stop answered %s, want a refused connection", url, resp.Status)
	}
}

func TestCompare(t *testing.T) {
	a := newApp(t)
	cfg := loadtest.Config{Concurrency: 2, Duration: 200 * time.Millisecond, Warmup: 50 * time.Millisecond}
	rep, err := loadtest.Compare(context.Background(), cfg,
		loadtest.Single(target("ok", a.URL+"/ok")),
		loadtest.Mix{
			{Target: target("ok2", a.URL+"/ok"), Weight: 2},
			{Target: target("poll", a.URL+"/poll"), Weight: 1},
		})
	if err != nil {
		t.Fatalf("Compare: %v", err)
	}
	if rep.Baseline == nil || rep.Baseline.Requests == 0 || rep.Baseline.Name != loadtest.BaselineName {
		t.Fatalf("baseline = %+v, want the bare Echo run", rep.Baseline)
	}
	if len(rep.Runs) != 2 {
		t.Fatalf("%d runs, want 2", len(rep.Runs))
	}
	for _, name := range []string{"ok", "ok2+poll"} {
		if r, ok := rep.Ratio(name); !ok || r <= 0 {
			t.Errorf("Ratio(%q) = %v, %v; want a positive ratio", name, r, ok)
		}
	}
	if _, ok := rep.Ratio("nope"); ok {
		t.Error(`Ratio("nope") found something`)
	}
	md := rep.Markdown()
	for _, want := range []string{"| target |", "% of bare Echo", "| bare Echo (baseline) |", "| ok |", "| ok2 (in mix) |", "**mix: ok2+poll**", "Concurrency 2", "in the load generator's process"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
}
