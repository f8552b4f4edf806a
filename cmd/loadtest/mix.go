package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/imagedash/imagedash/loadtest"
)

// mixCommand runs logged-in virtual users against a running dashboard.
const mixCommand = "mix"

const mixUsage = `Usage: loadtest mix [flags]

Signs -users virtual users in to the dashboard at -base (each through the
sign-in form, its CSRF token scraped from it, -sign-in-concurrency at a
time), then has each loop over weighted actions with -think time between
them: list pages with filters (status, family, label, folder, sort, page
size, next pages), searches, an image's page, badge polls of operations in
flight, the monitor's in-flight section, the header's operation counts and,
now and then, a copy (its form, the post into a folder the form offers
under the name -copy-name, the result page). Image ids, filter values,
folders and operations are found by scraping the pages, nothing is
hard-coded. After the last sign-in and -warmup it measures for -duration
and prints a Markdown table per endpoint: requests, req/s, p50/p95/p99,
max, errors. With -baseline (the default) the same users first drive a
bare Echo hello-world handler in a child process for -baseline-duration,
every request sent to it, and every figure is also a ratio to it.
Loopback only. Exits 1 when any request failed (after printing).

The password may come from $LOADTEST_PASSWORD instead of -password.

Example (the demo accounts; amir is a copier of team-alpha):
  go run ./cmd/imagedash --demo --sim-images 100000 &
  go run ./cmd/loadtest mix --base http://127.0.0.1:8080 --users 50 --duration 1m --user amir --password imagedash-demo

Flags:
`

// userFlags are the flags of the users, shared by mix and soak.
type userFlags struct {
	cfg           loadtest.UserConfig
	weights       string
	baseline      bool
	baselineFor   time.Duration
	mdPath        string
	passwordGiven bool
}

func (f *userFlags) bind(fs *flag.FlagSet, users int, duration, warmup time.Duration, weights loadtest.Weights) {
	fs.IntVar(&f.cfg.Users, "users", users, "virtual users, each signed in with a session of its own")
	fs.DurationVar(&f.cfg.Duration, "duration", duration, "measured time, after the last sign-in and -warmup")
	fs.DurationVar(&f.cfg.Warmup, "warmup", warmup, "unmeasured time after the last sign-in")
	fs.DurationVar(&f.cfg.Think, "think", time.Second, "mean think time after each action (exponential, at most 4×; 0 = closed loop)")
	fs.StringVar(&f.cfg.Username, "user", "amir", "account the users sign in as (a copier, for the copies)")
	fs.StringVar(&f.cfg.Password, "password", "", "its password (or $LOADTEST_PASSWORD)")
	fs.StringVar(&f.weights, "weights", weightsString(weights),
		"shares of the actions: list, search, detail, badge, monitor, counts, copy (omitted = 0)")
	fs.StringVar(&f.cfg.CopyName, "copy-name", loadtest.DefaultCopyName, "name template of the copies; {n} is made unique per copy")
	fs.IntVar(&f.cfg.SignInConcurrency, "sign-in-concurrency", 2, "sign-ins at a time (each costs the server a 64 MiB password hash)")
	fs.DurationVar(&f.cfg.Timeout, "timeout", 30*time.Second, "timeout of one request; a request over it is an error")
	fs.Uint64Var(&f.cfg.Seed, "seed", 1, "seed of the users' random choices")
	fs.BoolVar(&f.baseline, "baseline", true, "first drive a bare Echo handler with the same users, and give every figure as a ratio to it")
	fs.DurationVar(&f.baselineFor, "baseline-duration", 20*time.Second, "measured time of the baseline")
	fs.StringVar(&f.mdPath, "md", "", "also write the report to this file")
}

// finish checks the flags once parsed.
func (f *userFlags) finish(getenv func(string) string) error {
	w, err := parseWeights(f.weights)
	if err != nil {
		return err
	}
	f.cfg.Weights = w
	if f.cfg.Password == "" {
		f.cfg.Password = getenv("LOADTEST_PASSWORD")
	}
	if f.cfg.Password == "" {
		return errors.New("give the users' password: -password or $LOADTEST_PASSWORD")
	}
	if f.baselineFor <= 0 {
		return fmt.Errorf("-baseline-duration %s: must be positive", f.baselineFor)
	}
	return nil
}

// measureUsers runs the users, after the baseline when asked, and prints
// the report (to -md too).
func (f *userFlags) measureUsers(ctx context.Context, stdout, stderr io.Writer) (loadtest.UserReport, error) {
	var rep loadtest.UserReport
	var err error
	if f.baseline {
		url, stop, serr := startBareEcho(ctx, stderr)
		if serr != nil {
			return rep, serr
		}
		fmt.Fprintf(stderr, "loadtest: baseline: %d users against a bare Echo for %s\n", f.cfg.Users, f.baselineFor)
		rep, err = loadtest.CompareUsers(ctx, f.cfg, url, "in a separate process, like the server measured", f.baselineFor)
		err = errors.Join(err, stop())
	} else {
		rep, err = loadtest.RunUsers(ctx, f.cfg)
	}
	return rep, err
}

// serveMix is `loadtest mix`.
func serveMix(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadtest "+mixCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), mixUsage)
		fs.PrintDefaults()
	}
	var f userFlags
	base := fs.String("base", "http://127.0.0.1:8080", "the dashboard's root URL (loopback)")
	f.bind(fs, 20, 30*time.Second, 10*time.Second, loadtest.DefaultWeights())
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", mixCommand, fs.Args())
	}
	f.cfg.BaseURL = *base
	if err := f.finish(getenv); err != nil {
		return err
	}
	if err := loadtest.CheckLoopback(*base); err != nil {
		return err
	}
	// A backstop over the run's own bounds.
	ctx, cancel := context.WithTimeout(ctx, maxTotal+10*time.Minute)
	defer cancel()
	fmt.Fprintf(stderr, "loadtest: %d users against %s: sign-ins, %s warmup, %s measured\n",
		f.cfg.Users, *base, f.cfg.Warmup, f.cfg.Duration)
	rep, err := f.measureUsers(ctx, stdout, stderr)
	if rep.SignedIn > 0 {
		md := rep.Markdown()
		fmt.Fprint(stdout, md)
		if f.mdPath != "" {
			if werr := os.WriteFile(f.mdPath, []byte(md), 0o644); werr != nil {
				err = errors.Join(err, fmt.Errorf("-md: %w", werr))
			}
		}
	}
	if err != nil {
		return err
	}
	if n := rep.Errors(); n > 0 {
		return fmt.Errorf("%d requests failed (see Errors under the table)", n)
	}
	return nil
}

// parseWeights reads "list=35,search=15,…"; an action not named weighs 0.
func parseWeights(s string) (loadtest.Weights, error) {
	var w loadtest.Weights
	fields := map[string]*int{
		"list": &w.List, "search": &w.Search, "detail": &w.Detail, "badge": &w.Badge,
		"monitor": &w.Monitor, "counts": &w.Counts, "copy": &w.Copy,
	}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, value, ok := strings.Cut(item, "=")
		p := fields[strings.TrimSpace(name)]
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if !ok || p == nil || err != nil || n < 0 {
			return w, fmt.Errorf("-weights %q: item %q: want action=N with N ≥ 0, actions list, search, detail, badge, monitor, counts, copy", s, item)
		}
		*p = n
	}
	if w == (loadtest.Weights{}) {
		return w, fmt.Errorf("-weights %q: every weight is 0", s)
	}
	return w, nil
}

func weightsString(w loadtest.Weights) string {
	return strings.ReplaceAll(w.String(), " ", ",")
}
