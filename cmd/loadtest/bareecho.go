package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

const bareEchoUsage = `Usage: loadtest bare-echo [-addr 127.0.0.1:0] [-size N | -like URL]

Serves the ceiling the dashboard's pages are compared with: Echo (the
version the app builds with) with no middleware and one route, GET /,
answering a static text/html body of -size bytes, or of the size of the
page at -like (fetched once, with -header and, with -user, signed in at
-base or else -like's server). What net/http and Echo cost on this machine for a body of the same
size as the page, with nothing of ours. Run it as a process of its own, as
the app is, and measure both with wrk in the same run (BENCHMARKS.md).
Prints "listening on URL" once bound; serves until interrupted.

Example (the ceiling of the 50-row list partial):
  go run ./cmd/loadtest bare-echo -addr 127.0.0.1:18099 -user amir -password imagedash-demo \
      -header 'HX-Request: true' -like 'http://127.0.0.1:8080/?status=READY&limit=50'

Flags:
`

// bareEcho is the ceiling's handler: a static body of size bytes.
func bareEcho(size int) http.Handler {
	body := bytes.Repeat([]byte("x"), size)
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/", func(c echo.Context) error {
		return c.HTMLBlob(http.StatusOK, body)
	})
	return e
}

// runBareEcho is loadtest bare-echo.
func runBareEcho(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet(args[0], bareEchoUsage, stderr)
	addr := fs.String("addr", "127.0.0.1:0", "loopback address to serve on (port 0 picks a free port)")
	size := fs.Int("size", 100<<10, "the body's size in bytes")
	like := fs.String("like", "", "serve a body of the size of this page (overrides -size)")
	var hdr headerList
	fs.Var(&hdr, "header", "a `'Name: value'` header sent to -like (repeatable)")
	var who account
	who.bind(fs, "")
	if err := parse(fs, args); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", *addr, err)
	}
	if err := checkLoopback("http://" + net.JoinHostPort(host, "80")); err != nil {
		return fmt.Errorf("-addr %q: %w", *addr, err)
	}
	if *like != "" {
		who.defaultBase(fs, *like)
		if *size, err = sizeOf(ctx, *like, hdr.h, who, getenv); err != nil {
			return err
		}
	}
	if *size < 0 || *size > 64<<20 {
		return fmt.Errorf("-size %d: want 0..64 MiB", *size)
	}
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: bareEcho(*size), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	fmt.Fprintf(stdout, "listening on http://%s/ (a static body of %d bytes)\n", lis.Addr(), *size)
	select {
	case err := <-served:
		return fmt.Errorf("bare Echo: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil {
		return errors.Join(fmt.Errorf("bare Echo: shut down: %w", err), srv.Close())
	}
	return nil
}

// sizeOf is the length of the page at target's body.
func sizeOf(ctx context.Context, target string, hdr map[string][]string, who account, getenv func(string) string) (int, error) {
	if err := checkLoopback(target); err != nil {
		return 0, err
	}
	if err := who.check(getenv, false); err != nil {
		return 0, err
	}
	h := http.Header(hdr).Clone()
	if h == nil {
		h = http.Header{}
	}
	if who.user != "" {
		s, err := signIn(ctx, who.base, who.user, who.password)
		if err != nil {
			return 0, err
		}
		h = s.header(h)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return 0, err
	}
	req.Header = h
	client := &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("-like: %w", err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("-like %s: %s, want 200 (sign in with -user?)", target, resp.Status)
	}
	return int(n), err
}
