package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// maxDuration bounds one attack: a typo must not load the machine for hours.
const maxDuration = 30 * time.Minute

// rateFlags are the flags of an attack, shared by pages, mix and soak.
type rateFlags struct {
	rate     int
	duration time.Duration
	timeout  time.Duration
}

func (f *rateFlags) bind(fs *flag.FlagSet, rate int, duration time.Duration) {
	fs.IntVar(&f.rate, "rate", rate, "requests per second, sent at a constant rate whatever the answers take (open model)")
	fs.DurationVar(&f.duration, "duration", duration, "how long to send")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "timeout of one request; a request over it is an error")
}

func (f *rateFlags) check() error {
	if f.rate < 1 || f.duration <= 0 || f.duration > maxDuration || f.timeout <= 0 {
		return fmt.Errorf("-rate %d, -duration %s, -timeout %s: want a positive rate and timeout, and a duration in (0, %s]",
			f.rate, f.duration, f.timeout, maxDuration)
	}
	return nil
}

// errNotLoopback is why a URL off loopback is refused.
var errNotLoopback = errors.New("not a loopback address (loadtest sends load only to 127.0.0.0/8, ::1 and localhost)")

// checkLoopback accepts an http(s) URL whose host is a loopback IP literal
// or localhost: a mistyped host must fail before the first request, not
// after a few thousand reached someone else's server.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("URL %q: scheme must be http or https", raw)
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err != nil || !ip.Unmap().IsLoopback() {
		return fmt.Errorf("URL %q: %w", raw, errNotLoopback)
	}
	return nil
}

// headerList is a repeatable -header 'Name: value' flag.
type headerList struct{ h http.Header }

func (l *headerList) String() string { return "" }

func (l *headerList) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.ContainsAny(name, " \t") {
		return fmt.Errorf("%q: want 'Name: value'", s)
	}
	if l.h == nil {
		l.h = http.Header{}
	}
	l.h.Add(textproto.CanonicalMIMEHeaderKey(name), strings.TrimSpace(value))
	return nil
}

// attacker is vegeta's, as every scenario uses it: redirects are not
// followed (a copy's 303 is its success; a page answered with a redirect
// to the sign-in form is a failure, see classify), bodies are kept for
// the scenarios that learn from them.
func attacker(timeout time.Duration) *vegeta.Attacker {
	return vegeta.NewAttacker(
		vegeta.Redirects(vegeta.NoFollow),
		vegeta.Timeout(timeout),
		vegeta.KeepAlive(true),
	)
}

// report is the metrics of one attack, per endpoint and in total.
type report struct {
	title     string
	total     vegeta.Metrics
	endpoints map[string]*vegeta.Metrics
	order     []string // endpoints in the order first seen
	failed    int
	firstErrs []string
}

func newReport(title string) *report {
	return &report{title: title, endpoints: map[string]*vegeta.Metrics{}}
}

// add records one result under endpoint.
func (r *report) add(endpoint string, res *vegeta.Result) {
	m := r.endpoints[endpoint]
	if m == nil {
		m = &vegeta.Metrics{}
		r.endpoints[endpoint] = m
		r.order = append(r.order, endpoint)
	}
	m.Add(res)
	r.total.Add(res)
	if res.Error != "" {
		r.failed++
		if len(r.firstErrs) < 5 {
			r.firstErrs = append(r.firstErrs, fmt.Sprintf("%s %s: %s", res.Method, res.URL, res.Error))
		}
	}
}

// close computes the metrics.
func (r *report) close() {
	r.total.Close()
	for _, m := range r.endpoints {
		m.Close()
	}
}

// print writes vegeta's text report per endpoint (when more than one) and
// in total.
func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "## %s\n\n", r.title)
	if len(r.order) > 1 {
		for _, name := range r.order {
			fmt.Fprintf(w, "### %s\n\n", name)
			_ = vegeta.NewTextReporter(r.endpoints[name]).Report(w)
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "### total\n\n")
	}
	_ = vegeta.NewTextReporter(&r.total).Report(w)
	fmt.Fprintln(w)
}

// err says how many requests failed, if any.
func (r *report) err() error {
	if r.failed == 0 {
		return nil
	}
	return fmt.Errorf("%s: %d of %d requests failed, first: %s", r.title, r.failed, r.total.Requests, strings.Join(r.firstErrs, "; "))
}

// attack sends tr's targets at rate for d and files each result with
// classify (which may also learn from it or mark it failed); ctx ending
// stops it early.
func attack(ctx context.Context, atk *vegeta.Attacker, rep *report, tr vegeta.Targeter, rate int, d time.Duration,
	classify func(*vegeta.Result) string) {
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	for res := range atk.Attack(tr, vegeta.Rate{Freq: rate, Per: time.Second}, d, rep.title) {
		rep.add(classify(res), res)
		res.Body = nil
	}
}

// redirectedAway marks a GET answered with a redirect as failed: for a
// page, a redirect is the sign-in form (the session ended), not an answer.
// A POST's 303 is its success (a copy's result page).
func redirectedAway(res *vegeta.Result) {
	if res.Error == "" && res.Method == http.MethodGet && res.Code >= 300 && res.Code < 400 {
		res.Error = fmt.Sprintf("redirected (%d) to %s", res.Code, res.Headers.Get("Location"))
	}
}
