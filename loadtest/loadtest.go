// Package loadtest measures HTTP endpoints under concurrent load and compares
// them with a bare Echo handler measured in the same run, on the same
// machine, a moment earlier: absolute requests per second drift from run to
// run on a shared machine, the ratio to the bare framework is the figure to
// compare across runs and across changes.
//
// A run is closed-loop: Concurrency workers each send a request, read the
// whole response, record it, and send the next, for Duration (after an
// unrecorded Warmup) or until Requests have been sent. A Mix spreads the
// requests over several targets by weight, e.g. a page, its search and its
// badge polling:
//
//	rep, err := loadtest.Compare(ctx, loadtest.Config{Concurrency: 8, Duration: 10 * time.Second},
//		loadtest.Mix{
//			{Target: loadtest.Target{Name: "list", URL: app + "/"}, Weight: 3},
//			{Target: loadtest.Target{Name: "badge", URL: app + "/images/x/status",
//				Header: http.Header{"Hx-Request": {"true"}}}, Weight: 1},
//		})
//	fmt.Print(rep.Markdown())
//
// Compare runs the baseline in this process, which suits a server in this
// process too (a Go test or benchmark); for a server in another process use
// a bare Echo in another process (`loadtest bare-echo`) and CompareWith, as
// cmd/loadtest does: see BareEcho for why it matters.
//
// Load goes only to loopback addresses unless Config.AllowRemote is set; see
// ErrNotLoopback for why.
package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Bounds every Run enforces, whatever the caller asks for.
const (
	// MaxDuration caps Warmup + Duration of one Run.
	MaxDuration = 30 * time.Minute
	// MaxRequests caps the requests of one Run, warmup included.
	MaxRequests = 100_000_000
	// MaxConcurrency caps the workers of one Run.
	MaxConcurrency = 1024
	// MaxTotalWeight caps the sum of a Mix's weights.
	MaxTotalWeight = 10_000
	// Drain is how long a run waits, after it stops sending, for the
	// requests in flight before it cancels them. They are not counted (they
	// end outside the measured window); the wait spares the server a burst
	// of client disconnects, which it may log as errors.
	Drain = time.Second
)

// StatusStopPolling is the status htmx reads as "stop polling"; Run counts it
// as a success.
const StatusStopPolling = 286

// ErrConfig is wrapped by every error about an invalid Config or Mix.
var ErrConfig = errors.New("invalid load test")

// Target is one kind of request.
type Target struct {
	// Name labels the target in the report; "" → the URL's path and query.
	// Names are unique within a Mix.
	Name string
	// Method is the HTTP method; "" → GET.
	Method string
	// URL is requested every time, unless URLs is set.
	URL string
	// URLs, when set, gives the URL of the target's i-th request (i counts
	// from 0, warmup included), e.g. to vary a search word; URL is then
	// ignored. It is called from all workers at once, so it must be safe
	// for concurrent use, and cheap: it runs before the latency clock starts
	// but on the workers' time. A URL it returns that is not loopback stops
	// the run with ErrNotLoopback (unless AllowRemote).
	URLs func(i int) string
	// Header is sent with every request (copied per request). A "Host"
	// entry sets the request's Host.
	Header http.Header
	// Body is sent with every request; nil sends none.
	Body []byte
}

// WeightedTarget is a Target and its share of a Mix.
type WeightedTarget struct {
	Target
	// Weight is the target's share of the requests, relative to the other
	// weights of the Mix; at least 1.
	Weight int
}

// Mix is the set of targets one Run spreads its requests over. Requests go
// to the targets in a fixed interleaved order (smooth weighted round robin),
// so with weights 3 and 1 exactly three of every four requests go to the
// first target.
type Mix []WeightedTarget

// Single is a Mix of one target.
func Single(t Target) Mix { return Mix{{Target: t, Weight: 1}} }

// Config says how hard and how long to load.
type Config struct {
	// Concurrency is the number of workers, each with at most one request in
	// flight; 1..MaxConcurrency.
	Concurrency int
	// Duration is the measured time; required (> 0), and the bound of the
	// run even when Requests is set. Warmup + Duration ≤ MaxDuration; a run
	// returns at most Drain after it.
	Duration time.Duration
	// Requests, when > 0, ends the run once that many measured requests
	// have been sent (it may still end earlier, at Duration); 0 runs for
	// Duration.
	Requests int
	// Warmup is spent sending requests that are not recorded, before the
	// measured Duration: connections open, caches fill, the server's
	// goroutines and the GC settle.
	Warmup time.Duration
	// Timeout bounds one request, body included; a request over it counts
	// as an error. 0 → 30 s.
	Timeout time.Duration
	// Client sends the requests; nil → a keep-alive client with
	// MaxIdleConnsPerHost = Concurrency, no proxy, no redirects followed,
	// no transparent gzip, that dials loopback addresses only. A given
	// client is used as is, except that redirects off loopback are refused
	// (unless AllowRemote).
	Client *http.Client
	// AllowRemote permits URLs that are not loopback. Nothing in this
	// project sets it: the workplace allows load only on loopback (see
	// ErrNotLoopback).
	AllowRemote bool
}

// Stats are the figures of one target, or of all the targets of a run
// together.
type Stats struct {
	Name string
	// Requests is the number of requests that completed in the measured
	// window, errors included; RPS is Requests per second of the window.
	Requests int
	RPS      float64
	// Errors counts the requests that failed in transport (refused, reset,
	// timed out) or answered a status other than 2xx; 286 is a success.
	Errors int
	// TransportErrors is the part of Errors without a response; FirstError
	// is the first such error's text.
	TransportErrors int
	FirstError      string
	// Statuses counts the responses by HTTP status.
	Statuses map[int]int
	// Unfinished counts the requests still in flight when the run ended
	// (Drain after it stopped sending) or was cancelled; they are in neither
	// Requests nor Errors.
	Unfinished int
	// Bytes is the total size of the response bodies read.
	Bytes int64
	// Latency of the completed requests, errors included, from sending the
	// request to reading the last byte of the body. Percentiles are
	// nearest-rank, within 0.4%; Mean and Max are exact.
	Mean, P50, P90, P95, P99, Max time.Duration
}

// RunStats are the figures of one Run.
type RunStats struct {
	// Targets are in the order of the Mix.
	Targets []Stats
	// Total is all the targets together, named after them ("list+search");
	// for a Mix of one target it equals Targets[0].
	Total Stats
	// Elapsed is the measured window: Duration, or less when Requests ended
	// the run first.
	Elapsed time.Duration
}

// Report is the result of one or more runs with one Config, and the machine
// they ran on.
type Report struct {
	Config Config
	// Date is when the first run started.
	Date       time.Time
	GoVersion  string // runtime.Version()
	Platform   string // GOOS/GOARCH
	GOMAXPROCS int
	NumCPU     int
	// Baseline is the bare Echo handler measured with the same Config, when
	// it was (Compare, CompareWith); Markdown then adds "% of bare Echo".
	// BaselineWhere says where its server ran, e.g. "in a separate process".
	Baseline      *Stats
	BaselineWhere string
	Runs          []RunStats
}

// Ratio is the throughput of the target or run total called name (the first
// found) divided by the baseline's; false without a baseline or such a name.
func (r Report) Ratio(name string) (float64, bool) {
	if r.Baseline == nil || r.Baseline.RPS == 0 {
		return 0, false
	}
	s, ok := r.Stats(name)
	if !ok {
		return 0, false
	}
	return s.RPS / r.Baseline.RPS, true
}

// Stats is the target or run total called name (the first found).
func (r Report) Stats(name string) (Stats, bool) {
	for _, run := range r.Runs {
		for _, s := range run.Targets {
			if s.Name == name {
				return s, true
			}
		}
		if run.Total.Name == name {
			return run.Total, true
		}
	}
	return Stats{}, false
}

// Errors is the number of errors over all runs, baseline included.
func (r Report) Errors() int {
	n := 0
	if r.Baseline != nil {
		n += r.Baseline.Errors
	}
	for _, run := range r.Runs {
		n += run.Total.Errors
	}
	return n
}

func newReport(cfg Config, date time.Time) Report {
	return Report{
		Config:     cfg,
		Date:       date,
		GoVersion:  runtime.Version(),
		Platform:   runtime.GOOS + "/" + runtime.GOARCH,
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		NumCPU:     runtime.NumCPU(),
	}
}

// Run loads the targets of mix with cfg and returns a Report of one run.
//
// It returns an error wrapping ErrConfig, before sending anything, for an
// invalid cfg or mix, and one wrapping ErrNotLoopback for a URL off loopback
// (unless cfg.AllowRemote). It stops sending at Warmup + Duration at the
// latest, and returns at most Drain later (requests still in flight then are
// cancelled and counted as Unfinished); or when ctx is done, at once, with
// what it measured so far and ctx's error.
func Run(ctx context.Context, cfg Config, mix Mix) (Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Report{}, err
	}
	targets, err := prepare(mix, cfg.AllowRemote)
	if err != nil {
		return Report{}, err
	}
	client := cfg.Client
	switch {
	case client == nil:
		client = newClient(cfg.Concurrency, cfg.AllowRemote)
		defer client.CloseIdleConnections()
	case !cfg.AllowRemote:
		client = guardRedirects(client)
	}

	start := time.Now()
	r := &runner{
		cfg:          cfg,
		client:       client,
		targets:      targets,
		order:        interleave(mix),
		measureStart: start.Add(cfg.Warmup),
		measureEnd:   start.Add(cfg.Warmup + cfg.Duration),
	}
	runCtx, cancel := context.WithDeadline(ctx, r.measureEnd.Add(Drain))
	defer cancel()
	r.abort = cancel

	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Go(func() { r.work(runCtx) })
	}
	wg.Wait()
	end := time.Now()
	if end.After(r.measureEnd) {
		end = r.measureEnd
	}

	rep := newReport(cfg, start)
	rep.Runs = []RunStats{r.stats(max(end.Sub(r.measureStart), 0))}
	if err := r.err(); err != nil {
		return rep, err
	}
	return rep, ctx.Err()
}

func (c Config) withDefaults() (Config, error) {
	switch {
	case c.Concurrency < 1 || c.Concurrency > MaxConcurrency:
		return c, fmt.Errorf("%w: Concurrency %d is not in 1..%d", ErrConfig, c.Concurrency, MaxConcurrency)
	case c.Duration <= 0:
		return c, fmt.Errorf("%w: Duration must be positive (it bounds every run)", ErrConfig)
	case c.Warmup < 0:
		return c, fmt.Errorf("%w: negative Warmup", ErrConfig)
	case c.Warmup+c.Duration > MaxDuration:
		return c, fmt.Errorf("%w: Warmup + Duration = %s is over %s", ErrConfig, c.Warmup+c.Duration, MaxDuration)
	case c.Requests < 0 || c.Requests > MaxRequests:
		return c, fmt.Errorf("%w: Requests %d is not in 0..%d", ErrConfig, c.Requests, MaxRequests)
	case c.Timeout < 0:
		return c, fmt.Errorf("%w: negative Timeout", ErrConfig)
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	return c, nil
}

// target is a Target ready to send, with what was recorded of it.
type target struct {
	Target
	seq atomic.Int64 // the i passed to URLs

	mu         sync.Mutex
	hist       histogram
	statuses   map[int]int
	errors     int
	transport  int
	firstError string
	unfinished int
	bytes      int64
}

func prepare(mix Mix, remote bool) ([]*target, error) {
	if len(mix) == 0 {
		return nil, fmt.Errorf("%w: the mix has no targets", ErrConfig)
	}
	total := 0
	seen := map[string]bool{}
	targets := make([]*target, len(mix))
	for i, wt := range mix {
		t := wt.Target
		if wt.Weight < 1 {
			return nil, fmt.Errorf("%w: target %d (%q): weight %d is not positive", ErrConfig, i, t.Name, wt.Weight)
		}
		total += wt.Weight
		if total > MaxTotalWeight {
			return nil, fmt.Errorf("%w: the weights add up to more than %d", ErrConfig, MaxTotalWeight)
		}
		if t.Method == "" {
			t.Method = http.MethodGet
		}
		if t.URLs == nil {
			req, err := http.NewRequest(t.Method, t.URL, nil)
			if err != nil {
				return nil, fmt.Errorf("%w: target %d (%q): %w", ErrConfig, i, t.Name, err)
			}
			if !remote {
				if err := checkLoopbackURL(req.URL); err != nil {
					return nil, err
				}
			}
			if t.Name == "" {
				t.Name = req.URL.RequestURI()
			}
		}
		if t.Name == "" {
			return nil, fmt.Errorf("%w: target %d: a target with URLs needs a Name", ErrConfig, i)
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("%w: two targets are named %q", ErrConfig, t.Name)
		}
		seen[t.Name] = true
		targets[i] = &target{Target: t, statuses: map[int]int{}}
	}
	return targets, nil
}

// interleave spreads the mix's targets over one cycle of sum(weights)
// requests, each target as evenly as it can (smooth weighted round robin).
func interleave(mix Mix) []int {
	total := 0
	for _, wt := range mix {
		total += wt.Weight
	}
	current := make([]int, len(mix))
	order := make([]int, 0, total)
	for range total {
		best := 0
		for i, wt := range mix {
			current[i] += wt.Weight
			if current[i] > current[best] {
				best = i
			}
		}
		current[best] -= total
		order = append(order, best)
	}
	return order
}

type runner struct {
	cfg                      Config
	client                   *http.Client
	targets                  []*target
	order                    []int
	measureStart, measureEnd time.Time

	sent     atomic.Int64 // every request, warmup included
	measured atomic.Int64 // measured requests, for Config.Requests
	abort    context.CancelFunc
	errOnce  sync.Once
	firstErr error
}

func (r *runner) fail(err error) {
	r.errOnce.Do(func() {
		r.firstErr = err
		r.abort()
	})
}

// err is the error that stopped the run early, if any; call it only after
// every worker has returned.
func (r *runner) err() error { return r.firstErr }

// work is one closed-loop worker; it returns at the end of the run, bounded
// by measureEnd, ctx and MaxRequests.
func (r *runner) work(ctx context.Context) {
	for ctx.Err() == nil {
		now := time.Now()
		if !now.Before(r.measureEnd) {
			return
		}
		measuring := !now.Before(r.measureStart)
		if measuring && r.cfg.Requests > 0 && r.measured.Add(1) > int64(r.cfg.Requests) {
			return
		}
		n := r.sent.Add(1) - 1
		if n >= MaxRequests {
			return
		}
		t := r.targets[r.order[n%int64(len(r.order))]]
		r.send(ctx, t, measuring)
	}
}

// send makes one request to t and, when measuring, records it.
func (r *runner) send(ctx context.Context, t *target, measuring bool) {
	rawURL := t.URL
	if t.URLs != nil {
		rawURL = t.URLs(int(t.seq.Add(1) - 1))
	}
	var body io.Reader
	if t.Body != nil {
		body = bytes.NewReader(t.Body)
	}
	reqCtx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(reqCtx, t.Method, rawURL, body)
	if err != nil {
		r.fail(fmt.Errorf("target %q: %w", t.Name, err))
		return
	}
	if t.URLs != nil && !r.cfg.AllowRemote {
		if err := checkLoopbackURL(req.URL); err != nil {
			r.fail(fmt.Errorf("target %q: %w", t.Name, err))
			return
		}
	}
	if t.Header != nil {
		req.Header = t.Header.Clone() // the client may add to it (cookies)
		if h := req.Header.Get("Host"); h != "" {
			req.Host = h
		}
	}

	began := time.Now()
	status, n, err := r.roundTrip(req)
	ended := time.Now()
	if !measuring {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case err != nil && ctx.Err() != nil:
		t.unfinished++ // cut off by the end of the run, not the server's fault
		return
	case ended.After(r.measureEnd):
		return // finished while draining, outside the measured window
	case err != nil:
		t.transport++
		t.errors++
		if t.firstError == "" {
			t.firstError = err.Error()
		}
	default:
		t.statuses[status]++
		if !success(status) {
			t.errors++
		}
	}
	t.bytes += n
	t.hist.record(ended.Sub(began))
}

// roundTrip sends req and reads the whole body.
func (r *runner) roundTrip(req *http.Request) (status int, n int64, err error) {
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	n, err = io.Copy(io.Discard, resp.Body)
	if err != nil {
		return 0, n, fmt.Errorf("read body: %w", err)
	}
	return resp.StatusCode, n, nil
}

func success(status int) bool {
	return status >= 200 && status < 300 || status == StatusStopPolling
}

func (r *runner) stats(elapsed time.Duration) RunStats {
	run := RunStats{Elapsed: elapsed}
	var all histogram
	names := make([]string, 0, len(r.targets))
	total := Stats{Statuses: map[int]int{}}
	for _, t := range r.targets {
		t.mu.Lock()
		s := Stats{
			Name:            t.Name,
			Errors:          t.errors,
			TransportErrors: t.transport,
			FirstError:      t.firstError,
			Statuses:        t.statuses,
			Unfinished:      t.unfinished,
			Bytes:           t.bytes,
		}
		s.setLatency(&t.hist, elapsed)
		all.merge(&t.hist)
		t.mu.Unlock()
		run.Targets = append(run.Targets, s)

		names = append(names, s.Name)
		total.Errors += s.Errors
		total.TransportErrors += s.TransportErrors
		if total.FirstError == "" {
			total.FirstError = s.FirstError
		}
		for code, c := range s.Statuses {
			total.Statuses[code] += c
		}
		total.Unfinished += s.Unfinished
		total.Bytes += s.Bytes
	}
	total.Name = strings.Join(names, "+")
	total.setLatency(&all, elapsed)
	run.Total = total
	return run
}

func (s *Stats) setLatency(h *histogram, elapsed time.Duration) {
	s.Requests = int(h.n)
	if elapsed > 0 {
		s.RPS = float64(h.n) / elapsed.Seconds()
	}
	s.Mean = h.mean()
	s.P50 = h.percentile(50)
	s.P90 = h.percentile(90)
	s.P95 = h.percentile(95)
	s.P99 = h.percentile(99)
	s.Max = h.max
}
