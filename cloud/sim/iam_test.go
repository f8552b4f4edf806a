package sim

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	iam "github.com/yandex-cloud/go-genproto/yandex/cloud/iam/v1"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/resourcemanager/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
)

// testJWT signs a JWT the way an authorized-key client does; header and
// claims are JSON-encoded as given.
func testJWT(t *testing.T, key *rsa.PrivateKey, header, claims any) string {
	t.Helper()
	enc := base64.RawURLEncoding
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	signed := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	digest := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPSS(rand.Reader, key, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	if err != nil {
		t.Fatal(err)
	}
	return signed + "." + enc.EncodeToString(sig)
}

func TestIamTokenFromOAuth(t *testing.T) {
	s, conn, _ := startSim(t, Options{})
	tc := iam.NewIamTokenServiceClient(conn)
	resp, err := tc.Create(context.Background(), &iam.CreateIamTokenRequest{
		Identity: &iam.CreateIamTokenRequest_YandexPassportOauthToken{YandexPassportOauthToken: "y0_AgAAAAsomething"},
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if !strings.HasPrefix(resp.GetIamToken(), "t1.sim.") {
		t.Errorf("token %q, want the t1.sim. prefix", resp.GetIamToken())
	}
	if got, want := resp.GetExpiresAt().AsTime(), testEpoch.Add(12*time.Hour); !got.Equal(want) {
		t.Errorf("expires_at %v, want %v", got, want)
	}
	s.mu.Lock()
	_, recorded := s.tokens[resp.GetIamToken()]
	s.mu.Unlock()
	if !recorded {
		t.Error("the issued token is not recorded")
	}

	tests := []struct {
		name  string
		give  *iam.CreateIamTokenRequest
		field string
	}{
		{"empty oauth token", &iam.CreateIamTokenRequest{Identity: &iam.CreateIamTokenRequest_YandexPassportOauthToken{}}, "yandex_passport_oauth_token"},
		{"no identity", &iam.CreateIamTokenRequest{}, "identity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tc.Create(context.Background(), tt.give)
			expectViolation(t, err, tt.field)
		})
	}
}

func TestIamTokenFromJWT(t *testing.T) {
	s, conn, _ := startSim(t, Options{})
	tc := iam.NewIamTokenServiceClient(conn)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	const (
		keyID = "ajekeyid000000000001"
		saID  = "ajeserviceaccount001"
	)
	s.AddServiceAccountKey(keyID, saID, &key.PublicKey)

	type header struct {
		Typ string `json:"typ"`
		Alg string `json:"alg"`
		Kid string `json:"kid,omitempty"`
	}
	type claims struct {
		Iss string `json:"iss"`
		Aud any    `json:"aud"`
		Iat int64  `json:"iat"`
		Exp int64  `json:"exp,omitempty"`
	}
	now := testEpoch.Unix()
	good := header{"JWT", "PS256", keyID}
	valid := claims{saID, jwtAudience, now, now + 3600}
	tests := []struct {
		name string
		give string
		want codes.Code
	}{
		{"valid", testJWT(t, key, good, valid), codes.OK},
		{"aud as an array", testJWT(t, key, good, claims{saID, []string{"other", jwtAudience}, now, now + 3600}), codes.OK},
		{"wrong signature", testJWT(t, other, good, valid), codes.Unauthenticated},
		{"tampered claims", func() string {
			parts := strings.Split(testJWT(t, key, good, valid), ".")
			c, _ := json.Marshal(claims{"ajeintruder000000000", jwtAudience, now, now + 3600})
			parts[1] = base64.RawURLEncoding.EncodeToString(c)
			return strings.Join(parts, ".")
		}(), codes.Unauthenticated},
		{"wrong aud", testJWT(t, key, good, claims{saID, "https://example.com/tokens", now, now + 3600}), codes.Unauthenticated},
		{"wrong aud array", testJWT(t, key, good, claims{saID, []string{"https://example.com/tokens"}, now, now + 3600}), codes.Unauthenticated},
		{"wrong iss", testJWT(t, key, good, claims{"ajesomeoneelse000000", jwtAudience, now, now + 3600}), codes.Unauthenticated},
		{"expired", testJWT(t, key, good, claims{saID, jwtAudience, now - 7200, now - 3600}), codes.Unauthenticated},
		{"no exp", testJWT(t, key, good, claims{saID, jwtAudience, now, 0}), codes.Unauthenticated},
		{"unknown kid", testJWT(t, key, header{"JWT", "PS256", "ajenosuchkey00000000"}, valid), codes.Unauthenticated},
		{"no kid", testJWT(t, key, header{"JWT", "PS256", ""}, valid), codes.InvalidArgument},
		{"RS256", testJWT(t, key, header{"JWT", "RS256", keyID}, valid), codes.InvalidArgument},
		{"not a JWT", "not-a-jwt", codes.InvalidArgument},
		{"bad base64", "!!!.???.###", codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tc.Create(context.Background(), &iam.CreateIamTokenRequest{Identity: &iam.CreateIamTokenRequest_Jwt{Jwt: tt.give}})
			expectCode(t, err, tt.want)
			if tt.want == codes.OK && !strings.HasPrefix(resp.GetIamToken(), "t1.sim.") {
				t.Errorf("token %q, want the t1.sim. prefix", resp.GetIamToken())
			}
		})
	}
}

func TestRequireAuthWithIssuedToken(t *testing.T) {
	s, conn, clk := startSim(t, Options{RequireAuth: true})
	fc := resourcemanager.NewFolderServiceClient(conn)
	folder := s.DefaultFolderID()
	get := func(ctx context.Context) error {
		_, err := fc.Get(ctx, &resourcemanager.GetFolderRequest{FolderId: folder})
		return err
	}

	expectCode(t, get(context.Background()), codes.Unauthenticated)

	resp, err := iam.NewIamTokenServiceClient(conn).Create(context.Background(), &iam.CreateIamTokenRequest{
		Identity: &iam.CreateIamTokenRequest_YandexPassportOauthToken{YandexPassportOauthToken: "y0_oauth"},
	})
	if err != nil {
		t.Fatalf("IamTokenService.Create without a token: %v", err)
	}
	authed := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+resp.GetIamToken())
	expectCode(t, get(authed), codes.OK)

	forged := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer t1.sim.forged")
	expectCode(t, get(forged), codes.Unauthenticated)

	clk.Advance(13 * time.Hour)
	expectCode(t, get(authed), codes.Unauthenticated)
}
