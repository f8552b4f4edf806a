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

// RateLimiter counts failed logins per username and per client address.
// After the limit, logins for that username or from that address are
// refused until the window that began with the first failure has passed.
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

// Allow tells whether a login for user from ip may be tried now; when not,
// retryAfter says how long until it may.
func (l *RateLimiter) Allow(user, ip string) (retryAfter time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.cfg.Now()
	for _, k := range l.keys(user, ip) {
		w := l.m[k]
		if w == nil || l.over(w, now) {
			continue
		}
		if w.fails >= w.limit {
			retryAfter = max(retryAfter, w.start.Add(l.cfg.Window).Sub(now))
		}
	}
	return retryAfter, retryAfter == 0
}

// Failure records a failed login for user from ip.
func (l *RateLimiter) Failure(user, ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.cfg.Now()
	for i, k := range l.keys(user, ip) {
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
	}
}

// Success forgets the failures of user (not of ip: one good account must
// not reset an address that tries many).
func (l *RateLimiter) Success(user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, userKey(user))
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
