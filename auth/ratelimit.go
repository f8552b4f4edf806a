package auth

import (
	"net/netip"
	"strings"
	"sync"
	"time"
)

// RateLimitConfig configures a RateLimiter. Zero fields take the defaults.
type RateLimitConfig struct {
	PerUser int           // failed logins a username may have in a window (default 5)
	PerIP   int           // failed logins an address may have in a window (default 20)
	Window  time.Duration // default 15 min
	MaxKeys int           // usernames and addresses remembered at most (default 10 000)
	Now     func() time.Time
}

// LoginLimiter is what the sign-in handler needs from a limiter: one
// call, made before the password hash, that counts the attempt or refuses
// it. A limiter whose counters live in the database (for replicas) can
// take RateLimiter's place behind it.
type LoginLimiter interface {
	Reserve(user, ip string) (r Reservation, retryAfter time.Duration, ok bool)
}

// Reservation is a sign-in attempt counted by Reserve. Left alone it stays
// counted: a wrong password (or an unknown name, or a disabled account)
// is a failure. Exactly one of its methods may be called, at most once.
type Reservation interface {
	// Succeeded: the password was right. The name's failures are
	// forgotten, and the attempt no longer counts against the address.
	Succeeded()
	// Cancel: the password was never checked (no hashing slot came free);
	// the attempt no longer counts at all.
	Cancel()
}

var _ LoginLimiter = (*RateLimiter)(nil)

// RateLimiter counts sign-in attempts per username and per client address.
// An attempt is counted when it is reserved, before the password is
// checked, and under the same lock as the check against the limit: a burst
// of concurrent guesses gets at most the limit checked, the rest refused.
// After the limit, sign-ins for that username or from that address are
// refused until the window that began with the first attempt has passed.
// Memory is bounded by MaxKeys. It is safe for concurrent use.
type RateLimiter struct {
	cfg RateLimitConfig
	mu  sync.Mutex
	m   map[string]*window
}

type window struct {
	start time.Time
	fails int
	limit int
}

// NewRateLimiter makes a RateLimiter.
func NewRateLimiter(cfg RateLimitConfig) *RateLimiter {
	if cfg.PerUser <= 0 {
		cfg.PerUser = 5
	}
	if cfg.PerIP <= 0 {
		cfg.PerIP = 20
	}
	if cfg.Window <= 0 {
		cfg.Window = 15 * time.Minute
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = 10000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &RateLimiter{cfg: cfg, m: make(map[string]*window)}
}

// Reserve counts a sign-in attempt for user from ip, or, when the name or
// the address has reached its limit, refuses it (counting nothing) and
// says how long until it may be tried.
func (l *RateLimiter) Reserve(user, ip string) (r Reservation, retryAfter time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.cfg.Now()
	keys := l.keys(user, ip)
	for _, k := range keys {
		w := l.m[k]
		if w != nil && !l.over(w, now) && w.fails >= w.limit {
			retryAfter = max(retryAfter, w.start.Add(l.cfg.Window).Sub(now))
		}
	}
	if retryAfter > 0 {
		return nil, retryAfter, false
	}
	res := &reservation{l: l, keys: keys}
	for i, k := range keys {
		w := l.m[k]
		if w == nil || l.over(w, now) {
			if w == nil && len(l.m) >= l.cfg.MaxKeys {
				l.evict(now)
			}
			limit := l.cfg.PerUser
			if i == 1 {
				limit = l.cfg.PerIP
			}
			w = &window{start: now, limit: limit}
			l.m[k] = w
		}
		w.fails++
		res.w[i] = w
	}
	return res, 0, true
}

// reservation is RateLimiter's Reservation: the windows it was counted in.
// A refund reaches a window only while it is still the key's current one
// (not replaced by a new window, not evicted).
type reservation struct {
	l    *RateLimiter
	keys [2]string
	w    [2]*window
	done bool
}

func (r *reservation) Succeeded() {
	r.l.mu.Lock()
	defer r.l.mu.Unlock()
	if r.done {
		return
	}
	r.done = true
	// Not the address's other failures: one good account must not reset
	// an address that tries many.
	delete(r.l.m, r.keys[0])
	r.l.refund(r.keys[1], r.w[1])
}

func (r *reservation) Cancel() {
	r.l.mu.Lock()
	defer r.l.mu.Unlock()
	if r.done {
		return
	}
	r.done = true
	for i := range r.keys {
		r.l.refund(r.keys[i], r.w[i])
	}
}

// refund takes one attempt back from w if it is still k's window.
func (l *RateLimiter) refund(k string, w *window) {
	if cur := l.m[k]; cur == w && cur.fails > 0 {
		cur.fails--
	}
}

// Len is the number of keys remembered.
func (l *RateLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

func (l *RateLimiter) over(w *window, now time.Time) bool {
	return !now.Before(w.start.Add(l.cfg.Window))
}

// evict makes room: it drops the windows that are over and, if none was,
// the oldest window that does not block (or the oldest of all).
func (l *RateLimiter) evict(now time.Time) {
	var oldest, oldestOpen string
	for k, w := range l.m {
		if l.over(w, now) {
			delete(l.m, k)
			continue
		}
		if oldest == "" || w.start.Before(l.m[oldest].start) {
			oldest = k
		}
		if w.fails < w.limit && (oldestOpen == "" || w.start.Before(l.m[oldestOpen].start)) {
			oldestOpen = k
		}
	}
	if len(l.m) < l.cfg.MaxKeys {
		return
	}
	if oldestOpen != "" {
		delete(l.m, oldestOpen)
	} else {
		delete(l.m, oldest)
	}
}

// keys are the user's key then the address's.
func (l *RateLimiter) keys(user, ip string) [2]string {
	return [2]string{userKey(user), ipKey(ip)}
}

func userKey(user string) string { return "u:" + strings.ToLower(user) }

// AddressKey names the client address ip as the limiter counts it (IPv6
// by its /64), for whoever groups by the same clients (the audit log's
// refusals).
func AddressKey(ip string) string { return ipKey(ip) }

// ipKey is the address, IPv6 reduced to its /64 (one host's usual share).
func ipKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "ip:" + ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return "ip:" + p.String()
	}
	return "ip:" + a.String()
}
