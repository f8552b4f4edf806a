// Package handlers holds the dashboard's HTTP handlers: each parses and
// validates its input, reads the store (or, for the few sections that must,
// asks the cloud) through the small interface its file declares, and renders
// a view. Rendering (full page or HTMX partial) and the HTMX header helpers
// live here too, so imports run web → handlers → views.
package handlers

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/imagedash/imagedash/auth"
	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/syncer"
)

// Store is everything the handlers read from the cache: the union of what
// each handler file declares. *store.Store satisfies it.
type Store interface {
	ImageLister
	ImageGetter
	FamilyLister
	CacheState
}

// CacheState is what every page needs to say where the cache stands: the
// folders it knows and how fresh each one is.
type CacheState interface {
	Folders(ctx context.Context) ([]cloud.Folder, error)
	SyncStates(ctx context.Context, svc cloud.Service) ([]store.SyncState, error)
}

var (
	_ Store         = (*store.Store)(nil)
	_ Syncer        = (*syncer.Syncer)(nil)
	_ ImageHistory  = (*cloud.Client)(nil)
	_ DesktopReader = (*cloud.Client)(nil)
)

// Config holds the dependencies of the handlers.
type Config struct {
	Logger *slog.Logger
	// Store is the image cache; pages read only from it.
	Store Store
	// Syncer refreshes the cache; nil hides the Refresh button.
	Syncer Syncer
	// Cloud answers the detail page's lazy sections (operations, latest in
	// the family); nil shows them as unavailable.
	Cloud ImageHistory
	// Desktops tells whose a desktop is before it is imaged; nil takes
	// Cloud when it can (a *cloud.Client does). Without one, imaging a
	// desktop is refused (503) to all but admins.
	Desktops DesktopReader
	// Folders, when set, are the only folders the picker offers (the ones
	// the syncer watches).
	Folders []string
	// CloudTimeout bounds each lazy cloud call (0 → 10 s).
	CloudTimeout time.Duration
	// People holds the accounts, teams and audit log (the login and admin
	// pages); nil leaves the audit log unwritten (handler tests of pages
	// that do not need it).
	People People
	// Sessions keeps the sign-in sessions; Limiter throttles failed
	// sign-ins. Both are needed for the sign-in page.
	Sessions *auth.SessionStore
	Limiter  auth.LoginLimiter
	// Hasher bounds the password hashes running at once (nil → an
	// auth.Hasher with its defaults).
	Hasher PasswordHasher
	// Tracker starts and cancels changes in the cloud, and Ops reads the
	// operations it keeps; nil Tracker makes every change answer 503.
	Tracker Tracker
	Ops     OpsStore
	// ListLimits bound each person's list and search computations (the
	// zero value has the defaults; see ListLimits).
	ListLimits ListLimits
	// Now is the clock for relative times (nil → time.Now).
	Now func() time.Time
	// AuditRetention is how long audit entries are kept, said on the
	// audit page (0: not said).
	AuditRetention time.Duration
}

// PasswordHasher hashes and checks passwords a bounded number at once;
// *auth.Hasher is one.
type PasswordHasher interface {
	Hash(ctx context.Context, password string) (string, error)
	Check(ctx context.Context, encoded, password string) error
	CheckNoUser(ctx context.Context, password string) error
	RetryAfter() time.Duration
}

var _ PasswordHasher = (*auth.Hasher)(nil)

// Handlers are the HTTP handlers, as methods sharing the dependencies.
type Handlers struct {
	log      *slog.Logger
	store    Store
	syncer   Syncer
	cloud    ImageHistory
	desktops DesktopReader
	folders  []string
	people   People
	sessions *auth.SessionStore
	limiter  auth.LoginLimiter
	hasher   PasswordHasher
	tracker  Tracker
	ops      OpsStore

	auditor        Auditor
	auditRetention time.Duration
	listLimits     ListLimits
	listGate       *ListGate // each person's list slots
	searchGate     *ListGate // the server's search slots, one key
	cloudTimeout   time.Duration
	now            func() time.Time
}

// New builds the handlers from cfg.
func New(cfg Config) *Handlers {
	h := &Handlers{
		log:            cfg.Logger,
		store:          cfg.Store,
		syncer:         cfg.Syncer,
		cloud:          cfg.Cloud,
		desktops:       cfg.Desktops,
		folders:        cfg.Folders,
		people:         cfg.People,
		sessions:       cfg.Sessions,
		limiter:        cfg.Limiter,
		hasher:         cfg.Hasher,
		tracker:        cfg.Tracker,
		ops:            cfg.Ops,
		cloudTimeout:   cfg.CloudTimeout,
		listLimits:     cfg.ListLimits.withDefaults(),
		listGate:       NewListGate(cfg.ListLimits),
		searchGate:     newSearchGate(cfg.ListLimits),
		now:            cfg.Now,
		auditRetention: cfg.AuditRetention,
	}
	if d, ok := cfg.Cloud.(DesktopReader); ok && h.desktops == nil {
		h.desktops = d
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if cfg.People != nil {
		h.auditor = cfg.People
	}
	if cfg.Ops != nil {
		if _, ok := cfg.Ops.(*OpsCache); !ok {
			// Badges are polled by every open tab: read operations through
			// the cache (see OpsCache).
			h.ops = NewOpsCache(cfg.Ops)
		}
	}
	if h.limiter == nil {
		h.limiter = auth.NewRateLimiter(auth.RateLimitConfig{})
	}
	if h.hasher == nil {
		h.hasher = auth.NewHasher(auth.HasherConfig{})
	}
	if h.cloudTimeout <= 0 {
		h.cloudTimeout = 10 * time.Second
	}
	if h.now == nil {
		h.now = time.Now
	}
	return h
}

// cloudMessage says, safely, why a cloud call about an image failed, as a
// sentence for an inline error: by the error's kind (fault.KindOf), in the
// words of an image's page. The error itself (with the server's text) is
// logged by the caller, never shown: a field violation is shown next to
// its field by the form that has one (cloudViolations).
func cloudMessage(err error) string {
	switch fault.KindOf(err) {
	case fault.Unavailable, fault.Timeout:
		return "Could not reach the cloud: it is not answering right now. Try again in a moment."
	case fault.RateLimited:
		return "Could not reach the cloud: it is limiting our requests right now. Try again in a moment."
	case fault.NotFound:
		return "The cloud does not know this image any more; the next sync will drop it from the cache."
	case fault.Invalid:
		return "The cloud refused the request as not valid. Nothing was changed."
	case fault.Conflict:
		return "The cloud refused: the image's state does not allow this now, or the name is taken. Reload the page to see its state."
	}
	if errors.Is(err, cloud.ErrPermission) || errors.Is(err, cloud.ErrUnauthenticated) {
		return "Could not reach the cloud: the dashboard's credentials may not read this."
	}
	return "Could not reach the cloud: the call failed."
}
