package web

import (
	"net"
	"net/netip"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/fault"
)

// hostPolicy is the set of Host names the dashboard answers to. It stops
// DNS rebinding: a page on evil.example whose name the attacker then points
// at 127.0.0.1 makes the victim's browser send the dashboard requests that
// are same-origin for evil.example (so CSRF and CORS checks see nothing
// wrong) but still say Host: evil.example. Built once in New, read-only.
type hostPolicy struct {
	names map[string]bool
	addrs map[netip.Addr]bool
}

// newHostPolicy accepts localhost, every loopback address and the given
// hosts (names or address literals, with or without a port).
func newHostPolicy(hosts []string) hostPolicy {
	p := hostPolicy{names: map[string]bool{"localhost": true}, addrs: map[netip.Addr]bool{}}
	for _, h := range hosts {
		name := normalHost(h)
		if a, err := netip.ParseAddr(name); err == nil {
			p.addrs[a.Unmap()] = true
		} else if name != "" {
			p.names[name] = true
		}
	}
	return p
}

// allows tells whether a request's Host (any port) is one of ours.
func (p hostPolicy) allows(host string) bool {
	name := normalHost(host)
	if a, err := netip.ParseAddr(name); err == nil {
		a = a.Unmap()
		return a.IsLoopback() || p.addrs[a]
	}
	return p.names[name]
}

// normalHost is a Host header's host: no port, no brackets, no trailing
// dot, lower case. An address with a zone keeps it (and so matches nothing
// configured, which has none).
func normalHost(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return strings.ToLower(strings.TrimSuffix(host, "."))
}

// anyHost are the paths answered whatever the Host: probes and scrapers
// call by pod address or service name, and these say nothing about a
// person (readyz's detail is for signed-in admins only).
func anyHost(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return false
}

// checkHost refuses a request whose Host is not one of ours with 421
// Misdirected Request, before it reaches the session or any handler.
func checkHost(p hostPolicy) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if anyHost(req.URL.Path) || p.allows(req.Host) {
				return next(c)
			}
			return fault.New(fault.Misdirected, "")
		}
	}
}
