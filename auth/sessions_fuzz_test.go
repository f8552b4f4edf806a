package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/imagedash/imagedash/store"
)

// FuzzSessionCookie: whatever the session cookie holds (garbage, a value
// signed with another key, a good signature over an id with no session),
// SessionStore.New yields a new, empty session and no error; it never
// panics. Only a failing backend is an error, and a fuzzed cookie cannot
// make the backend fail.
func FuzzSessionCookie(f *testing.F) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(f.TempDir(), "imagedash.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	key := []byte("0123456789abcdef0123456789abcdef")
	st, err := NewSessionStore(db, SessionConfig{KeyPairs: [][]byte{key, nil}, Idle: time.Hour, Absolute: 8 * time.Hour})
	if err != nil {
		f.Fatal(err)
	}

	// Seeds: well-formed values that still name no session.
	other := securecookie.New([]byte("another key, thirty-two bytes!!!"), nil)
	ours := securecookie.New(key, nil)
	for _, v := range []any{"no-such-session", "", strings.Repeat("x", 64)} {
		for _, sc := range []*securecookie.SecureCookie{ours, other} {
			enc, err := sc.Encode(cookieName, v)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(enc)
			f.Add(enc[:len(enc)/2])
			f.Add(enc + "A")
		}
	}
	// A value of another type under a good signature.
	if enc, err := ours.Encode(cookieName, map[string]int{"uid": 1}); err == nil {
		f.Add(enc)
	}
	for _, s := range []string{"", "=", "\"\"", "a|b|c", "MTIz|MTIz|MTIz", "%00", "\x00", "\xff\xfe", "; other=1",
		strings.Repeat("A", 5000), "<script>alert(1)</script>", "' OR 1=1 --", "\r\nSet-Cookie: x=y", "😀"} {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, value string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		// Raw, as a client may send it: net/http's cookie parser sees
		// whatever the header holds.
		r.Header.Set("Cookie", cookieName+"="+value)
		s, err := st.New(r, cookieName)
		if err != nil {
			t.Fatalf("New with cookie %q: %v", value, err)
		}
		if s == nil || !s.IsNew || len(s.Values) != 0 || s.ID != "" {
			t.Fatalf("New with cookie %q = %+v, want a new, empty session", value, s)
		}
	})
}
