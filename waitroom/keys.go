package waitroom

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Key files in a keys directory. The key id is the part of the name between
// the prefix and the extension; the greatest id in sort order signs, and every
// key verifies, so rotating means adding a newer file and later removing the
// old one.
const (
	signingKeyPrefix = "ed25519-"
	signingKeyExt    = ".pem"
	hmacKeyPrefix    = "hmac-"
	hmacKeyExt       = ".key"
)

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// HMACKeys is a set of HMAC secrets by key id, for signed cookies.
type HMACKeys struct {
	current string
	keys    map[string][]byte
}

// NewHMACKeys returns a set that signs with the key whose id sorts last.
func NewHMACKeys(keys map[string][]byte) (*HMACKeys, error) {
	if len(keys) == 0 {
		return nil, errors.New("waitroom: no HMAC keys given")
	}
	ids := make([]string, 0, len(keys))
	for id, k := range keys {
		if !keyIDPattern.MatchString(id) {
			return nil, fmt.Errorf("waitroom: HMAC key id %q is invalid: use 1 to 64 letters, digits, '_' or '-'", id)
		}
		if len(k) < 32 {
			return nil, fmt.Errorf("waitroom: HMAC key %q has %d bytes: use at least 32", id, len(k))
		}
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return &HMACKeys{current: ids[len(ids)-1], keys: keys}, nil
}

// Current returns the id and secret that sign new values.
func (k *HMACKeys) Current() (string, []byte) { return k.current, k.keys[k.current] }

// Lookup returns the secret with id.
func (k *HMACKeys) Lookup(id string) ([]byte, bool) {
	key, ok := k.keys[id]
	return key, ok
}

// SigningKeys is a set of Ed25519 keys by key id, for admission tokens and
// ticket codes.
type SigningKeys struct {
	current string
	keys    map[string]ed25519.PrivateKey
}

// NewSigningKeys returns a set that signs with the key whose id sorts last.
func NewSigningKeys(keys map[string]ed25519.PrivateKey) (*SigningKeys, error) {
	if len(keys) == 0 {
		return nil, errors.New("waitroom: no signing keys given")
	}
	ids := make([]string, 0, len(keys))
	for id := range keys {
		if !keyIDPattern.MatchString(id) {
			return nil, fmt.Errorf("waitroom: signing key id %q is invalid: use 1 to 64 letters, digits, '_' or '-'", id)
		}
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return &SigningKeys{current: ids[len(ids)-1], keys: keys}, nil
}

// Current returns the id and private key that sign new tokens.
func (k *SigningKeys) Current() (string, ed25519.PrivateKey) { return k.current, k.keys[k.current] }

// Public returns the public key with id.
func (k *SigningKeys) Public(id string) (ed25519.PublicKey, bool) {
	key, ok := k.keys[id]
	if !ok {
		return nil, false
	}
	return key.Public().(ed25519.PublicKey), true
}

// IDs returns the key ids in sort order.
func (k *SigningKeys) IDs() []string {
	ids := make([]string, 0, len(k.keys))
	for id := range k.keys {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Keys are the secrets a process signs with.
type Keys struct {
	Signing *SigningKeys
	Cookies *HMACKeys
	// Temporary is true when the keys were made at start because none were
	// configured: tokens then do not survive a restart or verify on other edges.
	Temporary bool
}

// NewKeyID returns a key id that sorts after ids made earlier: the UTC time
// followed by random characters.
func NewKeyID(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405") + "-" + base64.RawURLEncoding.EncodeToString(b[:])
}

// TemporaryKeys makes one signing key and one cookie key in memory.
func TemporaryKeys(now time.Time) Keys {
	id := NewKeyID(now)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	signing, _ := NewSigningKeys(map[string]ed25519.PrivateKey{id: priv})
	cookies, _ := NewHMACKeys(map[string][]byte{id: secret})
	return Keys{Signing: signing, Cookies: cookies, Temporary: true}
}

// WriteNewKeys creates a new signing key and cookie secret in dir, readable
// only by the owner, and returns their key id.
func WriteNewKeys(dir string, now time.Time) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create keys directory: %w", err)
	}
	id := NewKeyID(now)

	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", fmt.Errorf("encode signing key: %w", err)
	}
	signingPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := writeNew(filepath.Join(dir, signingKeyPrefix+id+signingKeyExt), signingPEM); err != nil {
		return "", err
	}

	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	encoded := []byte(base64.StdEncoding.EncodeToString(secret) + "\n")
	if err := writeNew(filepath.Join(dir, hmacKeyPrefix+id+hmacKeyExt), encoded); err != nil {
		return "", err
	}
	return id, nil
}

func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write key file %s: %w", path, err)
	}
	return f.Close()
}

// LoadKeys reads every key file in dir. It fails when the directory holds no
// signing key or no cookie key, or when a file cannot be parsed.
func LoadKeys(dir string) (Keys, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return Keys{}, fmt.Errorf("keys directory %s does not exist: run `foyer keys --dir %s` to create it", dir, dir)
	}
	if err != nil {
		return Keys{}, fmt.Errorf("read keys directory: %w", err)
	}
	signing := map[string]ed25519.PrivateKey{}
	cookies := map[string][]byte{}
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(dir, name)
		switch {
		case strings.HasPrefix(name, signingKeyPrefix) && strings.HasSuffix(name, signingKeyExt):
			id := strings.TrimSuffix(strings.TrimPrefix(name, signingKeyPrefix), signingKeyExt)
			key, err := readSigningKey(path)
			if err != nil {
				return Keys{}, err
			}
			signing[id] = key
		case strings.HasPrefix(name, hmacKeyPrefix) && strings.HasSuffix(name, hmacKeyExt):
			id := strings.TrimSuffix(strings.TrimPrefix(name, hmacKeyPrefix), hmacKeyExt)
			raw, err := os.ReadFile(path)
			if err != nil {
				return Keys{}, fmt.Errorf("read cookie key: %w", err)
			}
			secret, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw)))
			if err != nil {
				return Keys{}, fmt.Errorf("cookie key %s is not base64: %w", path, err)
			}
			cookies[id] = secret
		}
	}
	if len(signing) == 0 || len(cookies) == 0 {
		return Keys{}, fmt.Errorf("keys directory %s has no %s*%s or no %s*%s file: run `foyer keys --dir %s` to create them", dir, signingKeyPrefix, signingKeyExt, hmacKeyPrefix, hmacKeyExt, dir)
	}
	s, err := NewSigningKeys(signing)
	if err != nil {
		return Keys{}, err
	}
	c, err := NewHMACKeys(cookies)
	if err != nil {
		return Keys{}, err
	}
	return Keys{Signing: s, Cookies: c}, nil
}

func readSigningKey(path string) (ed25519.PrivateKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, fmt.Errorf("signing key %s is not PEM", path)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	key, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s is %T, want an Ed25519 key", path, parsed)
	}
	return key, nil
}
