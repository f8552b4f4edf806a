package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/handlers"
)

// readyProbe is the cached answer of Deps.Ready. A probe asks the cloud,
// and /readyz is public: without a cache every anonymous hit would be a
// cloud call. So there is at most one call per interval whatever the load:
// a result younger than the interval is served as is, and callers arriving
// while a call is under way wait for that one call (they share it).
//
// It owns its state under mu: the last result and when it was taken (the
// injected clock), and the channel of the call in flight, closed when it
// ends. The detail of a failure goes to the log once per change of state
// (ready ↔ not ready), not per hit.
type readyProbe struct {
	ready    func(context.Context) error
	now      func() time.Time
	interval time.Duration
	log      *slog.Logger

	mu       sync.Mutex
	have     bool
	at       time.Time
	err      error
	inflight chan struct{}
	logged   bool // a result was logged or was "ready" from the start
	wasReady bool
}

func newReadyProbe(ready func(context.Context) error, now func() time.Time, interval time.Duration, log *slog.Logger) *readyProbe {
	if now == nil {
		now = time.Now
	}
	if interval <= 0 {
		interval = 5 * time.Second
	}
	return &readyProbe{ready: ready, now: now, interval: interval, log: log}
}

// check is the current readiness: nil, or why not.
func (p *readyProbe) check(ctx context.Context) error {
	if p.ready == nil {
		return nil
	}
	p.mu.Lock()
	if p.have && p.now().Sub(p.at) < p.interval {
		err := p.err
		p.mu.Unlock()
		return err
	}
	if ch := p.inflight; ch != nil {
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.err
	}
	ch := make(chan struct{})
	p.inflight = ch
	p.mu.Unlock()

	// Not the first caller's context: it may hang up, and the others wait
	// for this call. Ready bounds its own time (main gives it 3 s).
	err := p.call(context.WithoutCancel(ctx))

	p.mu.Lock()
	defer p.mu.Unlock()
	p.have, p.at, p.err, p.inflight = true, p.now(), err, nil
	close(ch)
	switch {
	case err != nil && (!p.logged || p.wasReady):
		p.log.WarnContext(ctx, "not ready", "err", err)
	case err == nil && p.logged && !p.wasReady:
		p.log.InfoContext(ctx, "ready again")
	}
	p.logged, p.wasReady = true, err == nil
	return err
}

// call runs the check; a panic in it is its answer, so that the probe's
// in-flight call always ends and later callers are not left waiting.
func (p *readyProbe) call(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("readiness check panicked: %v", r)
		}
	}()
	return p.ready(ctx)
}

// readyz says whether the app can serve requests now: "ok", or 503
// "unavailable". Only a signed-in admin reads why (the cloud's error names
// endpoints and internals); everyone else gets the word.
func readyz(p *readyProbe) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		err := p.check(ctx)
		if err == nil {
			return c.String(http.StatusOK, "ok")
		}
		if v, ok := handlers.ViewerFrom(ctx); ok && v.User.Admin {
			return c.String(http.StatusServiceUnavailable, "unavailable: "+err.Error())
		}
		return c.String(http.StatusServiceUnavailable, "unavailable")
	}
}
