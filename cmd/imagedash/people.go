package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/imagedash/imagedash/auth"
	"github.com/imagedash/imagedash/store"
)

// adminPasswordEnv names the first admin's password. It is read from the
// environment only, never a flag: flags show up in ps.
const adminPasswordEnv = envPrefix + "ADMIN_PASSWORD"

// bootstrapAdmin makes the first account, "admin", when there is none:
// with the password of $IMAGEDASH_ADMIN_PASSWORD, or a random one printed
// once to the log. An existing database is left alone whatever the
// environment says, so restarting never resets a password.
func bootstrapAdmin(ctx context.Context, st *store.Store, hasher *auth.Hasher, password string, log *slog.Logger) error {
	n, err := st.CountUsers(ctx)
	if err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	if n > 0 {
		return nil
	}
	generated := password == ""
	if generated {
		var b [15]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
		password = base64.RawURLEncoding.EncodeToString(b[:])
	} else if len(password) < 12 {
		return fmt.Errorf("first admin: %s must be at least 12 characters", adminPasswordEnv)
	}
	hash, err := hasher.Hash(ctx, password)
	if err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	if _, err := st.CreateUser(ctx, store.NewUser{Username: "admin", PasswordHash: hash, Admin: true}); err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	if generated {
		log.Warn("created the first admin with a random password; it is shown only this once: sign in and keep it, or set "+
			adminPasswordEnv+" on an empty database", "username", "admin", "password", password)
	} else {
		log.Info("created the first admin from "+adminPasswordEnv, "username", "admin")
	}
	return nil
}

// sessionKeySecret is the name of the generated session key in the store.
const sessionKeySecret = "session-hash-key"

// sessionKeyPairs are the session cookie's keys, newest first: from
// --session-keys (comma-separated, base64 or hex, 32 or 64 bytes each;
// put a new key first to rotate, keep the old one after it until the
// sessions it signed have ended), or else one generated and kept in the
// database. Only hash keys: the cookie holds a random id, nothing secret
// to encrypt.
func sessionKeyPairs(ctx context.Context, st *store.Store, keys string) ([][]byte, error) {
	var pairs [][]byte
	for i, k := range strings.Split(keys, ",") {
		if k = strings.TrimSpace(k); k == "" {
			continue
		}
		b, err := decodeKey(k)
		if err != nil {
			return nil, fmt.Errorf("--session-keys: key %d: %w", i+1, err)
		}
		pairs = append(pairs, b, nil)
	}
	if len(pairs) > 0 {
		return pairs, nil
	}
	key, err := st.Secret(ctx, sessionKeySecret)
	if err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	return [][]byte{key, nil}, nil
}

func decodeKey(s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		if b, err = base64.StdEncoding.DecodeString(s); err != nil {
			if b, err = base64.RawURLEncoding.DecodeString(s); err != nil {
				return nil, errors.New("neither hex nor base64")
			}
		}
	}
	if len(b) != 32 && len(b) != 64 {
		return nil, fmt.Errorf("%d bytes; want 32 or 64 (e.g. openssl rand -hex 32)", len(b))
	}
	return b, nil
}

// sweepSessions deletes expired session rows every interval until ctx ends.
func sweepSessions(ctx context.Context, st *store.Store, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := st.SweepSessions(ctx, time.Now())
			switch {
			case err != nil && ctx.Err() == nil:
				log.Error("sweep expired sessions", "err", err)
			case n > 0:
				log.Info("swept expired sessions", "count", n)
			}
		}
	}
}

// demoPassword is every demo account's password: the accounts exist only
// against the embedded emulator, to try each role.
const demoPassword = "imagedash-demo"

// demoAccounts are the --demo people: one per role, over two teams, so two
// browsers side by side show what each may see and do.
var demoAccounts = []struct {
	user, team, folder string
	role               store.Role
}{
	{"alice", "alpha", "team-alpha", store.RoleEditor},
	{"amir", "alpha", "team-alpha", store.RoleCopier},
	{"ava", "alpha", "team-alpha", store.RoleViewer},
	{"bob", "beta", "team-beta", store.RoleEditor},
	{"bea", "beta", "team-beta", store.RoleCopier},
}

// seedDemo adds the demo teams and accounts and shares the golden-images
// folder. folders maps the emulator's folder names to ids. What exists
// already is kept, so it is safe on every start.
func seedDemo(ctx context.Context, st *store.Store, hasher *auth.Hasher, folders map[string]string, log *slog.Logger) error {
	hash, err := hasher.Hash(ctx, demoPassword)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	teams := map[string]int64{}
	existing, err := st.Teams(ctx)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	for _, t := range existing {
		teams[t.Name] = t.ID
	}
	var created []string
	for _, a := range demoAccounts {
		tid, ok := teams[a.team]
		if !ok {
			t, err := st.CreateTeam(ctx, a.team)
			if err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			tid, teams[a.team] = t.ID, t.ID
			if id := folders[a.folder]; id != "" {
				if err := st.AssignFolder(ctx, tid, id); err != nil {
					return fmt.Errorf("demo: %w", err)
				}
			}
		}
		if _, err := st.UserByName(ctx, a.user); !errors.Is(err, store.ErrNotFound) {
			if err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			continue // kept as an admin may have changed it
		}
		u, err := st.CreateUser(ctx, store.NewUser{Username: a.user, PasswordHash: hash})
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if err := st.AddMember(ctx, tid, u.ID, a.role); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		created = append(created, a.user+" ("+string(a.role)+", "+a.team+")")
	}
	if id := folders["golden-images"]; id != "" {
		if err := st.SetFolderShared(ctx, id, true); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	if len(created) > 0 {
		log.Info("demo accounts created (emulator only)", "password", demoPassword, "users", strings.Join(created, ", "))
	}
	return nil
}

// peopleDeps are the sign-in parts built at start.
type peopleDeps struct {
	sessions *auth.SessionStore
	hasher   *auth.Hasher
}

// startPeople makes the first admin (and with --demo the demo accounts),
// the session store with its keys, and starts the sweep of expired
// sessions; stop ends the sweep.
func startPeople(ctx context.Context, cfg config, st *store.Store, simFolders map[string]string, log *slog.Logger) (peopleDeps, func(), error) {
	hasher := auth.NewHasher(auth.HasherConfig{Params: cfg.hashParams})
	if err := bootstrapAdmin(ctx, st, hasher, cfg.adminPassword, log); err != nil {
		return peopleDeps{}, nil, err
	}
	if cfg.demo {
		if err := seedDemo(ctx, st, hasher, simFolders, log); err != nil {
			return peopleDeps{}, nil, err
		}
	}
	keys, err := sessionKeyPairs(ctx, st, cfg.sessionKeys)
	if err != nil {
		return peopleDeps{}, nil, err
	}
	sessions, err := auth.NewSessionStore(st, auth.SessionConfig{
		KeyPairs: keys,
		Idle:     cfg.sessionIdle,
		Absolute: cfg.sessionLifetime,
		Secure:   cfg.secureCookies,
		Logger:   log,
	})
	if err != nil {
		return peopleDeps{}, nil, fmt.Errorf("sessions: %w", err)
	}
	sweepCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sweepSessions(sweepCtx, st, min(cfg.sessionIdle, 10*time.Minute), log)
	}()
	return peopleDeps{sessions: sessions, hasher: hasher}, func() { stop(); <-done }, nil
}
