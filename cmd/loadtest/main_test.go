package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imagedash/imagedash/loadtest"
)

// TestMain lets the test binary play `loadtest bare-echo`, which run starts
// as a child process from os.Executable() — here, this binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == bareEchoCommand {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestParseMix(t *testing.T) {
	tests := []struct {
		give string
		want []loadtest.WeightedTarget
	}{
		{
			give: "list=3:http://127.0.0.1:8080/,search=1:http://127.0.0.1:8080/?q=x",
			want: []loadtest.WeightedTarget{
				{Target: loadtest.Target{Name: "list", URL: "http://127.0.0.1:8080/"}, Weight: 3},
				{Target: loadtest.Target{Name: "search", URL: "http://127.0.0.1:8080/?q=x"}, Weight: 1},
			},
		},
		{
			give: "a=http://127.0.0.1/?x=1,2,b=2:https://localhost/?y=a,b",
			want: []loadtest.WeightedTarget{
				{Target: loadtest.Target{Name: "a", URL: "http://127.0.0.1/?x=1,2"}, Weight: 1},
				{Target: loadtest.Target{Name: "b", URL: "https://localhost/?y=a,b"}, Weight: 2},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			got, err := parseMix(tt.give)
			if err != nil {
				t.Fatalf("parseMix: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("parseMix = %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i].Name != tt.want[i].Name || got[i].URL != tt.want[i].URL || got[i].Weight != tt.want[i].Weight {
					t.Errorf("item %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
	for _, give := range []string{"", "list", "list=3:", "list=0:http://127.0.0.1/", "=1:http://127.0.0.1/", "x=1:ftp://127.0.0.1/"} {
		if got, err := parseMix(give); err == nil {
			t.Errorf("parseMix(%q) = %+v, want an error", give, got)
		}
	}
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		give      string
		wantName  string
		wantValue string
	}{
		{give: "HX-Request: true", wantName: "Hx-Request", wantValue: "true"},
		{give: "accept-encoding:gzip", wantName: "Accept-Encoding", wantValue: "gzip"},
		{give: "X-Empty:", wantName: "X-Empty", wantValue: ""},
	}
	for _, tt := range tests {
		name, value, err := parseHeader(tt.give)
		if err != nil || name != tt.wantName || value != tt.wantValue {
			t.Errorf("parseHeader(%q) = %q, %q, %v; want %q, %q", tt.give, name, value, err, tt.wantName, tt.wantValue)
		}
	}
	for _, give := range []string{"no colon", ": value", "Bad Name: x"} {
		if _, _, err := parseHeader(give); err == nil {
			t.Errorf("parseHeader(%q) gave no error", give)
		}
	}
}

func TestRunRefuses(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "nothing", args: nil, want: "nothing to measure"},
		{name: "over 30 minutes", args: []string{"-url", "http://127.0.0.1:1/", "-d", "15m", "-warmup", "1m"}, want: "at most 30m0s"},
		{name: "zero duration", args: []string{"-url", "http://127.0.0.1:1/", "-d", "0"}, want: "must be positive"},
		{name: "remote", args: []string{"-url", "http://192.0.2.1/"}, want: "not a loopback"},
		{name: "remote in a mix", args: []string{"-mix", "a=1:http://127.0.0.1:1/,b=1:http://example.com/"}, want: "not a loopback"},
		{name: "bad header", args: []string{"-url", "http://127.0.0.1:1/", "-header", "nope"}, want: "Name: value"},
		{name: "stray argument", args: []string{"http://127.0.0.1:1/"}, want: "unexpected arguments"},
		{name: "bare-echo off loopback", args: []string{bareEchoCommand, "-addr", "0.0.0.0:0"}, want: "not a loopback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			began := time.Now()
			err := run(context.Background(), append([]string{"loadtest"}, tt.args...), &out, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run error = %v, want one saying %q", err, tt.want)
			}
			if took := time.Since(began); took > 2*time.Second {
				t.Errorf("took %v to refuse", took)
			}
			if out.Len() > 0 {
				t.Errorf("printed %q, want nothing", out.String())
			}
		})
	}
}

func TestRunUnreachable(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + lis.Addr().String() + "/"
	lis.Close()
	err = run(context.Background(), []string{"loadtest", "-url", url, "-d", "10s"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "is the server running") {
		t.Errorf("run error = %v, want the preflight to say the server is not running", err)
	}
}

func TestRunPrintsReport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/fail":
			http.Error(w, "boom", http.StatusInternalServerError)
		case r.Header.Get("HX-Request") != "true":
			http.Error(w, "want HX-Request", http.StatusBadRequest)
		default:
			io.WriteString(w, "ok")
		}
	}))
	defer srv.Close()
	md := filepath.Join(t.TempDir(), "out.md")
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"loadtest",
		"-url", srv.URL + "/a?x=1",
		"-mix", "one=2:" + srv.URL + "/b,two=1:" + srv.URL + "/c",
		"-header", "HX-Request: true",
		"-c", "2", "-d", "200ms", "-warmup", "50ms", "-md", md,
	}, &out, &errOut)
	if err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, errOut.String())
	}
	for _, want := range []string{"| bare Echo (baseline) |", "| /a?x=1 |", "| one (in mix) |", "| two (in mix) |", "**mix: one+two**", "% of bare Echo", "Concurrency 2, 200ms", "in a separate process"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	written, err := os.ReadFile(md)
	if err != nil || string(written) != out.String() {
		t.Errorf("-md file = %q, %v; want the printed report", written, err)
	}

	t.Run("errors fail the run after printing", func(t *testing.T) {
		var out bytes.Buffer
		err := run(context.Background(), []string{"loadtest", "-url", srv.URL + "/fail", "-c", "1", "-d", "100ms", "-warmup", "0", "-baseline=false"}, &out, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "requests failed") {
			t.Errorf("run error = %v, want one about failed requests", err)
		}
		if !strings.Contains(out.String(), "- /fail: 500 ×") || strings.Contains(out.String(), "bare Echo") {
			t.Errorf("report without baseline, listing the 500s, expected:\n%s", out.String())
		}
	})
}

func TestRunInterrupted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	// 3 s: the bare Echo child must start and be measured before the
	// interruption, and on a busy CI machine 500 ms was once too short.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var out bytes.Buffer
	began := time.Now()
	err := run(ctx, []string{"loadtest", "-url", srv.URL + "/", "-d", "1m", "-warmup", "0"}, &out, io.Discard)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("run error = %v, want %v", err, context.DeadlineExceeded)
	}
	if took := time.Since(began); took > 15*time.Second {
		t.Errorf("run took %v after being interrupted at 3 s", took)
	}
	if !strings.Contains(out.String(), "bare Echo") {
		t.Errorf("want the partial report printed, got:\n%s", out.String())
	}
}

func TestServeBareEcho(t *testing.T) {
	url, stop, err := startBareEcho(context.Background(), io.Discard)
	if err != nil {
		t.Fatalf("startBareEcho: %v", err)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "Hello, World!" {
		t.Errorf("GET %s = %d %q, want 200 %q", url, resp.StatusCode, body, "Hello, World!")
	}
	if err := stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := client.Get(url); err == nil {
		resp.Body.Close()
		t.Errorf("GET %s after stop answered %s, want a refused connection", url, resp.Status)
	}
}
