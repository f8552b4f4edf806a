package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// KeeperConfig says how many operations to keep in flight, as whom.
type KeeperConfig struct {
	// BaseURL, Username and Password are as in UserConfig; the account
	// must be a copier or editor of a team (the copies go into a folder
	// its copy form offers).
	BaseURL, Username, Password string
	// Target is the number of operations in flight to keep: every Every,
	// the keeper reads the header's count of operations in flight (the
	// operations its account may see) and starts copies up to Target, at
	// most Burst at a time.
	Target int
	Every  time.Duration // 0 → 2 s
	Burst  int           // 0 → 10
	// CopyName as in UserConfig; "" → "{name}-keep-{n}".
	CopyName string
	// Timeout of one request; 0 → 30 s.
	Timeout time.Duration
}

// Keeper keeps operations in flight on the dashboard by copying images,
// the way a person does (form, post, result page), so that badge polls and
// the monitor have something to show. Start it with KeepInFlight.
type Keeper struct {
	u        *user
	cfg      KeeperConfig
	inFlight atomic.Int64
	started  atomic.Int64
	failed   atomic.Int64
	mu       sync.Mutex
	lastErr  string
	done     chan struct{}
}

// KeepInFlight signs in, learns copy sources from the list of READY
// images, and keeps cfg.Target operations in flight until ctx ends (Wait
// for it to stop). It fails when the sign-in does.
func KeepInFlight(ctx context.Context, cfg KeeperConfig) (*Keeper, error) {
	if cfg.Every <= 0 {
		cfg.Every = 2 * time.Second
	}
	if cfg.Burst <= 0 {
		cfg.Burst = 10
	}
	if cfg.CopyName == "" {
		cfg.CopyName = "{name}-keep-{n}"
	}
	ucfg, err := UserConfig{
		BaseURL: cfg.BaseURL, Users: 1, Username: cfg.Username, Password: cfg.Password,
		Duration: time.Second, CopyName: cfg.CopyName, Timeout: cfg.Timeout, SignInConcurrency: 1,
	}.withDefaults()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	r := &userRun{
		cfg: ucfg, client: newClient(1, false), rec: newRecorder(), everything: newRecorder(),
		signIn: newRecorder(), catalog: newCatalog(), tag: strconv.FormatInt(start.Unix(), 36),
		sem: make(chan struct{}, 1),
	}
	r.window.Store(&window{start: time.Time{}, end: farFuture}) // record everything
	k := &Keeper{u: r.newUser(0), cfg: cfg, done: make(chan struct{})}
	if err := k.u.signIn(ctx); err != nil {
		return nil, fmt.Errorf("keeper: sign in: %w", err)
	}
	go k.run(ctx)
	return k, nil
}

// InFlight is the last count of operations in flight the keeper read.
func (k *Keeper) InFlight() int { return int(k.inFlight.Load()) }

// Copies are the copies the keeper started and those that failed, and
// the last failure's text.
func (k *Keeper) Copies() (started, failed int, lastErr string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return int(k.started.Load()), int(k.failed.Load()), k.lastErr
}

// Wait returns once the keeper has stopped (its context ended).
func (k *Keeper) Wait() { <-k.done }

var inFlightCount = regexp.MustCompile(`data-inflight="(\d+)"`)

func (k *Keeper) run(ctx context.Context) {
	defer close(k.done)
	u := k.u
	// Sources: a few pages of READY images.
	next := "/?status=READY&limit=200"
	for range 5 {
		a, err := u.do(ctx, u.run.rec, EndpointList, http.MethodGet, next, nil, nil, is200)
		if err != nil {
			k.fail(err)
			break
		}
		u.run.catalog.learn(a.body)
		m := nextPage.FindSubmatch(a.body)
		if m == nil {
			break
		}
		next = htmlUnescape(m[1])
	}
	t := time.NewTicker(k.cfg.Every)
	defer t.Stop()
	for {
		a, err := u.do(ctx, u.run.rec, EndpointCounts, http.MethodGet, "/operations/counts", nil, htmx, isPoll)
		if err == nil {
			if m := inFlightCount.FindSubmatch(a.body); m != nil {
				n, _ := strconv.Atoi(string(m[1]))
				k.inFlight.Store(int64(n))
				for i := 0; i < min(k.cfg.Target-n, k.cfg.Burst) && ctx.Err() == nil; i++ {
					k.copy(ctx)
				}
			}
		} else if ctx.Err() == nil {
			k.fail(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// copy starts one copy and counts it.
func (k *Keeper) copy(ctx context.Context) {
	before := k.u.run.copies.Load()
	errsBefore := k.u.run.rec.errorCount()
	if !k.u.copy(ctx) {
		k.fail(fmt.Errorf("no image to copy, or no folder to copy into"))
		return
	}
	if k.u.run.copies.Load() > before {
		k.started.Add(1)
	} else if ctx.Err() == nil && k.u.run.rec.errorCount() > errsBefore {
		k.fail(fmt.Errorf("a copy failed: %s", k.u.run.rec.lastProblem()))
	}
}

func (k *Keeper) fail(err error) {
	k.failed.Add(1)
	k.mu.Lock()
	k.lastErr = err.Error()
	k.mu.Unlock()
}
