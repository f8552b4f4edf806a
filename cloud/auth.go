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
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	iam "github.com/yandex-cloud/go-genproto/yandex/cloud/iam/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

// Auth says where the client's IAM token comes from. At most one source is
// set; the zero value sends no credentials (the emulator).
type Auth struct {
	IAMToken              string // a ready IAM token, used as is until it stops working
	OAuthToken            string // a Yandex Passport OAuth token, exchanged for IAM tokens
	ServiceAccountKeyFile string // an authorized key JSON file as `yc iam key create` writes it
	Metadata              bool   // the VM's metadata service

	// MetadataURL replaces the metadata service's token address (tests).
	MetadataURL string
	// HTTPClient talks to the metadata service; nil means a client with a
	// short timeout.
	HTTPClient *http.Client
}

// DefaultMetadataURL is the token address of the VM metadata service.
const DefaultMetadataURL = "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token"

// iamAudience is the aud claim IamTokenService accepts in a JWT.
const iamAudience = "https://iam.api.cloud.yandex.net/iam/v1/tokens"

// Token refresh policy: a cached token is replaced when less than
// refreshBefore is left of it, or when it is older than refreshEvery.
const (
	refreshBefore = 10 * time.Minute
	refreshEvery  = time.Hour
	jwtLifetime   = time.Hour
)

func (a Auth) isZero() bool {
	return a.IAMToken == "" && a.OAuthToken == "" && a.ServiceAccountKeyFile == "" && !a.Metadata
}

func (a Auth) sources() int {
	n := 0
	for _, set := range []bool{a.IAMToken != "", a.OAuthToken != "", a.ServiceAccountKeyFile != "", a.Metadata} {
		if set {
			n++
		}
	}
	return n
}

// tokenSource fetches a fresh IAM token and the instant it expires (zero
// when unknown).
type tokenSource interface {
	token(ctx context.Context) (tok string, expires time.Time, err error)
}

// newTokenSource builds the source cfg.Auth names. iamConn is the
// connection to the discovered iam endpoint; calls on it carry no per-RPC
// credentials.
func newTokenSource(a Auth, iamConn grpc.ClientConnInterface, now func() time.Time) (tokenSource, error) {
	if a.sources() > 1 {
		return nil, errors.New("cloud: auth: set only one of IAM token, OAuth token, service-account key file, metadata")
	}
	switch {
	case a.IAMToken != "":
		return staticToken(a.IAMToken), nil
	case a.OAuthToken != "":
		return &oauthSource{iam: iam.NewIamTokenServiceClient(iamConn), oauth: a.OAuthToken}, nil
	case a.ServiceAccountKeyFile != "":
		key, err := readServiceAccountKey(a.ServiceAccountKeyFile)
		if err != nil {
			return nil, err
		}
		return &keySource{iam: iam.NewIamTokenServiceClient(iamConn), key: key, now: now}, nil
	case a.Metadata:
		u := a.MetadataURL
		if u == "" {
			u = DefaultMetadataURL
		}
		hc := a.HTTPClient
		if hc == nil {
			hc = &http.Client{Timeout: 10 * time.Second}
		}
		return &metadataSource{url: u, http: hc, now: now}, nil
	}
	return nil, errors.New("cloud: auth: no credentials configured")
}

// staticToken is a given IAM token. It does not expire as far as the client
// knows; when it does, calls fail with Unauthenticated.
type staticToken string

func (s staticToken) token(context.Context) (string, time.Time, error) {
	return string(s), time.Time{}, nil
}

// oauthSource exchanges a Yandex Passport OAuth token for IAM tokens.
type oauthSource struct {
	iam   iam.IamTokenServiceClient
	oauth string
}

func (s *oauthSource) token(ctx context.Context) (string, time.Time, error) {
	return exchange(ctx, s.iam, &iam.CreateIamTokenRequest{
		Identity: &iam.CreateIamTokenRequest_YandexPassportOauthToken{YandexPassportOauthToken: s.oauth},
	})
}

// keySource signs a JWT with a service account's authorized key and
// exchanges it for IAM tokens.
type keySource struct {
	iam iam.IamTokenServiceClient
	key *serviceAccountKey
	now func() time.Time
}

func (s *keySource) token(ctx context.Context) (string, time.Time, error) {
	jwt, err := s.key.jwt(s.now())
	if err != nil {
		return "", time.Time{}, err
	}
	return exchange(ctx, s.iam, &iam.CreateIamTokenRequest{
		Identity: &iam.CreateIamTokenRequest_Jwt{Jwt: jwt},
	})
}

func exchange(ctx context.Context, c iam.IamTokenServiceClient, req *iam.CreateIamTokenRequest) (string, time.Time, error) {
	resp, err := c.Create(ctx, req)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("iam.IamTokenService.Create: %w", err)
	}
	if resp.GetIamToken() == "" {
		return "", time.Time{}, errors.New("iam.IamTokenService.Create: empty token")
	}
	return resp.GetIamToken(), timeOf(resp.GetExpiresAt()), nil
}

// serviceAccountKey is an authorized key file, as YC writes it.
type serviceAccountKey struct {
	ID               string `json:"id"`
	ServiceAccountID string `json:"service_account_id"`
	PrivateKey       string `json:"private_key"`
	rsa              *rsa.PrivateKey
}

func readServiceAccountKey(path string) (*serviceAccountKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cloud: service-account key: %w", err)
	}
	return parseServiceAccountKey(b)
}

func parseServiceAccountKey(b []byte) (*serviceAccountKey, error) {
	var k serviceAccountKey
	if err := json.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("cloud: service-account key: %w", err)
	}
	if k.ID == "" || k.ServiceAccountID == "" || k.PrivateKey == "" {
		return nil, errors.New("cloud: service-account key: id, service_account_id and private_key are required")
	}
	// The key YC writes starts with a "PLEASE DO NOT REMOVE THIS LINE!" line;
	// pem.Decode skips text before the block.
	block, _ := pem.Decode([]byte(k.PrivateKey))
	if block == nil {
		return nil, errors.New("cloud: service-account key: private_key holds no PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("cloud: service-account key: %w", err)
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("cloud: service-account key: %T is not an RSA key", key)
	}
	k.rsa = rk
	return &k, nil
}

// jwt builds the token IamTokenService.Create accepts: PS256 with the PSS
// salt as long as the hash, kid = key id, iss = service account, a one-hour
// lifetime from now.
func (k *serviceAccountKey) jwt(now time.Time) (string, error) {
	header, err := json.Marshal(struct {
		Typ string `json:"typ"`
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}{"JWT", "PS256", k.ID})
	if err != nil {
		return "", err
	}
	claims, err := json.Marshal(struct {
		Iss string `json:"iss"`
		Aud string `json:"aud"`
		Iat int64  `json:"iat"`
		Exp int64  `json:"exp"`
	}{k.ServiceAccountID, iamAudience, now.Unix(), now.Add(jwtLifetime).Unix()})
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	digest := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPSS(rand.Reader, k.rsa, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	if err != nil {
		return "", fmt.Errorf("cloud: sign jwt: %w", err)
	}
	return signed + "." + enc.EncodeToString(sig), nil
}

// metadataSource asks the VM metadata service for the token of the VM's
// service account.
type metadataSource struct {
	url  string
	http *http.Client
	now  func() time.Time
}

func (s *metadataSource) token(ctx context.Context) (string, time.Time, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("metadata token: %w", err)
	}
	req.Header.Set("Metadata-Flavor", "Google")
	resp, err := s.http.Do(req)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("metadata token: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("metadata token: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", time.Time{}, fmt.Errorf("metadata token: %s", resp.Status)
	}
	var t struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &t); err != nil {
		return "", time.Time{}, fmt.Errorf("metadata token: %w", err)
	}
	if t.AccessToken == "" {
		return "", time.Time{}, errors.New("metadata token: empty access_token")
	}
	var exp time.Time
	if t.ExpiresIn > 0 {
		exp = s.now().Add(time.Duration(t.ExpiresIn) * time.Second)
	}
	return t.AccessToken, exp, nil
}

// tokenCreds is the per-RPC credentials of the client: it caches the IAM
// token of its source and refreshes it before it runs out. Concurrent
// callers that find the token due share one refresh.
type tokenCreds struct {
	src      tokenSource
	now      func() time.Time
	insecure bool          // plaintext transport to a loopback emulator
	timeout  time.Duration // of one refresh, whoever waits for it

	mu      sync.Mutex
	tok     string
	expires time.Time // zero: unknown
	fetched time.Time
	flight  *refresh // the refresh in progress, if any
}

type refresh struct {
	done chan struct{}
	tok  string
	err  error
}

var _ credentials.PerRPCCredentials = (*tokenCreds)(nil)

func newTokenCreds(src tokenSource, now func() time.Time, insecure bool, timeout time.Duration) *tokenCreds {
	return &tokenCreds{src: src, now: now, insecure: insecure, timeout: timeout}
}

// GetRequestMetadata adds "authorization: Bearer <IAM token>".
func (c *tokenCreds) GetRequestMetadata(ctx context.Context, _ ...string) (map[string]string, error) {
	tok, err := c.token(ctx)
	if err != nil {
		return nil, credsError(err)
	}
	return map[string]string{"authorization": "Bearer " + tok}, nil
}

// RequireTransportSecurity is false only for the plaintext loopback emulator.
func (c *tokenCreds) RequireTransportSecurity() bool { return !c.insecure }

// token returns the cached token, or waits for a refresh when it is due.
// When a refresh fails while the cached token has not expired yet, the
// cached one is still used.
func (c *tokenCreds) token(ctx context.Context) (string, error) {
	c.mu.Lock()
	now := c.now()
	if c.tok != "" && !c.due(now) {
		tok := c.tok
		c.mu.Unlock()
		return tok, nil
	}
	f := c.flight
	if f == nil {
		f = &refresh{done: make(chan struct{})}
		c.flight = f
		// The refresh serves every waiter, so it must not die with the
		// context of the caller that happened to start it.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
		go func() {
			defer cancel()
			c.run(rctx, f)
		}()
	}
	c.mu.Unlock()

	select {
	case <-f.done:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	if f.err == nil {
		return f.tok, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok != "" && (c.expires.IsZero() || c.now().Before(c.expires)) {
		return c.tok, nil
	}
	return "", f.err
}

func (c *tokenCreds) run(ctx context.Context, f *refresh) {
	tok, exp, err := c.src.token(ctx)
	c.mu.Lock()
	if err == nil {
		c.tok, c.expires, c.fetched = tok, exp, c.now()
	}
	c.flight = nil
	c.mu.Unlock()
	f.tok, f.err = tok, err
	close(f.done)
}

// invalidate drops the cached token after the server refused it, so the
// next call fetches a new one.
func (c *tokenCreds) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tok, c.expires, c.fetched = "", time.Time{}, time.Time{}
}

// due reports whether the cached token should be replaced. A static token
// (no known expiry) is never due: its source would give the same string.
func (c *tokenCreds) due(now time.Time) bool {
	if _, static := c.src.(staticToken); static {
		return false
	}
	if !c.expires.IsZero() && !now.Before(c.expires.Add(-refreshBefore)) {
		return true
	}
	return !now.Before(c.fetched.Add(refreshEvery))
}

// credsError keeps a transient code of a failed token fetch (so a read can
// be retried) and turns anything else into Unauthenticated: gRPC rejects
// other codes from credentials.
func credsError(err error) error {
	if st, ok := status.FromError(err); ok {
		switch st.Code() {
		case codes.Unavailable, codes.ResourceExhausted, codes.DeadlineExceeded, codes.Canceled, codes.Unauthenticated, codes.PermissionDenied:
			return status.Error(st.Code(), "get IAM token: "+err.Error())
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "get IAM token: "+err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "get IAM token: "+err.Error())
	}
	return status.Error(codes.Unauthenticated, "get IAM token: "+err.Error())
}
