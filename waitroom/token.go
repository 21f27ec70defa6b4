package waitroom

import (
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TokenIssuer is the JWT "iss" claim of admission tokens.
const TokenIssuer = "foyer"

// MaxTokenLength is the longest admission token accepted.
const MaxTokenLength = 2048

// Admission token errors.
var (
	ErrTokenInvalid = errors.New("waitroom: admission token is invalid")
	ErrTokenExpired = errors.New("waitroom: admission token has expired")
	ErrTokenRoom    = errors.New("waitroom: admission token is for another room")
)

// AdmissionClaims are the claims of an admission token: the visitor (sub),
// the room, the guarded event and a unique id (jti) that the booking core
// exchanges once.
type AdmissionClaims struct {
	Room  string `json:"room"`
	Event string `json:"event,omitempty"`
	jwt.RegisteredClaims
}

// Visitor returns the visitor id the token is bound to.
func (c AdmissionClaims) Visitor() string { return c.Subject }

// IssueAdmissionToken signs an EdDSA admission token for visitor in room,
// valid until expires.
func IssueAdmissionToken(keys *SigningKeys, room, event, visitor string, now, expires time.Time) (string, error) {
	kid, key := keys.Current()
	claims := AdmissionClaims{
		Room:  room,
		Event: event,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    TokenIssuer,
			Subject:   visitor,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
			ExpiresAt: jwt.NewNumericDate(expires),
			ID:        NewVisitorID(),
		},
	}
	token := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	token.Header["kid"] = kid
	signed, err := token.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("sign admission token: %w", err)
	}
	return signed, nil
}

// VerifyAdmissionToken checks the token's signature, issuer, time claims
// and room. It returns ErrTokenExpired, ErrTokenRoom or ErrTokenInvalid.
func VerifyAdmissionToken(keys *SigningKeys, token, room string, now time.Time) (AdmissionClaims, error) {
	if len(token) > MaxTokenLength {
		return AdmissionClaims{}, fmt.Errorf("%w: %d bytes long, at most %d allowed", ErrTokenInvalid, len(token), MaxTokenLength)
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(TokenIssuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	var claims AdmissionClaims
	_, err := parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		pub, ok := keys.Public(kid)
		if !ok {
			return nil, fmt.Errorf("unknown key id %q", kid)
		}
		return pub, nil
	})
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return AdmissionClaims{}, ErrTokenExpired
	case err != nil:
		return AdmissionClaims{}, fmt.Errorf("%w: %v", ErrTokenInvalid, err)
	case !ValidVisitorID(claims.Subject) || claims.ID == "":
		return AdmissionClaims{}, fmt.Errorf("%w: missing subject or id", ErrTokenInvalid)
	case claims.Room != room:
		return AdmissionClaims{}, ErrTokenRoom
	}
	return claims, nil
}

// JWK is one public key in a JSON Web Key Set (RFC 8037 for Ed25519).
type JWK struct {
	KeyType   string `json:"kty"`
	Curve     string `json:"crv"`
	X         string `json:"x"`
	KeyID     string `json:"kid"`
	Use       string `json:"use"`
	Algorithm string `json:"alg"`
}

// JWKS returns the public half of every signing key, for
// /.well-known/jwks.json.
func JWKS(keys *SigningKeys) map[string][]JWK {
	set := []JWK{}
	for _, id := range keys.IDs() {
		pub, _ := keys.Public(id)
		set = append(set, JWK{
			KeyType:   "OKP",
			Curve:     "Ed25519",
			X:         base64.RawURLEncoding.EncodeToString(pub),
			KeyID:     id,
			Use:       "sig",
			Algorithm: "EdDSA",
		})
	}
	return map[string][]JWK{"keys": set}
}
