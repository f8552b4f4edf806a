package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud/cloudtest"
	"github.com/imagedash/imagedash/cloud/sim"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/metrics"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/store/storetest"
	"github.com/imagedash/imagedash/syncer"
	"github.com/imagedash/imagedash/tracker"
	"github.com/imagedash/imagedash/web"
	"github.com/imagedash/imagedash/web/webtest"
)

// newApp is the whole dashboard in this process behind httptest: the
// emulator over loopback gRPC, a synced cache, the tracker, the real
// router, and a copier ("amir", of the team owning team-alpha; the golden
// folder shared) as the scenarios sign in. The emulator's clock never
// moves, so every copy stays in flight: badges and the monitor have
// operations to show.
func newApp(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	clk := sim.NewFakeClock(time.Date(2026, 12, 8, 12, 0, 0, 0, time.UTC))
	s, c := cloudtest.Start(t, sim.Options{Clock: clk, Images: 40, TimeScale: 1})
	st, err := store.Open(ctx, storetest.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sy := syncer.New(c, st, syncer.Config{Now: clk.Now})
	if p := sy.SyncAll(ctx); p.Err != nil || p.Failures > 0 {
		t.Fatalf("sync: %+v", p)
	}
	sessions, dir := webtest.People(t, st, nil)
	h := handlers.New(handlers.Config{
		Store: st, Syncer: sy, Cloud: c, CloudTimeout: 3 * time.Second,
		Tracker: tracker.New(c, st, tracker.Config{Now: clk.Now}), Ops: handlers.NewOpsCache(st), Now: clk.Now,
		People: st, Sessions: sessions, Hasher: webtest.Hasher(),
	})
	e, err := web.New(web.Config{}, web.Deps{Handlers: h, Sessions: sessions, Directory: dir, Metrics: metrics.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	team, err := st.CreateTeam(ctx, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range s.Folders() {
		switch f.GetName() {
		case "team-alpha":
			err = st.AssignFolder(ctx, team.ID, f.GetId())
		case "golden-images":
			err = st.SetFolderShared(ctx, f.GetId(), true)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	amir := webtest.AddUser(t, st, "amir", false)
	if err := st.AddMember(ctx, team.ID, amir.ID, store.RoleCopier); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestScenarios runs each scenario for a moment against the app and
// checks that every request succeeded (run fails on any error) and that
// vegeta's report was printed. No figure is checked: a shared machine
// makes none of them stable.
func TestScenarios(t *testing.T) {
	base := newApp(t)
	account := []string{"-base", base, "-user", "amir", "-password", webtest.Password}
	every := "list=1,search=1,detail=1,badge=1,monitor=1,counts=1,copy=1"
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{
			name: "pages",
			// Signed in at the first URL's server (no -base).
			args: []string{"pages", "-rate", "20", "-duration", "250ms", "-header", "HX-Request: true",
				"-user", "amir", "-password", webtest.Password, "-url", base + "/?status=READY", "-url", base + "/healthz"},
			want: []string{"## " + base + "/?status=READY at 20 req/s", "## " + base + "/healthz", "Latencies", "200:5"},
		},
		// The soak first: the mix's copies stay in flight (the emulator's
		// clock never moves), and a soak that finds enough in flight has
		// nothing to fill.
		{
			name: "soak against a running app",
			args: append([]string{"soak", "-rate", "40", "-duration", "500ms", "-users", "2", "-weights", every,
				"-inflight", "3", "-fill-rate", "10", "-sample", "1h", "-list-p99", "1h"}, account...),
			want: []string{"# Soak: 40 req/s", "## fill: 10 copies a second", "## mix: 40 req/s", "| ops in flight |"},
		},
		{
			name: "mix",
			args: append([]string{"mix", "-rate", "40", "-duration", "500ms", "-users", "3", "-weights", every}, account...),
			want: []string{"## mix: 40 req/s for 500ms over 3 sessions", "### list", "### total", "Latencies"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if err := run(context.Background(), append([]string{"loadtest"}, tt.args...), noEnv, &out, &errOut); err != nil {
				t.Fatalf("run: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
			}
			for _, want := range tt.want {
				if !strings.Contains(out.String(), want) {
					t.Errorf("report lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

func noEnv(string) string { return "" }

// TestMixCopies: with copies only, every request is a copy (a 303 to its
// result page) or the result page it leads to, and copies start
// operations the monitor then lists.
func TestMixCopies(t *testing.T) {
	base := newApp(t)
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"loadtest", "mix", "-base", base, "-user", "amir", "-password", webtest.Password,
		"-rate", "20", "-duration", "300ms", "-users", "1", "-weights", "copy=1"}, noEnv, &out, &errOut)
	if err != nil {
		t.Fatalf("run: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "copy=1)") || !strings.Contains(out.String(), "303:") {
		t.Errorf("want copies answered 303:\n%s", out.String())
	}
	m := &mixer{base: base, cat: &catalog{}}
	s, err := signIn(context.Background(), base, "amir", webtest.Password)
	if err != nil {
		t.Fatal(err)
	}
	m.sessions = []session{s}
	page := getPage(t, base+"/operations?part=inflight", s.header(htmx))
	if len(runningOp.FindAll(page, -1)) == 0 {
		t.Errorf("no operation in flight after the copies:\n%.2000s", page)
	}
}

func getPage(t *testing.T, url string, h http.Header) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return b
}

// TestBareEcho: the ceiling serves a static body of the size asked, or of
// the size of the page given (the list partial, signed in).
func TestBareEcho(t *testing.T) {
	base := newApp(t)
	s, err := signIn(context.Background(), base, "amir", webtest.Password)
	if err != nil {
		t.Fatal(err)
	}
	partial := len(getPage(t, base+"/?status=READY", s.header(htmx)))
	tests := []struct {
		name string
		args []string
		want int
	}{
		{name: "size", args: []string{"-size", "12345"}, want: 12345},
		{name: "like the list partial, signed in at its server", want: partial, args: []string{"-user", "amir", "-password", webtest.Password,
			"-header", "HX-Request: true", "-like", base + "/?status=READY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			pr, pw := io.Pipe()
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, append([]string{"loadtest", "bare-echo", "-addr", "127.0.0.1:0"}, tt.args...), noEnv, pw, io.Discard)
				pw.Close()
			}()
			line, err := bufio.NewReader(pr).ReadString('\n')
			if err != nil {
				cancel()
				t.Fatalf("no listening line: %v (run: %v)", err, <-done)
			}
			go io.Copy(io.Discard, pr)
			url, _, _ := strings.Cut(strings.TrimPrefix(line, listening), " ")
			body := getPage(t, url, nil)
			if len(body) != tt.want {
				t.Errorf("body of %d bytes, want %d", len(body), tt.want)
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("bare-echo: %v", err)
			}
		})
	}
}

// TestSignIn: the printed header is a session wrk can use.
func TestSignIn(t *testing.T) {
	base := newApp(t)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"loadtest", "signin", "-base", base, "-user", "amir", "-password", webtest.Password}, noEnv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	cookie, ok := strings.CutPrefix(strings.TrimSpace(out.String()), "Cookie: ")
	if !ok || !strings.Contains(cookie, handlers.SessionName+"=") {
		t.Fatalf("printed %q, want a Cookie header with the session", out.String())
	}
	getPage(t, base+"/", http.Header{"Cookie": {cookie}}) // 200, not the sign-in form
	err := run(context.Background(), []string{"loadtest", "signin", "-base", base, "-user", "amir", "-password", "wrong"}, noEnv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "wrong password?") {
		t.Errorf("a wrong password: %v, want the sign-in refused", err)
	}
}

// TestRefuses: what is refused before any request is sent.
func TestRefuses(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "no command", args: nil, want: "give a command"},
		{name: "unknown command", args: []string{"flood"}, want: "unknown command"},
		{name: "pages without url", args: []string{"pages"}, want: "nothing to measure"},
		{name: "pages off loopback", args: []string{"pages", "-url", "http://192.0.2.1/"}, want: "not a loopback"},
		{name: "localhost lookalike", args: []string{"pages", "-url", "http://localhost.example.com/"}, want: "not a loopback"},
		{name: "zero rate", args: []string{"pages", "-url", "http://127.0.0.1:1/", "-rate", "0"}, want: "positive rate"},
		{name: "too long", args: []string{"pages", "-url", "http://127.0.0.1:1/", "-duration", "31m"}, want: "duration in"},
		{name: "bad header", args: []string{"pages", "-url", "http://127.0.0.1:1/", "-header", "nope"}, want: "Name: value"},
		{name: "mix off loopback", args: []string{"mix", "-base", "http://example.com", "-password", "x"}, want: "not a loopback"},
		{name: "mix without password", args: []string{"mix", "-base", "http://127.0.0.1:1"}, want: "-password"},
		{name: "mix bad weights", args: []string{"mix", "-base", "http://127.0.0.1:1", "-password", "x", "-weights", "list=x"}, want: "want action=N"},
		{name: "mix zero weights", args: []string{"mix", "-base", "http://127.0.0.1:1", "-password", "x", "-weights", "list=0"}, want: "every weight is 0"},
		{name: "mix copy name", args: []string{"mix", "-base", "http://127.0.0.1:1", "-password", "x", "-copy-name", "same"}, want: "lacks {n}"},
		{name: "soak off loopback", args: []string{"soak", "-base", "http://192.0.2.1:8080"}, want: "not a loopback"},
		{name: "bare-echo off loopback", args: []string{"bare-echo", "-addr", "0.0.0.0:0"}, want: "not a loopback"},
		{name: "stray argument", args: []string{"mix", "http://127.0.0.1:1/"}, want: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), append([]string{"loadtest"}, tt.args...), noEnv, &out, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run error = %v, want one saying %q", err, tt.want)
			}
			if out.Len() > 0 {
				t.Errorf("printed %q, want nothing", out.String())
			}
		})
	}
}
