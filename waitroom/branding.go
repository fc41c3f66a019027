package waitroom

import (
	"fmt"
	"net/url"
	"regexp"
)

// Branding is the look of a room's waiting page. Empty fields keep the
// built-in look.
type Branding struct {
	// Title replaces the room name at the top of the page.
	Title string `json:"title,omitempty"`
	// LogoURL is an absolute http(s) URL or a path on this server.
	LogoURL string `json:"logo_url,omitempty"`
	// Colours are CSS hex colours (#rgb or #rrggbb).
	AccentColor     string `json:"accent_color,omitempty"`
	BackgroundColor string `json:"background_color,omitempty"`
	TextColor       string `json:"text_color,omitempty"`
	// Messages is the organiser's message to visitors, by language code
	// ("en", "fr", "pt-BR"): shown on the waiting page in the visitor's
	// language, else in English.
	Messages map[string]string `json:"messages,omitempty"`
}

var languageCode = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$`)

// maxMessage bounds one organiser message.
const maxMessage = 1000

var hexColour = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// problems lists what is wrong with the branding, for Room.Validate.
func (b Branding) problems() []string {
	var out []string
	if len(b.Title) > 200 {
		out = append(out, "branding.title: at most 200 characters")
	}
	if b.LogoURL != "" {
		u, err := url.Parse(b.LogoURL)
		ok := err == nil && len(b.LogoURL) <= 2048 &&
			((u.Scheme == "https" || u.Scheme == "http") && u.Host != "" || u.Scheme == "" && u.Host == "" && len(u.Path) > 0 && u.Path[0] == '/')
		if !ok {
			out = append(out, "branding.logo_url: an http(s) URL or a path starting with /")
		}
	}
	for lang, msg := range b.Messages {
		switch {
		case !languageCode.MatchString(lang):
			out = append(out, fmt.Sprintf("branding.messages: %q is not a language code such as en or pt-BR", lang))
		case len(msg) > maxMessage:
			out = append(out, fmt.Sprintf("branding.messages.%s: at most %d characters", lang, maxMessage))
		}
	}
	for _, c := range [][2]string{{"accent_color", b.AccentColor}, {"background_color", b.BackgroundColor}, {"text_color", b.TextColor}} {
		if c[1] != "" && !hexColour.MatchString(c[1]) {
			out = append(out, "branding."+c[0]+": a hex colour such as #1d5fb8")
		}
	}
	return out
}
