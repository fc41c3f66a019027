package oidc

import (
	"strconv"
	"strings"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// supportedClaims is what discovery lists.
var supportedClaims = []string{
	"iss", "sub", "aud", "azp", "exp", "iat", "auth_time", "nonce", "at_hash", "sid",
	waitroom.ClaimRoom, waitroom.ClaimPosition, waitroom.ClaimQueuedAt, waitroom.ClaimAdmittedAt,
	"preferred_username", "name", "email", "email_verified",
}

// waitroomClaims are the claims that describe the admission.
func waitroomClaims(g *grant) map[string]any {
	return map[string]any{
		waitroom.ClaimRoom:       g.Room,
		waitroom.ClaimPosition:   g.Position,
		waitroom.ClaimQueuedAt:   g.QueuedAt.Unix(),
		waitroom.ClaimAdmittedAt: g.AdmittedAt.Unix(),
	}
}

// expandClaim fills the placeholders of a client's static claim. It runs
// for every ID token and userinfo answer, so it scans the template once
// instead of building a strings.Replacer each time.
func expandClaim(tmpl string, g *grant) string {
	if !strings.Contains(tmpl, "{") {
		return tmpl
	}
	var b strings.Builder
	b.Grow(len(tmpl) + len(g.Subject))
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		b.WriteString(tmpl[:i])
		tmpl = tmpl[i:]
		name, _, closed := strings.Cut(tmpl[1:], "}")
		value, known := placeholder(name, g)
		if !closed || !known {
			b.WriteByte('{') // not a placeholder: kept as written
			tmpl = tmpl[1:]
			continue
		}
		b.WriteString(value)
		tmpl = tmpl[len(name)+2:]
	}
}

func placeholder(name string, g *grant) (string, bool) {
	switch name {
	case "sub":
		return g.Subject, true
	case "sub8":
		sub8 := g.Subject
		if len(sub8) > 8 {
			sub8 = sub8[:8]
		}
		return strings.ToLower(sub8), true
	case "room":
		return g.Room, true
	case "position":
		return strconv.FormatInt(g.Position, 10), true
	}
	return "", false
}
