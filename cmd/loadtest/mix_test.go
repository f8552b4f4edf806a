package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imagedash/imagedash/loadtest"
)

func TestParseWeights(t *testing.T) {
	tests := []struct {
		give string
		want loadtest.Weights
	}{
		{give: "list=3,copy=1", want: loadtest.Weights{List: 3, Copy: 1}},
		{give: " search = 2 , badge=0,monitor=5 ", want: loadtest.Weights{Search: 2, Monitor: 5}},
		{give: weightsString(loadtest.DefaultWeights()), want: loadtest.DefaultWeights()},
	}
	for _, tt := range tests {
		if got, err := parseWeights(tt.give); err != nil || got != tt.want {
			t.Errorf("parseWeights(%q) = %+v, %v; want %+v", tt.give, got, err, tt.want)
		}
	}
	for _, give := range []string{"", "list", "list=-1", "lists=3", "list=x", "list=0,copy=0"} {
		if got, err := parseWeights(give); err == nil {
			t.Errorf("parseWeights(%q) = %+v, want an error", give, got)
		}
	}
}

func TestMixRefuses(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "no password", args: []string{"-users", "1"}, want: "password"},
		{name: "remote", args: []string{"-base", "http://192.0.2.1:8080", "-password", "x"}, want: "not a loopback"},
		{name: "bad weights", args: []string{"-password", "x", "-weights", "list=x"}, want: "-weights"},
		{name: "stray argument", args: []string{"-password", "x", "extra"}, want: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), append([]string{"loadtest", mixCommand}, tt.args...), &out, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run error = %v, want one saying %q", err, tt.want)
			}
			if out.Len() > 0 {
				t.Errorf("printed %q", out.String())
			}
		})
	}
}

// fakeDashboard answers the sign-in as the dashboard does (a _csrf cookie
// and field, 303 on the right password) and 200 elsewhere.
func fakeDashboard(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/login" && r.Method == http.MethodGet:
			http.SetCookie(w, &http.Cookie{Name: "_csrf", Value: "tok", Path: "/"})
			io.WriteString(w, `<form><input type="hidden" name="_csrf" value="tok"></form>`)
		case r.URL.Path == "/login":
			c, err := r.Cookie("_csrf")
			if err != nil || c.Value != r.FormValue("_csrf") || r.FormValue("password") != "pw" {
				http.Error(w, "no", http.StatusUnauthorized)
				return
			}
			http.SetCookie(w, &http.Cookie{Name: "imagedash", Value: "s", Path: "/"})
			http.Redirect(w, r, "/", http.StatusSeeOther)
		default:
			if _, err := r.Cookie("imagedash"); err != nil {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			io.WriteString(w, `<tr data-testid="image-row" data-id="fd8a"><a data-testid="name">a</a></tr>`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestMixPrintsReport(t *testing.T) {
	srv := fakeDashboard(t)
	var out bytes.Buffer
	var errOut syncBuffer // the baseline child writes to it too
	began := time.Now()
	err := run(context.Background(), []string{"loadtest", mixCommand, "-base", srv.URL, "-users", "2", "-password", "pw",
		"-duration", "300ms", "-warmup", "50ms", "-think", "5ms", "-baseline-duration", "200ms",
		"-weights", "list=3,search=1,detail=1,counts=1"}, &out, &errOut)
	if err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, errOut.String())
	}
	for _, want := range []string{"| bare Echo (same users, every request to it) |", "| list | ", "| search | ", "| **total** | ",
		"2 virtual users signed in as amir (2 of 2", "in a separate process"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("took %v", took)
	}

	t.Run("wrong password", func(t *testing.T) {
		err := run(context.Background(), []string{"loadtest", mixCommand, "-base", srv.URL, "-users", "1", "-password", "nope",
			"-duration", "200ms", "-baseline=false"}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "no user signed in") {
			t.Errorf("run error = %v, want no user signed in", err)
		}
	})
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
