package cloud

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// testKey is one RSA key for the whole file: generating one is slow under -race.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// writeKeyFile writes an authorized key file the way `yc iam key create` does.
func writeKeyFile(t *testing.T, keyID, saID string, key *rsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(map[string]string{
		"id":                 keyID,
		"service_account_id": saID,
		"created_at":         "2026-11-01T10:00:00.000000000Z",
		"key_algorithm":      "RSA_2048",
		"public_key":         string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})),
		"private_key": "PLEASE DO NOT REMOVE THIS LINE! Yandex.Cloud SA Key ID <" + keyID + ">\n" +
			string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
	}, "", "   ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// verifyJWT checks a PS256 JWT the way IAM does and returns its header and claims.
func verifyJWT(t *testing.T, jwt string, pub *rsa.PublicKey) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("jwt has %d parts, want 3", len(parts))
	}
	enc := base64.RawURLEncoding
	decode := func(s string, v any) {
		b, err := enc.DecodeString(s)
		if err != nil {
			t.Fatalf("decode %q: %v", s, err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("unmarshal %s: %v", b, err)
		}
	}
	decode(parts[0], &header)
	decode(parts[1], &claims)
	sig, err := enc.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	// An explicit salt length makes VerifyPSS insist on it.
	if err := rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: sha256.Size}); err != nil {
		t.Fatalf("signature: %v", err)
	}
	return header, claims
}

func TestServiceAccountJWT(t *testing.T) {
	key := testKey()
	path := writeKeyFile(t, "ajekey1", "ajesa1", key)
	k, err := readServiceAccountKey(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_790_000_000, 0)
	jwt, err := k.jwt(now)
	if err != nil {
		t.Fatal(err)
	}
	header, claims := verifyJWT(t, jwt, &key.PublicKey)
	wantHeader := map[string]any{"typ": "JWT", "alg": "PS256", "kid": "ajekey1"}
	for name, want := range wantHeader {
		if got := header[name]; got != want {
			t.Errorf("header %s = %v, want %v", name, got, want)
		}
	}
	wantClaims := map[string]any{
		"iss": "ajesa1",
		"aud": "https://iam.api.cloud.yandex.net/iam/v1/tokens",
		"iat": float64(now.Unix()),
		"exp": float64(now.Add(time.Hour).Unix()),
	}
	for name, want := range wantClaims {
		if got := claims[name]; got != want {
			t.Errorf("claim %s = %v, want %v", name, got, want)
		}
	}
}

func TestParseServiceAccountKey(t *testing.T) {
	key := testKey()
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	mk := func(m map[string]string) []byte {
		b, _ := json.Marshal(m)
		return b
	}
	tests := []struct {
		name    string
		give    []byte
		wantErr bool
	}{
		{"pkcs1", mk(map[string]string{"id": "k", "service_account_id": "s", "private_key": pkcs1}), false},
		{"missing id", mk(map[string]string{"service_account_id": "s", "private_key": pkcs1}), true},
		{"missing sa", mk(map[string]string{"id": "k", "private_key": pkcs1}), true},
		{"no pem", mk(map[string]string{"id": "k", "service_account_id": "s", "private_key": "garbage"}), true},
		{"not json", []byte("{"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseServiceAccountKey(tt.give)
			if got := err != nil; got != tt.wantErr {
				t.Errorf("error = %v, want error: %v", err, tt.wantErr)
			}
		})
	}
}

func TestMetadataSource(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("Metadata-Flavor") != "Google" {
			http.Error(w, "missing Metadata-Flavor", http.StatusForbidden)
			return
		}
		if r.URL.Path != "/computeMetadata/v1/instance/service-accounts/default/token" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `{"access_token":"t1.vm-token","expires_in":43199,"token_type":"Bearer"}`)
	}))
	t.Cleanup(srv.Close)

	now := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	src, err := newTokenSource(Auth{
		Metadata:    true,
		MetadataURL: srv.URL + "/computeMetadata/v1/instance/service-accounts/default/token",
		HTTPClient:  srv.Client(),
	}, nil, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	tok, exp, err := src.token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tok != "t1.vm-token" {
		t.Errorf("token = %q, want %q", tok, "t1.vm-token")
	}
	if want := now.Add(43199 * time.Second); !exp.Equal(want) {
		t.Errorf("expires = %v, want %v", exp, want)
	}
	if got := hits.Load(); got != 1 {
		t.Errorf("metadata hits = %d, want 1", got)
	}
}

func TestMetadataSourceErrors(t *testing.T) {
	tests := []struct {
		name string
		give http.HandlerFunc
	}{
		{"http error", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "nope", http.StatusNotFound) }},
		{"bad json", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "{") }},
		{"empty token", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"expires_in":10}`) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.give)
			t.Cleanup(srv.Close)
			src := &metadataSource{url: srv.URL, http: srv.Client(), now: time.Now}
			if _, _, err := src.token(context.Background()); err == nil {
				t.Error("got nil error, want one")
			}
		})
	}
}

func TestNewTokenSourceRejectsTwoSources(t *testing.T) {
	if _, err := newTokenSource(Auth{IAMToken: "a", OAuthToken: "b"}, nil, time.Now); err == nil {
		t.Error("two sources: got nil error, want one")
	}
}

// fakeSource hands out numbered tokens, each valid for ttl from the clock.
type fakeSource struct {
	clock *fakeClock
	ttl   time.Duration
	calls atomic.Int32
	gate  chan struct{} // when set, each fetch waits for it
	fail  atomic.Pointer[error]
}

func (s *fakeSource) token(ctx context.Context) (string, time.Time, error) {
	n := s.calls.Add(1)
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return "", time.Time{}, ctx.Err()
		}
	}
	if e := s.fail.Load(); e != nil {
		return "", time.Time{}, *e
	}
	return fmt.Sprintf("tok-%d", n), s.clock.Now().Add(s.ttl), nil
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestTokenCredsRefresh(t *testing.T) {
	tests := []struct {
		name      string
		ttl       time.Duration
		advance   time.Duration
		wantToken string
	}{
		{"fresh token is reused", 12 * time.Hour, 30 * time.Minute, "tok-1"},
		{"refreshed after an hour", 12 * time.Hour, time.Hour, "tok-2"},
		{"refreshed with under ten minutes left", 30 * time.Minute, 21 * time.Minute, "tok-2"},
		{"kept with more than ten minutes left", 30 * time.Minute, 19 * time.Minute, "tok-1"},
		{"refreshed after expiry", 12 * time.Hour, 13 * time.Hour, "tok-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{now: time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)}
			src := &fakeSource{clock: clock, ttl: tt.ttl}
			c := newTokenCreds(src, clock.Now, false, time.Second)
			md, err := c.GetRequestMetadata(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got, want := md["authorization"], "Bearer tok-1"; got != want {
				t.Errorf("first authorization = %q, want %q", got, want)
			}
			clock.Advance(tt.advance)
			md, err = c.GetRequestMetadata(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got, want := md["authorization"], "Bearer "+tt.wantToken; got != want {
				t.Errorf("authorization after %v = %q, want %q", tt.advance, got, want)
			}
		})
	}
}

func TestTokenCredsSharedRefresh(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)}
	src := &fakeSource{clock: clock, ttl: 12 * time.Hour, gate: make(chan struct{})}
	c := newTokenCreds(src, clock.Now, false, 10*time.Second)

	const callers = 20
	var wg sync.WaitGroup
	got := make([]string, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			md, err := c.GetRequestMetadata(context.Background())
			got[i], errs[i] = md["authorization"], err
		})
	}
	// Let every caller queue behind the one fetch, then release it.
	for src.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	close(src.gate)
	wg.Wait()

	if n := src.calls.Load(); n != 1 {
		t.Errorf("fetches = %d, want 1", n)
	}
	for i := range callers {
		if errs[i] != nil || got[i] != "Bearer tok-1" {
			t.Errorf("caller %d: %q, %v; want %q, nil", i, got[i], errs[i], "Bearer tok-1")
		}
	}
}

func TestTokenCredsFailedRefresh(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)}
	src := &fakeSource{clock: clock, ttl: 12 * time.Hour}
	c := newTokenCreds(src, clock.Now, false, time.Second)
	if _, err := c.GetRequestMetadata(context.Background()); err != nil {
		t.Fatal(err)
	}
	down := error(status.Error(codes.Unavailable, "iam down"))
	src.fail.Store(&down)

	// Due for refresh but still valid: the old token keeps working.
	clock.Advance(2 * time.Hour)
	md, err := c.GetRequestMetadata(context.Background())
	if err != nil || md["authorization"] != "Bearer tok-1" {
		t.Errorf("during outage before expiry: %v, %v; want Bearer tok-1, nil", md, err)
	}
	// Expired: the failure shows, with its transient code kept.
	clock.Advance(11 * time.Hour)
	_, err = c.GetRequestMetadata(context.Background())
	if got := status.Code(err); got != codes.Unavailable {
		t.Errorf("after expiry: code %v (%v), want %v", got, err, codes.Unavailable)
	}
	// Any other failure is Unauthenticated, which gRPC passes on as is.
	other := errors.New("bad key")
	src.fail.Store(&other)
	_, err = c.GetRequestMetadata(context.Background())
	if got := status.Code(err); got != codes.Unauthenticated {
		t.Errorf("plain error: code %v (%v), want %v", got, err, codes.Unauthenticated)
	}
}

func TestTokenCredsStatic(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	c := newTokenCreds(staticToken("t1.given"), clock.Now, true, time.Second)
	for range 3 {
		md, err := c.GetRequestMetadata(context.Background())
		if err != nil || md["authorization"] != "Bearer t1.given" {
			t.Fatalf("static: %v, %v", md, err)
		}
		clock.Advance(24 * time.Hour)
	}
	if c.RequireTransportSecurity() {
		t.Error("RequireTransportSecurity() = true for an insecure loopback client, want false")
	}
	if !newTokenCreds(staticToken("x"), time.Now, false, time.Second).RequireTransportSecurity() {
		t.Error("RequireTransportSecurity() = false for a TLS client, want true")
	}
}
