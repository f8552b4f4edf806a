package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

const pagesUsage = `Usage: loadtest pages -url URL [-url URL…] [flags]

Sends -rate GET requests a second to each -url alone, in turn, for
-duration each (vegeta's open model: the rate is kept whatever the answers
take), with the -header headers, and prints vegeta's report for each.
With -user, signs in first (through the form, at -base or else the first
-url's server) and
sends the session's cookie. Loopback only. Exits 1 when a request failed;
a redirect (the sign-in form) is a failure.

Examples:
  loadtest pages -url http://127.0.0.1:8080/healthz -rate 500 -duration 20s
  loadtest pages -user amir -password imagedash-demo \
      -header 'HX-Request: true' -rate 200 -url 'http://127.0.0.1:8080/?status=READY&sort=name'
  loadtest pages -url http://127.0.0.1:18099/ -rate 200   # the bare-echo ceiling at the same rate

Flags:
`

// runPages is loadtest pages.
func runPages(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet(args[0], pagesUsage, stderr)
	var f rateFlags
	f.bind(fs, 100, 10*time.Second)
	var who account
	who.bind(fs, "")
	var urls listFlag
	fs.Var(&urls, "url", "a `URL` to measure (repeatable)")
	var hdr headerList
	fs.Var(&hdr, "header", "a `'Name: value'` header sent with every request (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if len(urls) == 0 {
		return errors.New("nothing to measure: give -url (-h for help)")
	}
	if err := f.check(); err != nil {
		return err
	}
	if time.Duration(len(urls))*f.duration > maxDuration {
		return fmt.Errorf("%d URLs × -duration %s is over %s", len(urls), f.duration, maxDuration)
	}
	for _, u := range urls {
		if err := checkLoopback(u); err != nil {
			return err
		}
	}
	who.defaultBase(fs, urls[0])
	if err := who.check(getenv, false); err != nil {
		return err
	}
	header := hdr.h
	if header == nil {
		header = http.Header{}
	}
	if who.user != "" {
		s, err := signIn(ctx, who.base, who.user, who.password)
		if err != nil {
			return err
		}
		header = s.header(header)
	}
	var errs []error
	for _, u := range urls {
		rep := newReport(fmt.Sprintf("%s at %d req/s for %s", u, f.rate, f.duration))
		tr := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: u, Header: header})
		attack(ctx, attacker(f.timeout), rep, tr, f.rate, f.duration, func(res *vegeta.Result) string {
			redirectedAway(res)
			return u
		})
		rep.close()
		rep.print(stdout)
		errs = append(errs, rep.err())
		if ctx.Err() != nil {
			break
		}
	}
	return errors.Join(append(errs, ctx.Err())...)
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return fmt.Sprint(*l) }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }
