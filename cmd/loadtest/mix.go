package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/imagedash/imagedash/handlers"
)

// The endpoints of the mix, as the report names them.
const (
	epList       = "list"
	epSearch     = "search"
	epDetail     = "detail"
	epBadge      = "badge"
	epMonitor    = "monitor"
	epCounts     = "op counts"
	epCopy       = "copy"
	epCopyResult = "copy result"
	epOther      = "other"
)

// weights are the shares of the mix's requests; 0 is never chosen. A badge
// poll with no operation known becomes a look at the monitor (which finds
// some), a copy with no source or no folder to copy into becomes a list.
type weights struct {
	list, search, detail, badge, monitor, counts, copy int
}

// defaultWeights is a person watching and browsing the dashboard: mostly
// lists and searches, badge and count polls from open pages, now and then
// an image's page, rarely a copy.
func defaultWeights() weights {
	return weights{list: 35, search: 15, detail: 15, badge: 15, monitor: 8, counts: 10, copy: 2}
}

func (w weights) String() string {
	return fmt.Sprintf("list=%d,search=%d,detail=%d,badge=%d,monitor=%d,counts=%d,copy=%d",
		w.list, w.search, w.detail, w.badge, w.monitor, w.counts, w.copy)
}

// firstOf returns a draw that picks the next action from *i on (in the
// order list, search, detail, badge, monitor, counts, copy) whose weight is
// not 0, and moves *i past it; *i becomes 7 when none is left.
func (w weights) firstOf(i *int) int {
	ws := [7]int{w.list, w.search, w.detail, w.badge, w.monitor, w.counts, w.copy}
	for ; *i < len(ws); *i++ {
		if ws[*i] == 0 {
			continue
		}
		start := 0
		for _, x := range ws[:*i] {
			start += x
		}
		*i++
		return start
	}
	return 0
}

// parseWeights reads "list=35,search=15,…"; an action not named weighs 0.
func parseWeights(s string) (weights, error) {
	var w weights
	fields := map[string]*int{
		"list": &w.list, "search": &w.search, "detail": &w.detail, "badge": &w.badge,
		"monitor": &w.monitor, "counts": &w.counts, "copy": &w.copy,
	}
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		name, value, ok := strings.Cut(item, "=")
		p := fields[strings.TrimSpace(name)]
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if !ok || p == nil || err != nil || n < 0 || n > 1_000_000 {
			return w, fmt.Errorf("-weights %q: item %q: want action=N with N ≥ 0, actions list, search, detail, badge, monitor, counts, copy", s, item)
		}
		*p = n
	}
	if w == (weights{}) {
		return w, fmt.Errorf("-weights %q: every weight is 0", s)
	}
	return w, nil
}

// mixFlags are the flags of the mix, shared by mix and soak.
type mixFlags struct {
	rateFlags
	account
	users      int
	weightsRaw string
	weights    weights
	copyName   string
	seed       uint64
}

func (f *mixFlags) bind(fs *flag.FlagSet, rate int, duration time.Duration, w weights) {
	f.rateFlags.bind(fs, rate, duration)
	f.account.bind(fs, "amir")
	fs.IntVar(&f.users, "users", 20, "sessions to sign in (one at a time per two) and spread the requests over")
	fs.StringVar(&f.weightsRaw, "weights", w.String(), "shares of the requests: list, search, detail, badge, monitor, counts, copy (omitted = 0)")
	fs.StringVar(&f.copyName, "copy-name", "{name}-lt-{n}", "name template of the copies; {name} is the source's (the app's placeholder), {n} unique per copy")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the random choices")
}

func (f *mixFlags) check(getenv func(string) string) error {
	if err := f.rateFlags.check(); err != nil {
		return err
	}
	if err := f.account.check(getenv, true); err != nil {
		return err
	}
	if f.users < 1 || f.users > 2000 {
		return fmt.Errorf("-users %d: want 1..2000", f.users)
	}
	if !strings.Contains(f.copyName, "{n}") {
		return fmt.Errorf("-copy-name %q lacks {n}: every copy needs a name of its own", f.copyName)
	}
	w, err := parseWeights(f.weightsRaw)
	f.weights = w
	return err
}

// mixer is the mix's targeter: each call picks a session (in turn) and an
// action (by weight), and builds its request from what the catalog has
// learnt from earlier answers.
type mixer struct {
	base     string
	sessions []session
	w        weights
	copyName string
	tag      string // the run's part of {n}

	cat    *catalog
	rng    *rand.Rand // under cat.mu
	n      int        // under cat.mu
	round  int        // actions of the first round done, under cat.mu
	copies atomic.Int64
	// results are copy result pages to fetch next (a copy's 303 Location),
	// as the person's browser does; noResults leaves them (the soak's fill
	// sends copies only).
	results   []string // under cat.mu
	noResults bool
}

var htmx = http.Header{"Hx-Request": {"true"}}

// next is the vegeta.Targeter.
func (m *mixer) next(t *vegeta.Target) error {
	c := m.cat
	c.mu.Lock()
	defer c.mu.Unlock()
	s := m.sessions[m.n%len(m.sessions)]
	m.n++
	t.Method, t.Body = http.MethodGet, nil
	get := func(path string, extra http.Header) {
		t.URL, t.Header = m.base+path, s.header(extra)
	}
	if len(m.results) > 0 {
		get(m.results[0], nil)
		m.results = m.results[1:]
		return nil
	}
	w := m.w
	r := m.rng.IntN(w.list + w.search + w.detail + w.badge + w.monitor + w.counts + w.copy)
	if m.round < 7 {
		// The first round visits every action with a weight once, in
		// order (list, search, …), so a short run covers them all and
		// the catalog learns from each before the weighted draws.
		r = w.firstOf(&m.round)
	}
	switch {
	case r < w.list:
	case r < w.list+w.search:
		get("/?q="+url.QueryEscape(c.word(m.rng)), htmx)
		return nil
	case r < w.list+w.search+w.detail:
		if img, ok := c.image(m.rng, nil); ok {
			get("/images/compute/"+url.PathEscape(img.id), nil)
			return nil
		}
	case r < w.list+w.search+w.detail+w.badge:
		if len(c.ops) > 0 {
			get("/operations/"+strconv.FormatInt(c.ops[m.rng.IntN(len(c.ops))], 10)+"/badge", htmx)
			return nil
		}
		get("/operations?part=inflight", htmx)
		return nil
	case r < w.list+w.search+w.detail+w.badge+w.monitor:
		get("/operations?part=inflight", htmx)
		return nil
	case r < w.list+w.search+w.detail+w.badge+w.monitor+w.counts:
		get("/operations/counts", htmx)
		return nil
	default:
		if img, ok := c.image(m.rng, copySource); ok && len(c.targets) > 0 {
			n := m.tag + strconv.FormatInt(m.copies.Add(1), 10)
			form := url.Values{
				"_csrf":  {s.csrf},
				"folder": {c.targets[m.rng.IntN(len(c.targets))]},
				"name":   {strings.ReplaceAll(m.copyName, "{n}", n)},
			}
			t.Method, t.Body = http.MethodPost, []byte(form.Encode())
			t.URL = m.base + "/images/compute/" + url.PathEscape(img.id) + "/copy"
			t.Header = s.header(http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
			return nil
		}
	}
	// A list: three in four from the filter bar (htmx partials), the rest
	// whole pages.
	var hdr http.Header
	if m.rng.IntN(4) != 0 {
		hdr = htmx
	}
	get(c.listURL(m.rng), hdr)
	return nil
}

// classify names a result's endpoint, learns from its answer and marks
// the answers that are failures although their status is not.
func (m *mixer) classify(res *vegeta.Result) string {
	redirectedAway(res)
	u, err := url.Parse(res.URL)
	if err != nil {
		return epOther
	}
	p := u.Path
	ok := res.Error == ""
	switch {
	case res.Method == http.MethodPost && strings.HasSuffix(p, "/copy"):
		if loc := res.Headers.Get("Location"); ok && strings.HasPrefix(loc, "/copies/") {
			m.cat.mu.Lock()
			if len(m.results) < 100 && !m.noResults {
				m.results = append(m.results, loc)
			}
			m.cat.mu.Unlock()
		} else if ok {
			res.Error = fmt.Sprintf("copy: %d to %q, want a 303 to its result page", res.Code, loc)
		}
		return epCopy
	case strings.HasPrefix(p, "/copies/"):
		if ok {
			m.cat.learnOps(res.Body)
		}
		return epCopyResult
	case p == "/" && u.Query().Has("q"):
		return epSearch
	case p == "/":
		if ok {
			m.cat.learnList(res.Body)
		}
		return epList
	case strings.HasPrefix(p, "/images/"):
		return epDetail
	case strings.HasSuffix(p, "/badge"):
		// 286: the operation ended (htmx stops polling), forget it.
		if res.Code == handlers.StatusStopPolling || res.Code == http.StatusNotFound {
			id, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(p, "/operations/"), "/badge"), 10, 64)
			m.cat.ended(id)
		}
		return epBadge
	case p == "/operations" && u.Query().Get("part") == "inflight":
		if ok {
			m.cat.learnOps(res.Body)
		}
		return epMonitor
	case p == "/operations/counts":
		return epCounts
	}
	return epOther
}

// newMixer signs the sessions in (two at a time: each costs the server a
// memory-hard hash) and has the first look around as a person does before
// the attack: the list, the monitor, a copy form (the folders it offers).
func newMixer(ctx context.Context, f mixFlags, stderr io.Writer) (*mixer, error) {
	m := &mixer{
		base: f.base, w: f.weights, copyName: f.copyName, cat: &catalog{},
		rng: rand.New(rand.NewPCG(f.seed, 18)),
		tag: strconv.FormatInt(time.Now().Unix(), 36),
	}
	m.sessions = make([]session, f.users)
	errs := make([]error, f.users)
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i := range f.users {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			m.sessions[i], errs[i] = signIn(ctx, f.base, f.user, f.password)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "loadtest: %d sessions signed in as %s\n", f.users, f.user)

	s := m.sessions[0]
	client := &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer client.CloseIdleConnections()
	look := func(path string, extra http.Header) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.base+path, nil)
		if err != nil {
			return nil, err
		}
		req.Header = s.header(extra)
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK && resp.StatusCode != handlers.StatusStopPolling {
			err = fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return b, err
	}
	page, err := look("/", nil)
	if err != nil {
		return nil, fmt.Errorf("the list: %w", err)
	}
	m.cat.learnList(page)
	if page, err = look("/operations?part=inflight", htmx); err != nil {
		return nil, fmt.Errorf("the monitor: %w", err)
	}
	m.cat.learnOps(page)
	if f.weights.copy > 0 {
		m.cat.mu.Lock()
		src, ok := m.cat.image(m.rng, copySource)
		m.cat.mu.Unlock()
		if ok {
			// A copy form that offers no folder (not a copier) leaves
			// the copies to lists; the report says so.
			if page, err := look("/images/compute/"+url.PathEscape(src.id)+"/copy", nil); err == nil {
				m.cat.learnTargets(page)
			}
		}
		if len(m.cat.targets) == 0 {
			fmt.Fprintf(stderr, "loadtest: warning: %s may copy into no folder, or no READY image was listed: no copies, lists instead\n", f.user)
		}
	}
	return m, nil
}

const mixUsage = `Usage: loadtest mix [flags]

Signs -users sessions in to the dashboard at -base through the sign-in
form (its CSRF token scraped), looks around as a person does (the list,
the monitor, a copy form), then sends -rate requests a second for
-duration, spread over the sessions and over weighted actions: list pages
with filters (status, family, label, folder, sort, page size, next pages;
three in four as htmx partials), searches, an image's page, badge polls of
operations in flight, the monitor's in-flight section, the header's
operation counts and now and then a copy (the post, then its result page).
Image ids, filter values, folders and operations are learnt from the
answers, nothing is hard-coded. The rate is kept whatever the answers take
(vegeta's open model). Prints vegeta's report per endpoint and in total.
Loopback only. Exits 1 when a request failed.

Example (the demo accounts; amir is a copier of team-alpha):
  go run ./cmd/imagedash --demo --sim-images 100000 &
  go run ./cmd/loadtest mix -base http://127.0.0.1:8080 -rate 100 -duration 1m -users 50 -user amir -password imagedash-demo

Flags:
`

// runMix is loadtest mix.
func runMix(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet(args[0], mixUsage, stderr)
	var f mixFlags
	f.bind(fs, 50, 30*time.Second, defaultWeights())
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := f.check(getenv); err != nil {
		return err
	}
	m, err := newMixer(ctx, f, stderr)
	if err != nil {
		return err
	}
	rep := newReport(fmt.Sprintf("mix: %d req/s for %s over %d sessions (%s)", f.rate, f.duration, f.users, f.weights))
	attack(ctx, attacker(f.timeout), rep, m.next, f.rate, f.duration, m.classify)
	rep.close()
	rep.print(stdout)
	return errors.Join(ctx.Err(), rep.err())
}
