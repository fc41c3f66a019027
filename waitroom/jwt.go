package waitroom

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/json"
	"math/big"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// deterministicSigner lets go-jose sign through crypto.Signer with a nil
// random source. RSA PKCS#1 v1.5 is deterministic anyway; Go's ECDSA with a
// nil rand signs per RFC 6979, so the same claims always give the same
// token. That is what lets a repeat generate_token answer with the identical
// strings without storing them.
type deterministicSigner struct {
	key signingKey
}

func newDeterministicSigner(sk signingKey) *deterministicSigner {
	return &deterministicSigner{key: sk}
}

func (d *deterministicSigner) Public() *jose.JSONWebKey {
	jwk := publicJWK(d.key)
	return &jwk
}

func (d *deterministicSigner) Algs() []jose.SignatureAlgorithm {
	return []jose.SignatureAlgorithm{d.key.alg}
}

func (d *deterministicSigner) SignPayload(payload []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if alg != d.key.alg {
		return nil, Errorf(CodeInternal, "key %s does not sign %s", d.key.ID, alg)
	}
	digest := sha256.Sum256(payload)
	sig, err := d.key.signer.Sign(nil, digest[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	if alg == jose.ES256 {
		return ecdsaRawSignature(sig, d.key.signer.Public().(*ecdsa.PublicKey))
	}
	return sig, nil
}

// ecdsaRawSignature turns Go's ASN.1 ECDSA signature into the fixed-width
// r||s form that JWS requires.
func ecdsaRawSignature(der []byte, pub *ecdsa.PublicKey) ([]byte, error) {
	var rs struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &rs); err != nil {
		return nil, err
	}
	size := (pub.Curve.Params().BitSize + 7) / 8
	out := make([]byte, 2*size)
	rs.R.FillBytes(out[:size])
	rs.S.FillBytes(out[size:])
	return out, nil
}

// tokenClaims is the payload of an admission token. A struct (not a map)
// keeps the JSON field order fixed, which the identical re-sign relies on.
type tokenClaims struct {
	Audience      string `json:"aud"`
	Subject       string `json:"sub"`
	QueuePosition int64  `json:"queue_position"`
	TokenUse      string `json:"token_use"`
	IssuedAt      int64  `json:"iat"`
	NotBefore     int64  `json:"nbf"`
	Expires       int64  `json:"exp"`
	Issuer        string `json:"iss"`
}

func claimsFor(rec TokenRecord, use string) tokenClaims {
	return tokenClaims{
		Audience:      rec.Room,
		Subject:       rec.RequestID,
		QueuePosition: rec.Position,
		TokenUse:      use,
		IssuedAt:      rec.IssuedAt.Unix(),
		NotBefore:     rec.NotBefore.Unix(),
		Expires:       rec.ExpiresAt.Unix(),
		Issuer:        rec.Issuer,
	}
}

// signJWT signs claims with key kid as a compact JWS with typ JWT.
func (k *Keys) signJWT(kid string, claims any) (string, error) {
	signer, ok := k.Signer(kid)
	if !ok {
		return "", Errorf(CodeInternal, "signing key %s is no longer available", kid)
	}
	alg := signer.Algs()[0]
	opts := (&jose.SignerOptions{}).WithType("JWT")
	js, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: signer}, opts)
	if err != nil {
		return "", Wrap(CodeInternal, err, "cannot sign token")
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", Wrap(CodeInternal, err, "cannot sign token")
	}
	obj, err := js.Sign(payload)
	if err != nil {
		return "", Wrap(CodeInternal, err, "cannot sign token")
	}
	return obj.CompactSerialize()
}

// signTokens signs the three tokens of an admission from its stored record.
func (k *Keys) signTokens(rec TokenRecord, now time.Time) (Tokens, error) {
	t := Tokens{Record: rec, ExpiresIn: expiresIn(rec.ExpiresAt, now)}
	for _, out := range []struct {
		use string
		dst *string
	}{{"access", &t.Access}, {"refresh", &t.Refresh}, {"id", &t.ID}} {
		s, err := k.signJWT(rec.KeyID, claimsFor(rec, out.use))
		if err != nil {
			return Tokens{}, err
		}
		*out.dst = s
	}
	return t, nil
}

// expiresIn is the whole seconds left before exp, never negative. now is
// truncated like iat is, so a first issue answers exactly the validity.
func expiresIn(exp, now time.Time) int64 {
	if d := exp.Sub(now.Truncate(time.Second)); d > 0 {
		return int64(d / time.Second)
	}
	return 0
}
