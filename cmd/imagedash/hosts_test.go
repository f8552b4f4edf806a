package main

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
)

func TestAllowedHosts(t *testing.T) {
	ifaces := func() ([]net.Addr, error) {
		return []net.Addr{
			&net.IPNet{IP: net.ParseIP("127.0.0.1"), Mask: net.CIDRMask(8, 32)},
			&net.IPNet{IP: net.ParseIP("192.168.1.20"), Mask: net.CIDRMask(24, 32)},
			&net.IPNet{IP: net.ParseIP("fe80::1"), Mask: net.CIDRMask(64, 128)},
		}, nil
	}
	tests := []struct {
		addr, public string
		want         []string
		warn         bool
	}{
		{"127.0.0.1:8080", "", []string{"127.0.0.1"}, false},
		{"127.0.0.1:8080", "images.example.com", []string{"127.0.0.1", "images.example.com"}, false},
		{"dash.internal:8080", "", []string{"dash.internal"}, false},
		{"0.0.0.0:8080", "images.example.com", []string{"images.example.com"}, false},
		{"0.0.0.0:8080", "", []string{"127.0.0.1", "192.168.1.20", "fe80::1"}, true},
		{":8080", "", []string{"127.0.0.1", "192.168.1.20", "fe80::1"}, true},
		{"[::]:8080", "", []string{"127.0.0.1", "192.168.1.20", "fe80::1"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.addr+" "+tt.public, func(t *testing.T) {
			var logs bytes.Buffer
			got := allowedHosts(tt.addr, tt.public, ifaces, slog.New(slog.NewTextHandler(&logs, nil)))
			if got == nil || !slices.Equal(got, tt.want) {
				t.Errorf("allowedHosts = %q, want %q", got, tt.want)
			}
			if warned := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "--public-url"); warned != tt.warn {
				t.Errorf("warned %v, want %v:\n%s", warned, tt.warn, logs.String())
			}
		})
	}
	// No interface list: localhost only, never nil (which is "no check").
	got := allowedHosts(":8080", "", func() ([]net.Addr, error) { return nil, errors.New("no") }, slog.New(slog.DiscardHandler))
	if got == nil || len(got) != 0 {
		t.Errorf("allowedHosts without interfaces = %#v, want an empty, non-nil list", got)
	}
}
