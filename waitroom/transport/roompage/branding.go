package roompage

import (
	"html/template"
	"net/url"
	"regexp"
	"strings"
)

// Branding is a room's look: its title, logo and colours. Empty fields keep
// the built-in look.
type Branding struct {
	Title   string
	LogoURL string
	// Colours as CSS hex colours (#rgb or #rrggbb).
	Accent     string
	Background string
	Text       string
}

var hexColour = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// clean drops anything that is not a plain hex colour or an http(s) / root
// relative logo URL, so an operator typo cannot break out of the page.
func (b Branding) clean(roomName string) brandView {
	v := brandView{Title: strings.TrimSpace(b.Title), LogoURL: safeURL(b.LogoURL)}
	if v.Title == "" {
		v.Title = roomName
	}
	var css []string
	for _, c := range [][2]string{{"--accent", b.Accent}, {"--bg", b.Background}, {"--text", b.Text}} {
		if hexColour.MatchString(c[1]) {
			css = append(css, c[0]+":"+c[1])
		}
	}
	if len(css) > 0 {
		// Safe: every value matched hexColour above.
		v.Style = template.CSS(strings.Join(css, ";"))
	}
	return v
}

func safeURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || raw == "" {
		return ""
	}
	if u.Scheme == "https" || u.Scheme == "http" || (u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, "/")) {
		return u.String()
	}
	return ""
}

type brandView struct {
	Title   string
	LogoURL string
	Style   template.CSS
}
