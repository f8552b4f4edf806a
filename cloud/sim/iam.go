package sim

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/imagedash/imagedash/rules"
	iam "github.com/yandex-cloud/go-genproto/yandex/cloud/iam/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// iamTokens implements yandex.cloud.iam.v1.IamTokenService.Create.
type iamTokens struct {
	iam.UnimplementedIamTokenServiceServer
	s *Sim
}

var _ iam.IamTokenServiceServer = (*iamTokens)(nil)

const (
	// iamTokenTTL is how long an issued IAM token lives, as in the real cloud.
	iamTokenTTL = 12 * time.Hour
	// jwtAudience is the aud claim a service-account JWT must carry.
	jwtAudience = "https://iam.api.cloud.yandex.net/iam/v1/tokens"
)

// Create exchanges an OAuth token (any non-empty one) or a JWT signed with
// a registered service-account key for an IAM token.
func (t *iamTokens) Create(ctx context.Context, req *iam.CreateIamTokenRequest) (*iam.CreateIamTokenResponse, error) {
	switch id := req.GetIdentity().(type) {
	case *iam.CreateIamTokenRequest_YandexPassportOauthToken:
		if id.YandexPassportOauthToken == "" {
			return nil, invalid([]rules.Violation{{Field: "yandex_passport_oauth_token", Message: "is required"}})
		}
	case *iam.CreateIamTokenRequest_Jwt:
		if err := t.s.verifyJWT(id.Jwt); err != nil {
			return nil, err
		}
	default:
		return nil, invalid([]rules.Violation{{Field: "identity", Message: "one of yandex_passport_oauth_token or jwt is required"}})
	}
	return t.s.issueToken(), nil
}

// issueToken makes a new IAM token and records it for the auth interceptor.
// Tokens come from crypto/rand, not the seeded generator, so they cannot be
// guessed from the seed.
func (s *Sim) issueToken() *iam.CreateIamTokenResponse {
	tok := "t1.sim." + rand.Text()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	for k, exp := range s.tokens {
		if !now.Before(exp) {
			delete(s.tokens, k)
		}
	}
	exp := now.Add(iamTokenTTL)
	s.tokens[tok] = exp
	s.dirty = true
	return &iam.CreateIamTokenResponse{IamToken: tok, ExpiresAt: timestamppb.New(exp)}
}

// jwtHeader and jwtClaims are the parts of a service-account JWT the
// exchange reads. aud may be a string or an array of strings.
type jwtHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

type jwtClaims struct {
	Iss string          `json:"iss"`
	Aud json.RawMessage `json:"aud"`
	Exp *float64        `json:"exp"`
}

// verifyJWT checks a compact PS256 JWT against the registered keys. A
// token that is not a well-formed PS256 JWT is InvalidArgument; one that is
// well formed but not acceptable (unknown key, bad signature, wrong issuer
// or audience, expired) is Unauthenticated.
func (s *Sim) verifyJWT(token string) error {
	malformed := func(msg string) error {
		return invalid([]rules.Violation{{Field: "jwt", Message: msg}})
	}
	refused := func(msg string) error {
		return status.Error(codes.Unauthenticated, "JWT refused: "+msg)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return malformed("must be a compact JWT: header.claims.signature")
	}
	var h jwtHeader
	if err := decodeJWTPart(parts[0], &h); err != nil {
		return malformed("bad header: " + err.Error())
	}
	if h.Alg != "PS256" {
		return malformed("alg must be PS256, got " + h.Alg)
	}
	if h.Kid == "" {
		return malformed("the header has no kid (the authorized key id)")
	}
	var c jwtClaims
	if err := decodeJWTPart(parts[1], &c); err != nil {
		return malformed("bad claims: " + err.Error())
	}
	sig, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[2], "="))
	if err != nil {
		return malformed("bad signature encoding")
	}
	s.mu.Lock()
	key, ok := s.saKeys[h.Kid]
	now := s.clock.Now()
	s.mu.Unlock()
	if !ok {
		return refused("unknown key id " + h.Kid)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPSS(key.pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}); err != nil {
		return refused("the signature does not match key " + h.Kid)
	}
	if c.Iss != key.serviceAccountID {
		return refused("iss must be the service account of key " + h.Kid)
	}
	if !audienceHas(c.Aud, jwtAudience) {
		return refused("aud must be " + jwtAudience)
	}
	// Compared as floats: exp may be fractional, and NaN never passes.
	if c.Exp == nil || !(float64(now.UnixNano())/1e9 < *c.Exp) {
		return refused("the token has expired or has no exp")
	}
	return nil
}

func decodeJWTPart(part string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(part, "="))
	if err != nil {
		return err
	}
	return json.NewDecoder(bytes.NewReader(b)).Decode(v)
}

// audienceHas reports whether the aud claim, a string or an array, holds want.
func audienceHas(raw json.RawMessage, want string) bool {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one == want
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		for _, a := range many {
			if a == want {
				return true
			}
		}
	}
	return false
}
