// Command loadtest measures pages of a running server under concurrent load
// and prints a Markdown table comparing each with a bare Echo handler
// measured in the same run (package loadtest does the work):
//
//	go run ./cmd/imagedash --addr 127.0.0.1:18181 --data /tmp/lt/imagedash.db &
//	go run ./cmd/loadtest -url 'http://127.0.0.1:18181/' -url 'http://127.0.0.1:18181/healthz' -c 8 -d 10s
//
// Each -url is measured alone, in turn, after the baseline; each -mix is one
// run spreading its requests over several URLs by weight:
//
//	go run ./cmd/loadtest -mix 'list=3:http://127.0.0.1:18181/,health=1:http://127.0.0.1:18181/healthz'
//
// The baseline runs in a separate process, as the server measured does: the
// tool starts itself as `loadtest bare-echo` (a bare Echo hello-world on
// 127.0.0.1 and a free port), measures it first, and stops it at the end. The
// same handler in the tool's own process measures about twice as fast on 2
// cores, which would make every page look twice as slow relative to Echo.
// `loadtest bare-echo [-addr 127.0.0.1:8081]` also serves it alone, e.g. for
// wrk.
//
// Two subcommands drive the dashboard as signed-in people do, each
// documented in its -h:
//
//	go run ./cmd/loadtest mix --base http://127.0.0.1:8080 --users 50 --duration 1m --user amir --password imagedash-demo
//	go run ./cmd/loadtest soak --users 200 --duration 10m --images 100000 --inflight 100
//
// mix signs virtual users in through the form and has them loop over a
// weighted mix of lists, searches, image pages, badge and monitor polls
// and copies, with think time, and reports every endpoint against a bare
// Echo handler driven by the same users; soak starts the app itself on a
// fresh database with 100 000 images and a slow emulator, keeps operations
// in flight, runs the users for long, and samples memory and goroutines.
//
// Only loopback URLs are accepted: the workplace allows load on nothing else.
// The whole invocation is refused when it would take more than 30 minutes.
// Before measuring, one request goes to each URL, and a URL that cannot be
// reached stops the tool. It exits 1 when any measured request failed (after
// printing the report), since a measurement with errors is not one to quote.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/imagedash/imagedash/loadtest"
)

// maxTotal bounds the whole invocation: the baseline and every run, each
// with its warmup.
const maxTotal = 30 * time.Minute

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	urls     []string
	mixes    []string
	headers  []string
	cfg      loadtest.Config
	baseline bool
	mdPath   string
}

// list is a repeatable string flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, " ") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

const usage = `Usage: loadtest [flags] -url URL [-url URL...] [-mix 'name=W:URL,...'...]

Measures each -url alone, then each -mix, for -d each after a -warmup, with
-c concurrent connections, after measuring a bare Echo hello-world handler the
same way (-baseline), and prints a Markdown table: requests, req/s, latency
percentiles, errors (transport failures and statuses other than 2xx; htmx's
286 is a success) and req/s as a percentage of bare Echo. Loopback URLs only;
at most 30 minutes in all. Exits 1 when any request failed.

The baseline runs in a child process, as the server measured does:
  loadtest bare-echo [-addr 127.0.0.1:0]   serves it alone (e.g. for wrk)

Signed-in virtual users with a realistic mix (see each -h):
  loadtest mix -base http://127.0.0.1:8080 -users 50 -duration 1m -user amir -password imagedash-demo
  loadtest soak -users 200 -duration 10m -images 100000 -inflight 100   (starts the app itself)

Examples:
  loadtest -url 'http://127.0.0.1:8080/' -url 'http://127.0.0.1:8080/healthz' -c 8 -d 20s
  loadtest -url 'http://127.0.0.1:8080/?q=ubuntu' -header 'HX-Request: true' -md out.md
  loadtest -mix 'list=3:http://127.0.0.1:8080/,health=1:http://127.0.0.1:8080/healthz'

Flags:
`

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	fs.Var((*list)(&o.urls), "url", "a `URL` to measure alone (repeatable)")
	fs.Var((*list)(&o.mixes), "mix", "a weighted mix measured as one run: `name=W:URL,...` (W defaults to 1; repeatable)")
	fs.Var((*list)(&o.headers), "header", "a `'Name: value'` header sent with every request (repeatable)")
	fs.IntVar(&o.cfg.Concurrency, "c", 8, "concurrent connections (closed loop: each waits for its answer)")
	fs.DurationVar(&o.cfg.Duration, "d", 10*time.Second, "measured duration of each run")
	fs.DurationVar(&o.cfg.Warmup, "warmup", time.Second, "unmeasured warmup before each run")
	fs.IntVar(&o.cfg.Requests, "n", 0, "stop each run after this many requests (0 = run for -d; -d still bounds it)")
	fs.DurationVar(&o.cfg.Timeout, "timeout", 30*time.Second, "timeout of one request; a request over it is an error")
	fs.BoolVar(&o.baseline, "baseline", true, "measure a bare Echo handler first and add a \"% of bare Echo\" column")
	fs.StringVar(&o.mdPath, "md", "", "also write the report to this file")
	if err := fs.Parse(args[1:]); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q (URLs go after -url)", fs.Args())
	}
	if len(o.urls) == 0 && len(o.mixes) == 0 {
		return o, errors.New("nothing to measure: give -url or -mix (-h for help)")
	}
	runs := len(o.urls) + len(o.mixes)
	if o.baseline {
		runs++
	}
	if total := time.Duration(runs) * (o.cfg.Warmup + o.cfg.Duration); o.cfg.Duration <= 0 || o.cfg.Warmup < 0 || total > maxTotal {
		return o, fmt.Errorf("-d %s and -warmup %s over %d runs take %s: each must be positive and the total at most %s",
			o.cfg.Duration, o.cfg.Warmup, runs, total, maxTotal)
	}
	return o, nil
}

// mixes builds the runs: one per -url, one per -mix, every target with the
// -header headers.
func (o options) runMixes() ([]loadtest.Mix, error) {
	header := http.Header{}
	for _, h := range o.headers {
		name, value, err := parseHeader(h)
		if err != nil {
			return nil, err
		}
		header.Add(name, value)
	}
	var mixes []loadtest.Mix
	for _, raw := range o.urls {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("-url %q: %w", raw, err)
		}
		mixes = append(mixes, loadtest.Single(loadtest.Target{Name: u.RequestURI(), URL: raw}))
	}
	for _, raw := range o.mixes {
		mix, err := parseMix(raw)
		if err != nil {
			return nil, err
		}
		mixes = append(mixes, mix)
	}
	for _, mix := range mixes {
		for i := range mix {
			// Checked here too, so that nothing is sent before all are.
			if err := loadtest.CheckLoopback(mix[i].URL); err != nil {
				return nil, err
			}
			if len(header) > 0 {
				mix[i].Header = header
			}
		}
	}
	return mixes, nil
}

// parseHeader reads "Name: value".
func parseHeader(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.ContainsAny(name, " \t") {
		return "", "", fmt.Errorf("-header %q: want 'Name: value'", s)
	}
	return textproto.CanonicalMIMEHeaderKey(name), strings.TrimSpace(value), nil
}

// mixItem is the start of one item of a -mix: a name, "=", an optional
// weight and ":", then an http(s) URL. Commas inside a URL's query do not
// start an item, since what follows them does not look like this.
var mixItem = regexp.MustCompile(`^([^=,:/?\s]+)=(?:(\d+):)?(https?://.*)$`)

// parseMix reads 'list=3:URL,search=1:URL'.
func parseMix(s string) (loadtest.Mix, error) {
	var items []string
	for piece := range strings.SplitSeq(s, ",") {
		if len(items) > 0 && !mixItem.MatchString(piece) {
			items[len(items)-1] += "," + piece // a comma inside the URL
			continue
		}
		items = append(items, piece)
	}
	var mix loadtest.Mix
	for _, item := range items {
		m := mixItem.FindStringSubmatch(item)
		if m == nil {
			return nil, fmt.Errorf("-mix %q: item %q: want name=W:URL", s, item)
		}
		weight := 1
		if m[2] != "" {
			w, err := strconv.Atoi(m[2])
			if err != nil || w < 1 {
				return nil, fmt.Errorf("-mix %q: item %q: weight must be a positive integer", s, item)
			}
			weight = w
		}
		mix = append(mix, loadtest.WeightedTarget{Target: loadtest.Target{Name: m[1], URL: m[3]}, Weight: weight})
	}
	return mix, nil
}

// run is the whole program.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 1 {
		switch args[1] {
		case bareEchoCommand:
			return serveBareEcho(ctx, args[1:], stdout, stderr)
		case mixCommand:
			return serveMix(ctx, args[1:], os.Getenv, stdout, stderr)
		case soakCommand:
			return serveSoak(ctx, args[1:], os.Getenv, stdout, stderr)
		}
	}
	o, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	mixes, err := o.runMixes()
	if err != nil {
		return err
	}
	// A backstop over the runs' own bounds.
	ctx, cancel := context.WithTimeout(ctx, maxTotal+time.Minute)
	defer cancel()

	if err := preflight(ctx, mixes, stderr); err != nil {
		return err
	}
	runs := len(mixes)
	if o.baseline {
		runs++
	}
	fmt.Fprintf(stderr, "loadtest: %d runs of %s (+%s warmup) at concurrency %d, about %s\n",
		runs, o.cfg.Duration, o.cfg.Warmup, o.cfg.Concurrency, time.Duration(runs)*(o.cfg.Duration+o.cfg.Warmup))

	var rep loadtest.Report
	if o.baseline {
		url, stop, serr := startBareEcho(ctx, stderr)
		if serr != nil {
			return serr
		}
		rep, err = loadtest.CompareWith(ctx, o.cfg, url, "in a separate process, like the server measured", mixes...)
		err = errors.Join(err, stop())
	} else {
		rep, err = measure(ctx, o.cfg, mixes)
	}
	if len(rep.Runs) > 0 || rep.Baseline != nil {
		md := rep.Markdown()
		fmt.Fprint(stdout, md)
		if o.mdPath != "" {
			if werr := os.WriteFile(o.mdPath, []byte(md), 0o644); werr != nil {
				err = errors.Join(err, fmt.Errorf("-md: %w", werr))
			}
		}
	}
	if err != nil {
		return err
	}
	if n := rep.Errors(); n > 0 {
		return fmt.Errorf("%d requests failed (see Errors under the table): the figures are not a clean measurement", n)
	}
	return nil
}

// measure runs each mix in turn, without a baseline.
func measure(ctx context.Context, cfg loadtest.Config, mixes []loadtest.Mix) (loadtest.Report, error) {
	var rep loadtest.Report
	for _, mix := range mixes {
		r, err := loadtest.Run(ctx, cfg, mix)
		if rep.Runs == nil {
			rep = r
		} else {
			rep.Runs = append(rep.Runs, r.Runs...)
		}
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// preflight sends one request to each target, through loadtest.Run and so
// through its loopback checks, and fails when one cannot be reached; a
// target answering other than 2xx is only reported, since it may be what is
// being measured.
func preflight(ctx context.Context, mixes []loadtest.Mix, stderr io.Writer) error {
	cfg := loadtest.Config{Concurrency: 1, Requests: 1, Duration: 10 * time.Second, Timeout: 10 * time.Second}
	for _, mix := range mixes {
		for _, wt := range mix {
			rep, err := loadtest.Run(ctx, cfg, loadtest.Single(wt.Target))
			if err != nil {
				return fmt.Errorf("%s: %w", wt.URL, err)
			}
			s := rep.Runs[0].Total
			switch {
			case s.TransportErrors > 0:
				return fmt.Errorf("%s: %s (is the server running?)", wt.URL, s.FirstError)
			case s.Errors > 0:
				fmt.Fprintf(stderr, "loadtest: warning: %s answers %v; such answers count as errors\n", wt.URL, statusList(s.Statuses))
			}
		}
	}
	return nil
}

func statusList(statuses map[int]int) string {
	var codes []string
	for code := range statuses {
		codes = append(codes, strconv.Itoa(code))
	}
	return strings.Join(codes, ", ")
}
