package waitroom

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
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
	key *signingKey
}

func newDeterministicSigner(sk *signingKey) *deterministicSigner {
	return &deterministicSigner{key: sk}
}

func (d *deterministicSigner) Public() *jose.JSONWebKey {
	jwk := publicJWK(*d.key)
	return &jwk
}

func (d *deterministicSigner) Algs() []jose.SignatureAlgorithm {
	return []jose.SignatureAlgorithm{d.key.alg}
}

func (d *deterministicSigner) SignPayload(payload []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if alg != d.key.alg {
		return nil, Errorf(CodeInternal, "key %s does not sign %s", d.key.ID, alg)
	}
	return d.key.sign(payload)
}

// sign returns the JWS signature of the signing input: PKCS#1 v1.5 or
// ECDSA (RFC 6979, r||s) over its SHA-256.
func (sk *signingKey) sign(input []byte) ([]byte, error) {
	digest := sha256.Sum256(input)
	sig, err := sk.signer.Sign(nil, digest[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	if sk.alg == jose.ES256 {
		return ecdsaRawSignature(sig, sk.signer.Public().(*ecdsa.PublicKey))
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

// signTokens signs the three tokens of an admission from its stored record.
func (k *Keys) signTokens(rec TokenRecord, now time.Time) (Tokens, error) {
	sk, ok := k.byID(rec.KeyID)
	if !ok {
		return Tokens{}, Errorf(CodeInternal, "signing key %s is no longer available", rec.KeyID)
	}
	t := Tokens{Record: rec, ExpiresIn: expiresIn(rec.ExpiresAt, now)}
	for _, out := range []struct {
		use string
		dst *string
	}{{"access", &t.Access}, {"refresh", &t.Refresh}, {"id", &t.ID}} {
		s, err := sk.signJWT(claimsFor(rec, out.use))
		if err != nil {
			return Tokens{}, err
		}
		*out.dst = s
	}
	return t, nil
}

// jwsHeader is the protected header of every token: fields in the order
// go-jose writes them (sorted), so the bytes are the ones it produced.
type jwsHeader struct {
	Algorithm string `json:"alg"`
	KeyID     string `json:"kid"`
	Type      string `json:"typ"`
}

// encodedHeader is the base64url protected header of sk's tokens followed
// by the dot; parsing a key computes it once.
func encodedHeader(sk SigningKey) (string, error) {
	h, err := json.Marshal(jwsHeader{Algorithm: sk.Algorithm, KeyID: sk.ID, Type: "JWT"})
	if err != nil {
		return "", Wrap(CodeInternal, err, "cannot encode the header of key "+sk.ID)
	}
	return base64.RawURLEncoding.EncodeToString(h) + ".", nil
}

// signJWT signs claims as a compact JWS, byte for byte what go-jose gives
// for the same key, header and payload (TestTokensAsGoJose), without
// building a go-jose signer, header map and signature object per token:
// on the first-issue path that overhead was a third of the signing time.
func (sk *signingKey) signJWT(claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", Wrap(CodeInternal, err, "cannot sign token")
	}
	enc := base64.RawURLEncoding
	n := len(sk.header) + enc.EncodedLen(len(payload))
	buf := make([]byte, n, n+1+enc.EncodedLen(maxSignatureLen))
	copy(buf, sk.header)
	enc.Encode(buf[len(sk.header):], payload)
	sig, err := sk.sign(buf)
	if err != nil {
		return "", Wrap(CodeInternal, err, "cannot sign token")
	}
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf), nil
}

// maxSignatureLen fits an RSA-4096 signature; longer ones only grow the
// buffer.
const maxSignatureLen = 512

// expiresIn is the whole seconds left before exp, never negative. now is
// truncated like iat is, so a first issue answers exactly the validity.
func expiresIn(exp, now time.Time) int64 {
	if d := exp.Sub(now.Truncate(time.Second)); d > 0 {
		return int64(d / time.Second)
	}
	return 0
}
