package oidc

import (
	"strconv"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// The waitroom claims, in the ID token, JWT access tokens and userinfo.
const (
	claimRoom       = "room"
	claimPosition   = "queue_position"
	claimQueuedAt   = "queued_at"
	claimAdmittedAt = "admitted_at"
)

// supportedClaims is what discovery lists.
var supportedClaims = []string{
	"iss", "sub", "aud", "azp", "exp", "iat", "auth_time", "nonce", "at_hash", "sid",
	claimRoom, claimPosition, claimQueuedAt, claimAdmittedAt,
	"preferred_username", "name", "email", "email_verified",
}

// waitroomClaims are the claims that describe the admission.
func waitroomClaims(g *grant) map[string]any {
	return map[string]any{
		claimRoom:       g.Room,
		claimPosition:   g.Position,
		claimQueuedAt:   g.QueuedAt.Unix(),
		claimAdmittedAt: g.AdmittedAt.Unix(),
	}
}

// fillUserInfo sets sub, the waitroom claims and the client's own claims.
func fillUserInfo(info *oidc.UserInfo, g *grant, c Client) {
	info.Subject = g.Subject
	for k, v := range waitroomClaims(g) {
		info.AppendClaims(k, v)
	}
	for k, tmpl := range c.Claims {
		v := expandClaim(tmpl, g)
		switch k {
		case "preferred_username":
			info.PreferredUsername = v
		case "name":
			info.Name = v
		case "email":
			info.Email = v
		case "email_verified":
			info.EmailVerified = oidc.Bool(v == "true")
		default:
			info.AppendClaims(k, v)
		}
	}
}

// expandClaim fills the placeholders of a client's static claim.
func expandClaim(tmpl string, g *grant) string {
	if !strings.Contains(tmpl, "{") {
		return tmpl
	}
	sub8 := g.Subject
	if len(sub8) > 8 {
		sub8 = sub8[:8]
	}
	return strings.NewReplacer(
		"{sub}", g.Subject,
		"{sub8}", strings.ToLower(sub8),
		"{room}", g.Room,
		"{position}", strconv.FormatInt(g.Position, 10),
	).Replace(tmpl)
}
