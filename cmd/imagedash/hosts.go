package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
)

// publicHost is the host of --public-url ("" when it is not set): the
// name people open the dashboard under, behind a proxy or a DNS name.
func publicHost(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil {
		return "", fmt.Errorf("--public-url %q: want the address people open, like https://images.example.com", raw)
	}
	return u.Hostname(), nil
}

// allowedHosts are the Host names the dashboard answers to
// (web.Config.AllowedHosts; localhost and loopback always): the host of
// --addr and of --public-url. When --addr listens on every interface and
// no --public-url names the dashboard, it also answers to this machine's
// own addresses (ifaces is net.InterfaceAddrs), so `--addr 0.0.0.0:8080`
// still works by IP, and warns that a name needs --public-url. Never nil:
// nil would turn the check off.
func allowedHosts(addr, public string, ifaces func() ([]net.Addr, error), log *slog.Logger) []string {
	hosts := []string{}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr // net.Listen refuses it later, with its own message
	}
	ip := net.ParseIP(host)
	everywhere := host == "" || (ip != nil && ip.IsUnspecified())
	if !everywhere {
		hosts = append(hosts, host)
	}
	if public != "" {
		hosts = append(hosts, public)
	}
	if everywhere && public == "" {
		addrs, err := ifaces()
		if err != nil {
			log.Warn("list this machine's addresses: the dashboard answers only to localhost", "err", err)
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				hosts = append(hosts, n.IP.String())
			}
		}
		log.Warn("--addr listens on every interface but --public-url is not set: the dashboard answers only to localhost and this machine's own addresses, "+
			"and refuses other host names (421); set --public-url to the address people open", "addr", addr, "hosts", hosts)
	}
	return hosts
}
