package main

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
)

func TestPublicURL(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantHost string
		wantErr  string
	}{
		{name: "unset"},
		{name: "flag", args: []string{"--public-url", "https://Images.Example.com/dash/"}, wantHost: "Images.Example.com"},
		{name: "env twin", env: map[string]string{"IMAGEDASH_PUBLIC_URL": "http://10.1.2.3:8080"}, wantHost: "10.1.2.3"},
		{name: "IPv6", args: []string{"--public-url", "http://[2001:db8::5]:8080"}, wantHost: "2001:db8::5"},
		{name: "no scheme", args: []string{"--public-url", "images.example.com"}, wantErr: "want the address people open"},
		{name: "other scheme", args: []string{"--public-url", "ftp://images.example.com"}, wantErr: "want the address people open"},
		{name: "no host", args: []string{"--public-url", "https:///x"}, wantErr: "want the address people open"},
		{name: "credentials", args: []string{"--public-url", "https://a:b@images.example.com"}, wantErr: "want the address people open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfig(append([]string{"imagedash"}, tt.args...), env(tt.env), io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.publicHost != tt.wantHost {
				t.Errorf("public host = %q, want %q", got.publicHost, tt.wantHost)
			}
		})
	}
}

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
