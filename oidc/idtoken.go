package oidc

import (
	"encoding/json"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// The token endpoint's answer is minted here rather than by the library's
// op.CreateTokenResponse: the library's ID token merges extra claims by
// marshalling its claims, decoding them into a map and marshalling that
// (in profiles of the B4 flow about as much CPU as the ES256 signature
// itself), and builds a new JOSE signer for every token; its access tokens
// need a storage round trip of their own. Here an access token is named by
// its grant and lifetime (accesstoken.go) and a whole answer is one
// marshal per token and one signer per key.

// idTokenClaims is an ID token: the claims the library's ID tokens carry,
// the grant's sid, and the profile (sub, waitroom claims, the client's
// static claims). A struct marshals once, in a fixed order.
type idTokenClaims struct {
	Issuer          string   `json:"iss"`
	Audience        []string `json:"aud"`
	Expiration      int64    `json:"exp"`
	IssuedAt        int64    `json:"iat"`
	AuthTime        int64    `json:"auth_time,omitempty"`
	Nonce           string   `json:"nonce,omitempty"`
	AuthorizedParty string   `json:"azp"`
	ClientID        string   `json:"client_id"`
	AccessTokenHash string   `json:"at_hash,omitempty"`
	CodeHash        string   `json:"c_hash,omitempty"`
	SessionID       string   `json:"sid"`
	profileClaims
}

// profileClaims are what userinfo answers and the ID token repeats: sub,
// the waitroom claims and the client's static claims with a field of their
// own; the client's other static claims are appended by marshalProfile.
type profileClaims struct {
	Subject           string `json:"sub"`
	Room              string `json:"room"`
	Position          int64  `json:"queue_position"`
	QueuedAt          int64  `json:"queued_at"`
	AdmittedAt        int64  `json:"admitted_at"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	Name              string `json:"name,omitempty"`
	Email             string `json:"email,omitempty"`
	EmailVerified     bool   `json:"email_verified,omitempty"`
}

// newProfile fills the profile of a grant for client c and returns the
// names of the client's other static claims, sorted.
func newProfile(g *grant, c waitroom.Client) (profileClaims, []string) {
	pc := profileClaims{Subject: g.Subject, Room: g.Room, Position: g.Position,
		QueuedAt: g.QueuedAt.Unix(), AdmittedAt: g.AdmittedAt.Unix()}
	var extra []string
	for k, tmpl := range c.Claims {
		switch k {
		case "preferred_username":
			pc.PreferredUsername = expandClaim(tmpl, g)
		case "name":
			pc.Name = expandClaim(tmpl, g)
		case "email":
			pc.Email = expandClaim(tmpl, g)
		case "email_verified":
			pc.EmailVerified = expandClaim(tmpl, g) == "true"
		default:
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	return pc, extra
}

// marshalProfile marshals v (a struct holding the profile) and appends the
// client's other static claims (names from newProfile; reservedClaims keeps
// them from repeating one of v's).
func marshalProfile(v any, extra []string, g *grant, c waitroom.Client) ([]byte, error) {
	payload, err := json.Marshal(v)
	if err != nil || len(extra) == 0 {
		return payload, err
	}
	payload = payload[:len(payload)-1] // the closing brace
	for _, k := range extra {
		kv, err := json.Marshal(map[string]string{k: expandClaim(c.Claims[k], g)})
		if err != nil {
			return nil, err
		}
		payload = append(append(payload, ','), kv[1:len(kv)-1]...)
	}
	return append(payload, '}'), nil
}

// mint issues the tokens of a grant for client c: an access token, an ID
// token and, with refresh, a new refresh token. nonce and code come from a
// code exchange. Nothing is minted once the admission has ended.
func (p *Provider) mint(r *http.Request, g *grant, c waitroom.Client, nonce, code string, refresh bool) (*oidc.AccessTokenResponse, error) {
	now := p.cfg.Clock()
	if !now.Before(g.AdmissionEnds) {
		return nil, oidc.ErrInvalidGrant().WithDescription("the admission has ended")
	}
	access, exp, err := p.accessToken(g, c, now)
	if err != nil {
		return nil, err
	}
	var refreshToken string
	if refresh {
		if refreshToken, err = p.grants.newRefreshToken(r.Context(), g, c); err != nil {
			return nil, err
		}
	}
	idToken, err := p.idToken(g, c, nonce, access, code)
	if err != nil {
		return nil, err
	}
	return &oidc.AccessTokenResponse{
		AccessToken:  access,
		IDToken:      idToken,
		RefreshToken: refreshToken,
		TokenType:    oidc.BearerToken,
		ExpiresIn:    uint64(max(exp.Sub(now), 0).Seconds()),
		Scope:        g.Scopes,
	}, nil
}

// idToken signs the ID token of a grant. Its times come from the real
// clock, as the library's did: relying parties check them against theirs.
func (p *Provider) idToken(g *grant, c waitroom.Client, nonce, accessToken, code string) (string, error) {
	signer, alg, err := p.signer()
	if err != nil {
		return "", err
	}
	now := time.Now()
	profile, extra := newProfile(g, c)
	claims := idTokenClaims{
		Issuer: p.cfg.Issuer, Audience: []string{g.ClientID},
		Expiration: now.Add(c.IDTokenLifetime.D()).Unix(), IssuedAt: now.Unix(), Nonce: nonce,
		AuthorizedParty: g.ClientID, ClientID: g.ClientID, SessionID: g.ID, profileClaims: profile,
	}
	if !g.AdmittedAt.IsZero() {
		claims.AuthTime = g.AdmittedAt.Unix()
	}
	if accessToken != "" {
		if claims.AccessTokenHash, err = oidc.ClaimHash(accessToken, alg); err != nil {
			return "", err
		}
	}
	if code != "" {
		if claims.CodeHash, err = oidc.ClaimHash(code, alg); err != nil {
			return "", err
		}
	}
	payload, err := marshalProfile(claims, extra, g, c)
	if err != nil {
		return "", waitroom.Wrap(waitroom.CodeInternal, err, "encode the ID token")
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", waitroom.Wrap(waitroom.CodeInternal, err, "sign the ID token")
	}
	return jws.CompactSerialize()
}

// keySigner is a JOSE signer of one signing key.
type keySigner struct {
	kid    string
	alg    jose.SignatureAlgorithm
	signer jose.Signer
}

// signer returns a signer for the current key, made once per key (keys
// rotate: a new current key gets a new signer).
func (p *Provider) signer() (jose.Signer, jose.SignatureAlgorithm, error) {
	kid, alg, key := p.cfg.Keys.Current()
	if s := p.signers.Load(); s != nil && s.kid == kid && s.alg == alg {
		return s.signer, s.alg, nil
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: &jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, "", waitroom.Wrap(waitroom.CodeInternal, err, "signing key")
	}
	p.signers.Store(&keySigner{kid: kid, alg: alg, signer: signer})
	return signer, alg, nil
}

// signerCache holds the signer of the current key.
type signerCache = atomic.Pointer[keySigner]
