package loadtest

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The endpoints of a user run, as the report names them. A virtual user
// signs in (EndpointSignIn), then loops over weighted actions, each one or
// more requests: a list page with filters (EndpointList, an htmx partial
// mostly), a search (EndpointSearch), an image's page (EndpointDetail), the
// badge of an operation in flight (EndpointBadge), the monitor's in-flight
// section (EndpointMonitor), the header's operation counts (EndpointCounts)
// and a copy: its form, the post, and the result page it redirects to
// (EndpointCopyForm, EndpointCopy, EndpointCopyResult).
const (
	EndpointSignIn     = "sign-in"
	EndpointList       = "list"
	EndpointSearch     = "search"
	EndpointDetail     = "detail"
	EndpointBadge      = "badge"
	EndpointMonitor    = "monitor"
	EndpointCounts     = "op counts"
	EndpointCopyForm   = "copy form"
	EndpointCopy       = "copy"
	EndpointCopyResult = "copy result"
)

// endpointOrder is the order of the report's rows.
var endpointOrder = []string{
	EndpointList, EndpointSearch, EndpointDetail, EndpointBadge, EndpointMonitor, EndpointCounts,
	EndpointCopyForm, EndpointCopy, EndpointCopyResult,
}

// MaxUsers caps the virtual users of one run.
const MaxUsers = 2000

// Weights are the shares of a user's actions; an action of weight 0 is
// never chosen. A badge poll with no operation known to the user becomes a
// look at the monitor (which finds some), a copy without a source or a
// folder to copy into becomes a list page.
type Weights struct {
	List, Search, Detail, Badge, Monitor, Counts, Copy int
}

// DefaultWeights is the mix of a person watching and browsing the
// dashboard: mostly lists and searches, badge and count polls from open
// pages, now and then an image's page, rarely a copy.
func DefaultWeights() Weights {
	return Weights{List: 35, Search: 15, Detail: 15, Badge: 15, Monitor: 8, Counts: 10, Copy: 2}
}

func (w Weights) total() int {
	return w.List + w.Search + w.Detail + w.Badge + w.Monitor + w.Counts + w.Copy
}

// String is "list=35 search=15 …", as the report prints it.
func (w Weights) String() string {
	return fmt.Sprintf("list=%d search=%d detail=%d badge=%d monitor=%d counts=%d copy=%d",
		w.List, w.Search, w.Detail, w.Badge, w.Monitor, w.Counts, w.Copy)
}

// action is one kind of user step.
type action int

const (
	actList action = iota
	actSearch
	actDetail
	actBadge
	actMonitor
	actCounts
	actCopy
)

// pick chooses an action by weight; r is in [0, total).
func (w Weights) pick(r int) action {
	for i, n := range []int{w.List, w.Search, w.Detail, w.Badge, w.Monitor, w.Counts, w.Copy} {
		if r < n {
			return action(i)
		}
		r -= n
	}
	return actList
}

// DefaultCopyName is the name template of the users' copies: {name} is
// the app's placeholder (the source's name), {n} the tool's, replaced by
// a token unique to the request (the run's start in base 36 and a count).
const DefaultCopyName = "{name}-lt-{n}"

// UserConfig says who the virtual users are and what they do.
type UserConfig struct {
	// BaseURL is the dashboard's root, e.g. http://127.0.0.1:8080.
	BaseURL string
	// Users is the number of virtual users, 1..MaxUsers; each signs in
	// with its own session (all as Username).
	Users int
	// Username and Password sign every user in through the form.
	Username, Password string
	// Duration is the measured time, after every user has signed in and
	// Warmup has passed; required.
	Duration time.Duration
	// Warmup is spent, after the last user signed in, in the users' loops
	// without recording: caches fill, the GC settles.
	Warmup time.Duration
	// Think is the mean pause of a user after each action (exponentially
	// distributed, at most 4× the mean); 0 is a closed loop, each user
	// sending its next request at once.
	Think time.Duration
	// Weights are the shares of the actions; zero → DefaultWeights.
	Weights Weights
	// CopyName is the copies' name template; "" → DefaultCopyName.
	CopyName string
	// SignInConcurrency bounds the sign-ins in flight (each costs the
	// server a memory-hard password hash); 0 → 2.
	SignInConcurrency int
	// SignInTimeout bounds the whole sign-in phase; 0 → 5 minutes.
	SignInTimeout time.Duration
	// Timeout bounds one request, body included; 0 → 30 s.
	Timeout time.Duration
	// Seed makes the users' choices repeatable; 0 → 1.
	Seed uint64
	// AllowRemote permits a BaseURL that is not loopback (see
	// ErrNotLoopback); nothing in this project sets it.
	AllowRemote bool

	// OnWindow, when set, is called once the measured window is known
	// (after the last sign-in), with its start and end: a soak test marks
	// its samples with it.
	OnWindow func(start, end time.Time)

	// baseline, when set, sends every request to this URL instead: the
	// same users, weights and think time against a bare Echo handler.
	baseline string
}

func (c UserConfig) withDefaults() (UserConfig, error) {
	if c.Weights == (Weights{}) {
		c.Weights = DefaultWeights()
	}
	w := c.Weights
	switch {
	case c.Users < 1 || c.Users > MaxUsers:
		return c, fmt.Errorf("%w: Users %d is not in 1..%d", ErrConfig, c.Users, MaxUsers)
	case c.Duration <= 0:
		return c, fmt.Errorf("%w: Duration must be positive", ErrConfig)
	case c.Warmup < 0 || c.Think < 0 || c.Timeout < 0 || c.SignInTimeout < 0 || c.SignInConcurrency < 0:
		return c, fmt.Errorf("%w: negative Warmup, Think, Timeout, SignInTimeout or SignInConcurrency", ErrConfig)
	case c.Warmup+c.Duration > MaxDuration:
		return c, fmt.Errorf("%w: Warmup + Duration = %s is over %s", ErrConfig, c.Warmup+c.Duration, MaxDuration)
	case w.List < 0 || w.Search < 0 || w.Detail < 0 || w.Badge < 0 || w.Monitor < 0 || w.Counts < 0 || w.Copy < 0:
		return c, fmt.Errorf("%w: negative weight in %s", ErrConfig, w)
	case w.total() > MaxTotalWeight:
		return c, fmt.Errorf("%w: the weights add up to more than %d", ErrConfig, MaxTotalWeight)
	case c.baseline == "" && (c.Username == "" || c.Password == ""):
		return c, fmt.Errorf("%w: the users need a Username and a Password", ErrConfig)
	}
	base, err := url.Parse(strings.TrimRight(c.BaseURL, "/"))
	if err != nil || base.Host == "" {
		return c, fmt.Errorf("%w: BaseURL %q: want http://host:port", ErrConfig, c.BaseURL)
	}
	if !c.AllowRemote {
		if err := checkLoopbackURL(base); err != nil {
			return c, err
		}
		if c.baseline != "" {
			if err := CheckLoopback(c.baseline); err != nil {
				return c, err
			}
		}
	}
	c.BaseURL = base.String()
	if c.CopyName == "" {
		c.CopyName = DefaultCopyName
	}
	if !strings.Contains(c.CopyName, "{n}") {
		return c, fmt.Errorf("%w: CopyName %q lacks {n}: every copy needs a name of its own", ErrConfig, c.CopyName)
	}
	if c.SignInConcurrency == 0 {
		c.SignInConcurrency = 2
	}
	if c.SignInTimeout == 0 {
		c.SignInTimeout = 5 * time.Minute
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	return c, nil
}

// UserReport is the result of a user run: per endpoint, and for the
// baseline when there is one (CompareUsers).
type UserReport struct {
	// Config is the run's, without the password.
	Config UserConfig
	// Date is when the run started.
	Date       time.Time
	GoVersion  string
	Platform   string
	GOMAXPROCS int
	NumCPU     int
	// SignedIn is the number of users that signed in; SignInTook the
	// sign-in phase. SignIn are its figures, RPS over SignInTook.
	SignedIn   int
	SignInTook time.Duration
	SignIn     Stats
	// Endpoints are the measured endpoints in report order (those with no
	// request are left out); Total is all of them together.
	Endpoints []Stats
	Total     Stats
	// Elapsed is the measured window.
	Elapsed time.Duration
	// Copies counts the copies started (a 303 to a result page) in the
	// whole run, warmup included.
	Copies int
	// Everything is every endpoint's figures over the whole run after the
	// sign-ins, warmup included (RPS and latency not meaningful): the
	// errors of the warmup are errors too.
	Everything []Stats
	// Baseline is the same users, weights and think time against a bare
	// Echo handler, every request to it, measured just before (where:
	// BaselineWhere); nil when not measured.
	Baseline      *UserReport
	BaselineWhere string
}

// Stats is the endpoint called name (or "total", or EndpointSignIn).
func (r UserReport) Stats(name string) (Stats, bool) {
	switch name {
	case "total":
		return r.Total, true
	case EndpointSignIn:
		return r.SignIn, r.SignIn.Requests > 0
	}
	for _, s := range r.Endpoints {
		if s.Name == name {
			return s, true
		}
	}
	return Stats{}, false
}

// Errors is the number of failed requests of the whole run, sign-ins and
// warmup included, baseline not.
func (r UserReport) Errors() int {
	n := r.SignIn.Errors
	for _, s := range r.Everything {
		n += s.Errors
	}
	return n
}

// Sent is the number of requests to the endpoint called name over the
// whole run after the sign-ins, warmup included.
func (r UserReport) Sent(name string) int {
	for _, s := range r.Everything {
		if s.Name == name {
			return s.Requests
		}
	}
	return 0
}

// CompareUsers measures the users of cfg against a bare Echo handler
// already serving at baselineURL (where says where it runs, for the
// report) for baselineFor, then against the dashboard, and returns the
// dashboard's report with Baseline set. baselineFor 0 means cfg.Duration.
func CompareUsers(ctx context.Context, cfg UserConfig, baselineURL, where string, baselineFor time.Duration) (UserReport, error) {
	if _, err := cfg.withDefaults(); err != nil {
		return UserReport{}, err
	}
	bcfg := cfg
	bcfg.baseline = baselineURL
	bcfg.OnWindow = nil
	if baselineFor > 0 {
		bcfg.Duration = baselineFor
	}
	base, err := RunUsers(ctx, bcfg)
	if err != nil {
		return UserReport{}, fmt.Errorf("baseline: %w", err)
	}
	rep, err := RunUsers(ctx, cfg)
	rep.Baseline = &base
	rep.BaselineWhere = where
	return rep, err
}

// RunUsers runs cfg.Users virtual users against the dashboard at
// cfg.BaseURL: each signs in through the sign-in form (the CSRF token
// scraped from it), then loops over the weighted actions with think time,
// finding image ids, filters, folders and operations by scraping the pages
// it gets, until the measured window (after the last sign-in and Warmup)
// ends. It fails before sending anything on an invalid cfg (ErrConfig) or a
// URL off loopback (ErrNotLoopback), and when no user could sign in.
func RunUsers(ctx context.Context, cfg UserConfig) (UserReport, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return UserReport{}, err
	}
	start := time.Now()
	client := newClient(cfg.Users, cfg.AllowRemote)
	defer client.CloseIdleConnections()
	r := &userRun{
		cfg:        cfg,
		client:     client,
		rec:        newRecorder(),
		everything: newRecorder(),
		signIn:     newRecorder(),
		catalog:    newCatalog(),
		tag:        strconv.FormatInt(start.Unix(), 36),
		sem:        make(chan struct{}, cfg.SignInConcurrency),
	}
	r.window.Store(&window{start: farFuture, end: farFuture})

	// The whole run is bounded: sign-ins, warmup, the window, a drain.
	runCtx, cancel := context.WithTimeout(ctx, cfg.SignInTimeout+cfg.Warmup+cfg.Duration+Drain)
	defer cancel()
	var signedIn, users sync.WaitGroup
	var ok atomic.Int64
	signedIn.Add(cfg.Users)
	for i := range cfg.Users {
		users.Go(func() {
			u := r.newUser(i)
			err := u.signIn(runCtx)
			signedIn.Done()
			if err != nil {
				return
			}
			ok.Add(1)
			u.loop(runCtx)
		})
	}
	// The window opens Warmup after the last sign-in.
	allIn := make(chan struct{})
	go func() { signedIn.Wait(); close(allIn) }()
	var signInTook time.Duration
	select {
	case <-allIn:
		signInTook = time.Since(start)
		ws := time.Now().Add(cfg.Warmup)
		r.window.Store(&window{start: ws, end: ws.Add(cfg.Duration)})
		if cfg.OnWindow != nil {
			cfg.OnWindow(ws, ws.Add(cfg.Duration))
		}
		// Requests still in flight Drain after the window are cut off.
		stop := time.AfterFunc(time.Until(ws.Add(cfg.Duration+Drain)), cancel)
		defer stop.Stop()
	case <-time.After(cfg.SignInTimeout):
		cancel()
	case <-runCtx.Done():
	}
	users.Wait()
	cancel()
	w := r.window.Load()
	end := time.Now()
	if end.After(w.end) {
		end = w.end
	}
	elapsed := max(end.Sub(w.start), 0)

	rep := UserReport{
		Config: cfg, Date: start, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
		GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(),
		SignedIn: int(ok.Load()), SignInTook: signInTook, Elapsed: elapsed, Copies: int(r.copies.Load()),
	}
	rep.Config.Password = ""
	rep.SignIn = r.signIn.stats(EndpointSignIn, signInTook)
	rep.Endpoints, rep.Total = r.rec.all(elapsed)
	rep.Everything, _ = r.everything.all(0)
	switch {
	case rep.SignedIn == 0:
		return rep, fmt.Errorf("no user signed in: %s", firstProblem(rep.SignIn))
	case signInTook == 0 && ctx.Err() == nil:
		return rep, fmt.Errorf("the sign-ins took over %s: %d of %d users signed in", cfg.SignInTimeout, rep.SignedIn, cfg.Users)
	}
	return rep, ctx.Err()
}

func firstProblem(s Stats) string {
	if s.FirstError != "" {
		return s.FirstError
	}
	return fmt.Sprintf("statuses %v", s.Statuses)
}

// farFuture stands for "not yet known" in a window.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// window is the measured time, known once every user has signed in.
type window struct{ start, end time.Time }

// userRun is one RunUsers.
type userRun struct {
	cfg    UserConfig
	client *http.Client
	rec    *recorder // the measured endpoints
	// everything is every request after sign-in, warmup included.
	everything *recorder
	signIn     *recorder // the sign-ins, whatever the window
	catalog    *catalog
	tag        string // the run's part of {n}
	copyN      atomic.Int64
	copies     atomic.Int64
	sem        chan struct{}
	window     atomic.Pointer[window]
}

// user is one virtual user: its cookies, its CSRF token, its random
// choices and what it knows of the operations in flight.
type user struct {
	run    *userRun
	client *http.Client
	rng    *rand.Rand
	csrf   string
	ops    []int64 // operations it has seen in flight, newest last
	// targets are the folders the copy form offered; nil until it was seen.
	targets []string
	noCopy  bool // the copy form offered no folder
}

func (r *userRun) newUser(i int) *user {
	jar, _ := cookiejar.New(nil) // never fails without options
	c := *r.client
	c.Jar = jar
	return &user{run: r, client: &c, rng: rand.New(rand.NewPCG(r.cfg.Seed, uint64(i)+1))}
}

// answer is what a step needs of a response.
type answer struct {
	status   int
	location string
	body     []byte
}

// maxBody bounds what a user keeps of a response to scrape it.
const maxBody = 4 << 20

// do sends one request and records it under name when the window is open
// (or always, into rec, when rec is the sign-in recorder). ok says which
// statuses are successes.
func (u *user) do(ctx context.Context, rec *recorder, name, method, target string, form url.Values, hdr http.Header, ok func(int) bool) (answer, error) {
	r := u.run
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	rawURL := r.cfg.BaseURL + target
	if r.cfg.baseline != "" {
		rawURL, method, body = r.cfg.baseline, http.MethodGet, nil
	}
	reqCtx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(reqCtx, method, rawURL, body)
	if err != nil {
		return answer{}, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	began := time.Now()
	a, err := u.roundTrip(req)
	ended := time.Now()
	if r.cfg.baseline != "" && err == nil {
		a.status = baselineStatus(name) // what the app would have answered
	}
	w := r.window.Load()
	if !(err != nil && ctx.Err() != nil) && rec != r.signIn {
		r.everything.record(name, ended.Sub(began), a.status, int64(len(a.body)), err, ok)
	}
	switch {
	case err != nil && ctx.Err() != nil:
		return a, err // cut off by the end of the run, not the server's fault
	case rec == r.signIn:
	case began.Before(w.start) || ended.After(w.end):
		return a, err // warmup, or finished after the window closed
	}
	rec.record(name, ended.Sub(began), a.status, int64(len(a.body)), err, ok)
	if err == nil && !ok(a.status) {
		err = fmt.Errorf("%s %s: status %d", method, target, a.status)
	}
	return a, err
}

// baselineStatus is the status a bare Echo answer stands for.
func baselineStatus(name string) int {
	switch name {
	case EndpointSignIn, EndpointCopy:
		return http.StatusSeeOther
	}
	return http.StatusOK
}

func (u *user) roundTrip(req *http.Request) (answer, error) {
	resp, err := u.client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	a := answer{status: resp.StatusCode, location: resp.Header.Get("Location"), body: b}
	if err != nil {
		return a, fmt.Errorf("read body: %w", err)
	}
	return a, nil
}

func is200(s int) bool      { return s == http.StatusOK }
func isSeeOther(s int) bool { return s == http.StatusSeeOther }

// isPoll is the success of a partial htmx polls: 200, or 286 (stop
// polling: the operation ended, nothing is in flight).
func isPoll(s int) bool { return s == http.StatusOK || s == StatusStopPolling }

// htmx is the header of an htmx request.
var htmx = http.Header{"Hx-Request": {"true"}}

// signIn signs the user in through the form: GET /login for the _csrf
// cookie and field, POST the credentials with it, expect a 303 away from
// /login. It tries three times, a second apart.
func (u *user) signIn(ctx context.Context) error {
	var err error
	for attempt := range 3 {
		if attempt > 0 {
			if !sleep(ctx, time.Second) {
				return ctx.Err()
			}
		}
		if err = u.signInOnce(ctx); err == nil || ctx.Err() != nil {
			return err
		}
	}
	return err
}

func (u *user) signInOnce(ctx context.Context) error {
	r := u.run
	select {
	case r.sem <- struct{}{}:
		defer func() { <-r.sem }()
	case <-ctx.Done():
		return ctx.Err()
	}
	if r.cfg.baseline != "" {
		_, err := u.do(ctx, r.signIn, EndpointSignIn, http.MethodGet, "/login", nil, nil, isSeeOther)
		return err
	}
	page, err := u.roundTripGet(ctx, "/login")
	if err != nil {
		r.signIn.record(EndpointSignIn, 0, 0, 0, err, is200)
		return err
	}
	tok := scrapeCSRF(page.body)
	if page.status != http.StatusOK || tok == "" {
		err := fmt.Errorf("GET /login: status %d, CSRF token %q", page.status, tok)
		r.signIn.record(EndpointSignIn, 0, page.status, 0, nil, is200)
		return err
	}
	u.csrf = tok
	form := url.Values{"username": {r.cfg.Username}, "password": {r.cfg.Password}, "_csrf": {tok}}
	a, err := u.do(ctx, r.signIn, EndpointSignIn, http.MethodPost, "/login", form, nil, isSeeOther)
	if err != nil {
		return err
	}
	if strings.HasPrefix(a.location, "/login") {
		return fmt.Errorf("sign in as %s: sent back to %s", r.cfg.Username, a.location)
	}
	return nil
}

// roundTripGet is a GET that is not recorded.
func (u *user) roundTripGet(ctx context.Context, target string) (answer, error) {
	reqCtx, cancel := context.WithTimeout(ctx, u.run.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, u.run.cfg.BaseURL+target, nil)
	if err != nil {
		return answer{}, err
	}
	return u.roundTrip(req)
}

// loop runs the user's actions until the window closes or ctx ends: first
// the list page as a browser opens it (the whole page), then weighted
// actions, each followed by think time.
func (u *user) loop(ctx context.Context) {
	r := u.run
	u.list(ctx, "/", nil)
	total := r.cfg.Weights.total()
	for ctx.Err() == nil && time.Now().Before(r.window.Load().end) {
		if total > 0 {
			u.act(ctx, r.cfg.Weights.pick(u.rng.IntN(total)))
		}
		if !u.think(ctx) {
			return
		}
	}
}

// think pauses for the think time; false when the run ends meanwhile.
func (u *user) think(ctx context.Context) bool {
	mean := u.run.cfg.Think
	if mean <= 0 {
		return ctx.Err() == nil
	}
	d := time.Duration(min(u.rng.ExpFloat64(), 4) * float64(mean))
	if end := u.run.window.Load().end; time.Now().Add(d).After(end) {
		d = max(time.Until(end), 0)
	}
	return sleep(ctx, d)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (u *user) act(ctx context.Context, a action) {
	r := u.run
	baseline := r.cfg.baseline != ""
	switch a {
	case actList:
		u.list(ctx, u.listURL(), htmxMostly(u.rng))
	case actSearch:
		q := r.catalog.word(u.rng)
		_, _ = u.do(ctx, r.rec, EndpointSearch, http.MethodGet, "/?q="+url.QueryEscape(q), nil, htmx, is200)
	case actDetail:
		img, ok := r.catalog.image(u.rng, nil)
		if !ok && !baseline {
			u.list(ctx, u.listURL(), htmx)
			return
		}
		_, _ = u.do(ctx, r.rec, EndpointDetail, http.MethodGet, "/images/compute/"+img.id, nil, nil, is200)
	case actBadge:
		if len(u.ops) == 0 && !baseline {
			u.monitor(ctx)
			return
		}
		u.badge(ctx)
	case actMonitor:
		u.monitor(ctx)
	case actCounts:
		_, _ = u.do(ctx, r.rec, EndpointCounts, http.MethodGet, "/operations/counts", nil, htmx, isPoll)
	case actCopy:
		if !u.copy(ctx) {
			u.list(ctx, u.listURL(), htmx)
		}
	}
}

// htmxMostly is the header of a list page: three in four come from the
// filter bar (htmx partials), the rest are whole pages.
func htmxMostly(rng *rand.Rand) http.Header {
	if rng.IntN(4) == 0 {
		return nil
	}
	return htmx
}

// list gets a list page and learns from it.
func (u *user) list(ctx context.Context, target string, hdr http.Header) {
	a, err := u.do(ctx, u.run.rec, EndpointList, http.MethodGet, target, nil, hdr, is200)
	if err == nil && u.run.cfg.baseline == "" {
		u.run.catalog.learn(a.body)
	}
}

// listSorts are the sort columns a list asks for.
var listSorts = []string{"created_at", "name", "size", "family", "status", "min_disk_size"}

// listURL is a list page with a random set of filters: status, family,
// label, folder, sort and direction, page size, or a next page seen before.
func (u *user) listURL() string {
	c, rng := u.run.catalog, u.rng
	if rng.IntN(5) == 0 {
		if next, ok := c.cursor(rng); ok {
			return next
		}
	}
	v := url.Values{}
	if rng.IntN(2) == 0 {
		v.Set("status", c.pick(rng, kindStatus, "READY"))
	}
	if rng.IntN(3) == 0 {
		v.Set("family", c.pick(rng, kindFamily, ""))
	}
	if rng.IntN(4) == 0 {
		v.Set("label", c.pick(rng, kindLabel, ""))
	}
	if rng.IntN(6) == 0 {
		v.Set("folder", c.pick(rng, kindFolder, ""))
	}
	if rng.IntN(2) == 0 {
		v.Set("sort", listSorts[rng.IntN(len(listSorts))])
		v.Set("dir", []string{"asc", "desc"}[rng.IntN(2)])
	}
	if rng.IntN(5) == 0 {
		v.Set("limit", []string{"25", "100"}[rng.IntN(2)])
	}
	for k, vs := range v {
		if vs[0] == "" {
			delete(v, k)
		}
	}
	if len(v) == 0 {
		return "/"
	}
	return "/?" + v.Encode()
}

// maxOps bounds the operations a user keeps polling.
const maxOps = 20

func (u *user) addOps(ids []int64) {
	for _, id := range ids {
		if !containsID(u.ops, id) {
			u.ops = append(u.ops, id)
		}
	}
	if n := len(u.ops) - maxOps; n > 0 {
		u.ops = append(u.ops[:0], u.ops[n:]...)
	}
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// badge polls one operation's badge; an answer of 286 (stop polling)
// means it ended, and the user forgets it.
func (u *user) badge(ctx context.Context) {
	var id int64 = 1
	i := -1
	if len(u.ops) > 0 {
		i = u.rng.IntN(len(u.ops))
		id = u.ops[i]
	}
	a, err := u.do(ctx, u.run.rec, EndpointBadge, http.MethodGet, "/operations/"+strconv.FormatInt(id, 10)+"/badge", nil, htmx, isPoll)
	if i >= 0 && (err == nil && a.status == StatusStopPolling || a.status == http.StatusNotFound) {
		u.ops = append(u.ops[:i], u.ops[i+1:]...)
	}
}

// monitor gets the monitor's in-flight section and learns its operations.
func (u *user) monitor(ctx context.Context) {
	a, err := u.do(ctx, u.run.rec, EndpointMonitor, http.MethodGet, "/operations?part=inflight", nil, htmx, isPoll)
	if err == nil && u.run.cfg.baseline == "" {
		u.addOps(scrapeRunningOps(a.body))
	}
}

// copy copies a known READY Compute image as a person does: the form (the
// folders it offers), the post (one folder, a name of its own), the result
// page it redirects to (the operation to poll). False when there was
// nothing to copy or nowhere to copy into.
func (u *user) copy(ctx context.Context) bool {
	r := u.run
	baseline := r.cfg.baseline != ""
	if u.noCopy && !baseline {
		return false
	}
	src, ok := r.catalog.image(u.rng, copySource)
	if !ok && !baseline {
		return false
	}
	base := "/images/compute/" + src.id + "/copy"
	a, err := u.do(ctx, r.rec, EndpointCopyForm, http.MethodGet, base, nil, nil, is200)
	if err != nil {
		return true
	}
	if !baseline {
		u.targets = scrapeCopyTargets(a.body)
		if tok := scrapeCSRF(a.body); tok != "" {
			u.csrf = tok
		}
		if len(u.targets) == 0 {
			u.noCopy = true
			return true
		}
	}
	folder := ""
	if len(u.targets) > 0 {
		folder = u.targets[u.rng.IntN(len(u.targets))]
	}
	n := r.tag + strconv.FormatInt(r.copyN.Add(1), 10)
	form := url.Values{
		"_csrf":  {u.csrf},
		"folder": {folder},
		"name":   {strings.ReplaceAll(r.cfg.CopyName, "{n}", n)},
	}
	a, err = u.do(ctx, r.rec, EndpointCopy, http.MethodPost, base, form, nil, isSeeOther)
	if err != nil {
		return true
	}
	r.copies.Add(1)
	next := a.location
	if baseline {
		next = "/copies/x"
	}
	if !strings.HasPrefix(next, "/copies/") {
		return true
	}
	a, err = u.do(ctx, r.rec, EndpointCopyResult, http.MethodGet, next, nil, nil, is200)
	if err == nil && !baseline {
		u.addOps(scrapeOps(a.body))
	}
	return true
}

// copySource is an image worth copying: READY, a name short enough for a
// suffix, and not itself a load-test copy (a user's or the keeper's).
func copySource(img image) bool {
	return img.status == "READY" && len(img.name) <= 40 && !strings.Contains(img.name, "-lt-") && !strings.Contains(img.name, "-keep-")
}
