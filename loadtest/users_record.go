package loadtest

import (
	"fmt"
	"sync"
	"time"
)

// recorder holds the figures of the endpoints by name. Safe for concurrent
// use.
type recorder struct {
	mu      sync.Mutex
	eps     map[string]*endpointRec
	errors  int    // over every endpoint
	problem string // the last error or unexpected status, for people
}

// errorCount is the number of errors recorded so far.
func (r *recorder) errorCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.errors
}

// lastProblem describes the last error recorded.
func (r *recorder) lastProblem() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.problem
}

type endpointRec struct {
	hist       histogram
	statuses   map[int]int
	errors     int
	transport  int
	firstError string
	bytes      int64
}

func newRecorder() *recorder { return &recorder{eps: map[string]*endpointRec{}} }

func (r *recorder) record(name string, d time.Duration, status int, n int64, err error, ok func(int) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.eps[name]
	if e == nil {
		e = &endpointRec{statuses: map[int]int{}}
		r.eps[name] = e
	}
	switch {
	case err != nil:
		e.transport++
		e.errors++
		r.errors++
		r.problem = name + ": " + err.Error()
		if e.firstError == "" {
			e.firstError = err.Error()
		}
	default:
		e.statuses[status]++
		if !ok(status) {
			e.errors++
			r.errors++
			r.problem = fmt.Sprintf("%s: status %d", name, status)
		}
	}
	e.bytes += n
	e.hist.record(d)
}

// stats is one endpoint's figures over elapsed.
func (r *recorder) stats(name string, elapsed time.Duration) Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Stats{Name: name, Statuses: map[int]int{}}
	if e := r.eps[name]; e != nil {
		r.fill(&s, e, elapsed)
	}
	return s
}

func (r *recorder) fill(s *Stats, e *endpointRec, elapsed time.Duration) {
	s.Errors, s.TransportErrors, s.FirstError, s.Bytes = e.errors, e.transport, e.firstError, e.bytes
	for code, n := range e.statuses {
		s.Statuses[code] = n
	}
	s.setLatency(&e.hist, elapsed)
}

// all is every endpoint with requests, in report order, and their total.
func (r *recorder) all(elapsed time.Duration) ([]Stats, Stats) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Stats
	var hist histogram
	total := Stats{Name: "total", Statuses: map[int]int{}}
	for _, name := range endpointOrder {
		e := r.eps[name]
		if e == nil {
			continue
		}
		s := Stats{Name: name, Statuses: map[int]int{}}
		r.fill(&s, e, elapsed)
		out = append(out, s)
		hist.merge(&e.hist)
		total.Errors += s.Errors
		total.TransportErrors += s.TransportErrors
		if total.FirstError == "" {
			total.FirstError = s.FirstError
		}
		for code, n := range s.Statuses {
			total.Statuses[code] += n
		}
		total.Bytes += s.Bytes
	}
	total.setLatency(&hist, elapsed)
	return out, total
}
