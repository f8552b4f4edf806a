package auth

import (
	"errors"
	"strings"
	"testing"
)

// cheap keeps the tests fast; the format and checks are the same.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestPassword(t *testing.T) {
	h, err := HashPasswordParams("correct horse", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash = %q, want a PHC argon2id string", h)
	}
	h2, _ := HashPasswordParams("correct horse", cheap)
	if h == h2 {
		t.Errorf("two hashes of one password are equal: the salt is not random")
	}
	if err := CheckPassword(h, "correct horse"); err != nil {
		t.Errorf("right password: %v", err)
	}
	parts := strings.Split(h, "$")
	flip := func(s string) string { // change the first character of a base64 field
		if s[0] == 'A' {
			return "B" + s[1:]
		}
		return "A" + s[1:]
	}
	tests := []struct {
		name, hash, password string
		want                 error
	}{
		{"wrong password", h, "correct horsE", ErrMismatch},
		{"empty password", h, "", ErrMismatch},
		{"tampered key", strings.Join(append(parts[:5:5], flip(parts[5])), "$"), "correct horse", ErrMismatch},
		{"tampered salt", strings.Join([]string{"", parts[1], parts[2], parts[3], flip(parts[4]), parts[5]}, "$"), "correct horse", ErrMismatch},
		{"tampered params", strings.Replace(h, "t=1", "t=2", 1), "correct horse", ErrMismatch},
		{"huge memory", strings.Replace(h, "m=64", "m=99999999", 1), "correct horse", ErrBadHash},
		{"other scheme", strings.Replace(h, "argon2id", "argon2i", 1), "correct horse", ErrBadHash},
		{"other version", strings.Replace(h, "v=19", "v=16", 1), "correct horse", ErrBadHash},
		{"truncated", h[:len(h)-40], "correct horse", ErrBadHash},
		{"bcrypt", "$2a$12$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234", "x", ErrBadHash},
		{"empty", "", "x", ErrBadHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckPassword(tt.hash, tt.password); !errors.Is(err, tt.want) {
				t.Errorf("CheckPassword(%q) = %v, want %v", tt.hash, err, tt.want)
			}
		})
	}
	for _, bad := range []string{"", strings.Repeat("x", MaxPasswordLen+1)} {
		if _, err := HashPasswordParams(bad, cheap); !errors.Is(err, ErrBadPassword) {
			t.Errorf("HashPassword(len %d) = %v, want ErrBadPassword", len(bad), err)
		}
	}
	if NeedsRehash(h, cheap) || !NeedsRehash(h, DefaultParams) {
		t.Errorf("NeedsRehash: want false for its own params, true for others")
	}
}

func TestDefaultParamsHash(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB hash")
	}
	h, err := HashPassword("pw")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") || CheckPassword(h, "pw") != nil {
		t.Errorf("default hash %q does not check", h)
	}
}
