package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Password errors. Match with errors.Is.
var (
	// ErrMismatch: the password is not the one hashed.
	ErrMismatch = errors.New("password mismatch")
	// ErrBadHash: the stored hash is not an argon2id PHC string this
	// package accepts (tampered, truncated or of another scheme).
	ErrBadHash = errors.New("malformed password hash")
	// ErrBadPassword: empty or longer than MaxPasswordLen.
	ErrBadPassword = errors.New("password empty or too long")
)

// MaxPasswordLen bounds a password, in bytes.
const MaxPasswordLen = 1024

// Params are the argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams follow RFC 9106's second recommended option (64 MiB,
// 3 passes), with 2 lanes for a small server: about 50-100 ms a hash.
var DefaultParams = Params{Memory: 64 * 1024, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 32}

// Bounds on parameters read from a stored hash, so a tampered row cannot
// make a check allocate gigabytes or spin for minutes.
const (
	maxMemory  = 1 << 20 // KiB = 1 GiB
	maxTime    = 16
	maxKeyLen  = 64
	minKeyLen  = 16
	minSaltLen = 8
	maxSaltLen = 64
)

var b64 = base64.RawStdEncoding

// HashPassword hashes a password with argon2id and DefaultParams, into a
// PHC string: $argon2id$v=19$m=65536,t=3,p=2$<salt>$<key>.
func HashPassword(password string) (string, error) {
	return HashPasswordParams(password, DefaultParams)
}

// HashPasswordParams is HashPassword with other costs (tests use cheap ones).
func HashPasswordParams(password string, p Params) (string, error) {
	if password == "" || len(password) > MaxPasswordLen {
		return "", ErrBadPassword
	}
	salt := make([]byte, p.SaltLen)
	rand.Read(salt) // never fails (crypto/rand, Go ≥ 1.24)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword tells whether password is the one encoded hashes: nil,
// ErrMismatch, or ErrBadHash. The comparison takes constant time.
func CheckPassword(encoded, password string) error {
	p, salt, key, err := parseHash(encoded)
	if err != nil {
		return err
	}
	if len(password) > MaxPasswordLen {
		return ErrMismatch
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return ErrMismatch
	}
	return nil
}

// CheckNoUser spends the time of a CheckPassword for a login whose user
// does not exist (or is disabled), so the answer's timing does not tell.
func CheckNoUser(password string) { checkNoUser(password, DefaultParams) }

// checkNoUser is CheckNoUser for accounts hashed with p.
func checkNoUser(password string, p Params) {
	salt := make([]byte, p.SaltLen)
	argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

// NeedsRehash tells whether encoded was made with other parameters than
// p (rehash after a successful login when true).
func NeedsRehash(encoded string, p Params) bool {
	got, salt, key, err := parseHash(encoded)
	return err != nil || got.Memory != p.Memory || got.Time != p.Time || got.Threads != p.Threads ||
		uint32(len(salt)) != p.SaltLen || uint32(len(key)) != p.KeyLen
}

func parseHash(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, ErrBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return Params{}, nil, nil, ErrBadHash
	}
	var threads uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil || n != 3 ||
		fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, threads) != parts[3] {
		return Params{}, nil, nil, ErrBadHash
	}
	if p.Time < 1 || p.Time > maxTime || threads < 1 || threads > 255 || p.Memory < 8*threads || p.Memory > maxMemory {
		return Params{}, nil, nil, ErrBadHash
	}
	p.Threads = uint8(threads)
	if salt, err = b64.Strict().DecodeString(parts[4]); err != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return Params{}, nil, nil, ErrBadHash
	}
	if key, err = b64.Strict().DecodeString(parts[5]); err != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return Params{}, nil, nil, ErrBadHash
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}
