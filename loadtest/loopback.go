package loadtest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrNotLoopback is returned for a URL or an address outside the loopback
// network when Config.AllowRemote is not set.
//
// Why the refusal: a load test is a flood of requests, and the places this
// project is developed in allow that only against the machine itself
// (127.0.0.0/8, ::1). A mistyped host must fail before the first request,
// not after a few thousand reached someone else's server.
var ErrNotLoopback = errors.New("not a loopback address (loadtest sends load only to 127.0.0.0/8, ::1 and localhost unless Config.AllowRemote is set)")

// CheckLoopback returns nil when rawURL is an http or https URL whose host
// is a loopback IP literal or "localhost", and an error wrapping
// ErrNotLoopback otherwise.
func CheckLoopback(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("URL %q: %w", rawURL, err)
	}
	return checkLoopbackURL(u)
}

func checkLoopbackURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("URL %q: scheme must be http or https", u.Redacted())
	}
	if !loopbackHost(u.Hostname()) {
		return fmt.Errorf("URL %q: %w", u.Redacted(), ErrNotLoopback)
	}
	return nil
}

// loopbackHost reports whether host (no port, no brackets) is a loopback IP
// literal or localhost. Other names are refused: what they resolve to is not
// ours to trust.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// guardDial refuses, before connecting, any socket whose resolved address is
// not loopback: "localhost" resolving somewhere else, or a redirect, cannot
// get past it. It is the Control hook of the default client's dialer.
func guardDial(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Unmap().IsLoopback() {
		return fmt.Errorf("dial %s: %w", address, ErrNotLoopback)
	}
	return nil
}

// newClient is the client Run uses when Config.Client is nil: keep-alive
// with one idle connection per worker, no proxy, no redirects followed (a
// 3xx is measured as the answer it is), no transparent gzip (add an
// Accept-Encoding header to a Target to measure compressed responses), and,
// unless remote is set, a dialer that connects to loopback addresses only.
func newClient(concurrency int, remote bool) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !remote {
		dialer.Control = guardDial
	}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         dialer.DialContext,
			MaxIdleConns:        0, // no overall limit; the per-host one applies
			MaxIdleConnsPerHost: concurrency,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
			ForceAttemptHTTP2:   false,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// guardRedirects returns a copy of c that refuses to follow a redirect off
// loopback, then applies c's own redirect policy (or the standard one).
func guardRedirects(c *http.Client) *http.Client {
	guarded := *c
	next := c.CheckRedirect
	guarded.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := checkLoopbackURL(req.URL); err != nil {
			return err
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &guarded
}
