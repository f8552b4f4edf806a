package auth

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestSessionReadsWhenStoreCannotWrite: with no write possible (a full or
// read-only disk), a session due for its activity to be recorded, and one
// that has expired, still load without an error: the first as stored, the
// second as a new session. The fault is logged at warn once, and the
// recovery once; with room again the activity is recorded.
func TestSessionReadsWhenStoreCannotWrite(t *testing.T) {
	ctx := context.Background()
	e := newSessionEnv(t)
	var logs bytes.Buffer
	st, err := NewSessionStore(e.db, SessionConfig{KeyPairs: e.keys, Idle: 30 * time.Minute, Absolute: 8 * time.Hour,
		Now: e.clock.Now, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	u, c := e.login(t, st)
	if err := e.db.SetWritesFail(ctx, true); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		e.clock.Advance(5 * time.Minute) // past the touch interval each time
		s, err := st.Get(request(c), cookieName)
		if err != nil || s.IsNew || s.Values[UserIDKey] != u.ID {
			t.Fatalf("load %d with no write possible: new %v, values %v, err %v; want the stored session", i, s.IsNew, s.Values, err)
		}
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Errorf("%d warnings for three skipped touches, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "record session activity") {
		t.Errorf("the warning does not say what was skipped:\n%s", logs.String())
	}

	if err := e.db.SetWritesFail(ctx, false); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(5 * time.Minute)
	s := load(t, st, c)
	if s.IsNew {
		t.Fatal("session ended after the store could be written again")
	}
	row, err := e.db.LoadSession(ctx, rowID(s.ID), e.clock.Now())
	if err != nil || !row.LastSeenAt.Equal(e.clock.Now().Truncate(time.Millisecond)) {
		t.Errorf("last seen %v, %v; want the touch recorded at %v", row.LastSeenAt, err, e.clock.Now())
	}
	if !strings.Contains(logs.String(), "can be written again") {
		t.Errorf("no recovery logged:\n%s", logs.String())
	}

	// An expired session on a store that cannot delete it: a new session.
	if err := e.db.SetWritesFail(ctx, true); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(31 * time.Minute)
	s, err = st.Get(request(c), cookieName)
	if err != nil || !s.IsNew {
		t.Errorf("expired session with no write possible: new %v, err %v; want a new session", s.IsNew, err)
	}
}
