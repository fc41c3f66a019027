package oidc

import (
	"strconv"
	"strings"
	"testing"
)

// TestExpandClaim checks the placeholder scan against the plain
// definition (a strings.Replacer of the four placeholders).
func TestExpandClaim(t *testing.T) {
	g := &grant{Subject: "ABCDEF0123456789", Room: "r1", Position: 42}
	ref := strings.NewReplacer("{sub}", g.Subject, "{sub8}", "abcdef01", "{room}", g.Room,
		"{position}", strconv.FormatInt(g.Position, 10))
	for _, tmpl := range []string{
		"", "plain", "visitor-{sub8}", "{sub8}@visitors.invalid", "{sub}{sub}", "{room}/{position}",
		"{", "}", "{}", "{{sub}}", "{unknown}-{sub8}", "{sub", "a{b{room}c", "{position}{", "é{sub8}ü",
	} {
		if got, want := expandClaim(tmpl, g), ref.Replace(tmpl); got != want {
			t.Errorf("%q: %q, want %q", tmpl, got, want)
		}
	}
}
