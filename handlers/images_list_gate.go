package handlers

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/fault"
)

// ListLimits bound what one list or search may cost the others: how many
// list computations one person has in flight, how long an extra one waits
// for a slot, and how long one may run. The zero value has the defaults.
//
// Why: a search that expands to many terms held a reader connection and a
// core for up to a second, and one person sending them back to back took
// every reader connection, so everyone else's list waited (issue 15: list
// p99 about 600 ms). With a slot limit one person holds at most PerPerson
// connections, and with the deadline at most Timeout each.
type ListLimits struct {
	// PerPerson is how many lists or searches one person may have computed
	// at once (0 → 2).
	PerPerson int
	// Wait is the longest an extra one waits for a slot before 429 (0 → 1 s).
	Wait time.Duration
	// Timeout bounds one list computation; its SQL is interrupted at the
	// deadline (0 → 2 s).
	Timeout time.Duration
	// Searches is how many searches (lists with search text) the whole
	// server computes at once (0 → one less than the cores, at least 1):
	// a search of short prefixes costs up to a second of a core, and one
	// person's two allowed ones filled both cores of a 2-core machine, so
	// everyone's plain lists waited. With this bound a core stays for them.
	Searches int
	// Off turns every bound off, the search's own bounds (checkSearch)
	// included: for the benchmark's side-by-side baseline only.
	Off bool
	// After is the timer of the wait (nil → time.After); tests inject one.
	After func(time.Duration) <-chan time.Time
}

// listRetryAfter is the Retry-After of a list refused for the person's
// other searches, in seconds.
const listRetryAfter = 2

// errListBusy: every slot of the person stayed taken for the whole wait.
var errListBusy = errors.New("the person's list slots are taken")

// ListGate holds each person's list slots: at most limit computations in
// flight per key. A key's slots exist while someone holds or waits for
// one (so the map holds only the people listing right now); other keys
// never wait on them.
type ListGate struct {
	limit int
	wait  time.Duration
	after func(time.Duration) <-chan time.Time

	mu    sync.Mutex
	slots map[string]*personSlots
}

// personSlots is one key's semaphore and how many hold or wait for it.
type personSlots struct {
	ch    chan struct{}
	users int
}

// NewListGate builds the gate of l (its defaults filled in).
func NewListGate(l ListLimits) *ListGate {
	l = l.withDefaults()
	return &ListGate{limit: l.PerPerson, wait: l.Wait, after: l.After, slots: map[string]*personSlots{}}
}

// newSearchGate is the server's search slots: one key whose limit is
// l.Searches.
func newSearchGate(l ListLimits) *ListGate {
	l = l.withDefaults()
	l.PerPerson = l.Searches
	return NewListGate(l)
}

// withDefaults is l with its zero fields set.
func (l ListLimits) withDefaults() ListLimits {
	if l.PerPerson <= 0 {
		l.PerPerson = 2
	}
	if l.Wait <= 0 {
		l.Wait = time.Second
	}
	if l.Timeout <= 0 {
		l.Timeout = 2 * time.Second
	}
	if l.Searches <= 0 {
		l.Searches = max(1, runtime.GOMAXPROCS(0)-1)
	}
	if l.After == nil {
		l.After = time.After
	}
	return l
}

// Acquire takes one of key's slots, waiting at most the gate's wait:
// errListBusy when none came free, or ctx's error when ctx ended first.
// release gives the slot back; call it once.
func (g *ListGate) Acquire(ctx context.Context, key string) (release func(), err error) {
	g.mu.Lock()
	ps := g.slots[key]
	if ps == nil {
		ps = &personSlots{ch: make(chan struct{}, g.limit)}
		g.slots[key] = ps
	}
	ps.users++
	g.mu.Unlock()

	release = func() {
		<-ps.ch
		g.leave(key, ps)
	}
	select {
	case ps.ch <- struct{}{}:
		return release, nil
	default:
	}
	select {
	case ps.ch <- struct{}{}:
		return release, nil
	case <-g.after(g.wait):
		g.leave(key, ps)
		return nil, errListBusy
	case <-ctx.Done():
		g.leave(key, ps)
		return nil, ctx.Err()
	}
}

// leave drops one user of key's slots, and the slots with the last one.
func (g *ListGate) leave(key string, ps *personSlots) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if ps.users--; ps.users == 0 {
		delete(g.slots, key)
	}
}

// listSlot takes one of the viewer's list slots for a list computation,
// and bounds it by the deadline: the returned ctx carries it, done (call
// it once) cancels it and frees the slot. A person over the limit gets 429
// with a Retry-After.
//
// A search (searching) also takes one of the server's search slots
// (ListLimits.Searches), after the person's: a busy server answers 503
// with a Retry-After, and plain lists never wait for searches.
func (h *Handlers) listSlot(c echo.Context, searching bool) (ctx context.Context, done func(), err error) {
	ctx = c.Request().Context()
	if h.listLimits.Off {
		return ctx, func() {}, nil
	}
	release, err := h.listGate.Acquire(ctx, listKey(c))
	if err != nil {
		return nil, nil, fault.New(fault.RateLimited, "You already have searches running; wait for them to finish.").
			RetryIn(listRetryAfter * time.Second).Wrap(fmt.Errorf("list slot: %w", err))
	}
	if searching {
		releaseSearch, err := h.searchGate.Acquire(ctx, "")
		if err != nil {
			release()
			return nil, nil, fault.New(fault.Busy, "Many searches are running at this moment. Try again in a few seconds, "+
				"or narrow the search with longer words or a filter.").
				RetryIn(listRetryAfter * time.Second).Wrap(fmt.Errorf("search slot: %w", err))
		}
		release = func(person func()) func() { return func() { releaseSearch(); person() } }(release)
	}
	ctx, cancel := context.WithTimeout(ctx, h.listLimits.Timeout)
	return ctx, func() { cancel(); release() }, nil
}

// listKey is whose slots a request takes: the signed-in person, or the
// client's address for an anonymous request (which the routes refuse
// anyway; the gate must not lump them together with a person).
func listKey(c echo.Context) string {
	if v := viewer(c); v.User.ID != 0 {
		return "u" + strconv.FormatInt(v.User.ID, 10)
	}
	return "ip " + c.RealIP()
}

// listTimedOut turns an error of a list computation run under ctx (from
// listSlot) into a 503 saying the search was stopped, when ctx's deadline
// ended it and the request itself is still wanted; other errors as they
// are.
func listTimedOut(c echo.Context, ctx context.Context, err error) error {
	if err == nil || !errors.Is(ctx.Err(), context.DeadlineExceeded) || c.Request().Context().Err() != nil {
		return err
	}
	return fault.New(fault.Unavailable, "This search took too long, so it was stopped. Narrow it down: longer or more "+
		"words, or a status, family or label filter.").
		RetryIn(listRetryAfter * time.Second).Wrap(fmt.Errorf("list deadline: %w", err))
}
