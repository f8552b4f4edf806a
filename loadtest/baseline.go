package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// BaselineName names the bare Echo handler in reports.
const BaselineName = "bare Echo"

// BareEchoHandler is the baseline server's handler: Echo — the version the
// app builds with — with no middleware and one route, GET /, answering
// "Hello, World!". It is the ceiling the app's pages are compared with: what
// Echo and net/http cost on this machine, at this moment, with nothing of
// ours.
func BareEchoHandler() http.Handler {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.GET("/", func(c echo.Context) error {
		return c.String(http.StatusOK, "Hello, World!")
	})
	return e
}

// ServeBareEcho serves BareEchoHandler on lis until ctx is done, then shuts
// down (5 s for requests in flight). It is what `loadtest bare-echo` runs.
func ServeBareEcho(ctx context.Context, lis net.Listener) error {
	srv := &http.Server{Handler: BareEchoHandler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	select {
	case err := <-served:
		return fmt.Errorf("bare Echo: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return errors.Join(fmt.Errorf("bare Echo: shut down: %w", err), srv.Close())
	}
	return nil
}

// BareEcho starts BareEchoHandler in this process on 127.0.0.1 and a free
// port, and returns its URL and a function that shuts it down. Like
// httptest.NewServer, it panics when it cannot listen.
//
// In-process is the right baseline for a server that also runs in the
// process generating the load (a Go test or benchmark with the app behind
// httptest). A server in another process is slower on the same machine —
// two runtimes share the cores, and every request crosses between them; on
// 2 cores the same handler measured about 45% of its in-process rate — so
// compare such a server with a bare Echo in another process too, as
// cmd/loadtest does (CompareWith).
func BareEcho() (url string, stop func()) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("loadtest: bare Echo: listen on 127.0.0.1:0: %v", err))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Any failure shows in the run as transport errors.
		_ = ServeBareEcho(ctx, lis)
	}()
	stop = func() {
		cancel()
		<-done
	}
	return "http://" + lis.Addr().String() + "/", stop
}

// Compare measures an in-process bare Echo (BareEcho) with cfg, then each
// mix in turn with the same cfg, and returns them in one Report with
// Baseline set. Use it when the server measured runs in this process too;
// see BareEcho.
func Compare(ctx context.Context, cfg Config, mixes ...Mix) (Report, error) {
	if err := validate(cfg, mixes); err != nil {
		return Report{}, err
	}
	url, stop := BareEcho()
	defer stop()
	return CompareWith(ctx, cfg, url, "in the load generator's process", mixes...)
}

// CompareWith is Compare with the baseline server already running at
// baselineURL, e.g. `loadtest bare-echo` in another process; where says
// where it runs, for the report ("in a separate process"). Each run lasts
// cfg.Warmup + cfg.Duration at most, so CompareWith lasts (1 + len(mixes))
// times that. It stops at the first error; the Report then holds the runs
// done so far.
func CompareWith(ctx context.Context, cfg Config, baselineURL, where string, mixes ...Mix) (Report, error) {
	if err := validate(cfg, mixes); err != nil {
		return Report{}, err
	}
	cfg, _ = cfg.withDefaults()
	base, err := Run(ctx, cfg, Single(Target{Name: BaselineName, URL: baselineURL}))
	rep := newReport(cfg, base.Date)
	rep.BaselineWhere = where
	if len(base.Runs) == 1 {
		rep.Baseline = &base.Runs[0].Total
	}
	if err != nil {
		return rep, fmt.Errorf("baseline: %w", err)
	}
	for _, mix := range mixes {
		r, err := Run(ctx, cfg, mix)
		rep.Runs = append(rep.Runs, r.Runs...)
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// validate checks everything before the baseline's time is spent.
func validate(cfg Config, mixes []Mix) error {
	if len(mixes) == 0 {
		return fmt.Errorf("%w: nothing to compare with the baseline", ErrConfig)
	}
	if _, err := cfg.withDefaults(); err != nil {
		return err
	}
	for _, mix := range mixes {
		if _, err := prepare(mix, cfg.AllowRemote); err != nil {
			return err
		}
	}
	return nil
}
