package admission

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// CaptchaProvider is one CAPTCHA service as the server is configured for
// it. Turnstile, hCaptcha and reCAPTCHA share one verify protocol: a form
// POST of secret, response and remoteip, answered by JSON with a success
// flag.
type CaptchaProvider struct {
	SiteKey string
	Secret  string
	// VerifyURL overrides the provider's siteverify URL (a test server, a
	// regional endpoint).
	VerifyURL string
}

// captchaKind is what differs between the providers.
type captchaKind struct {
	verifyURL, scriptURL, widgetClass, field string
	// hosts are the origins the page's Content-Security-Policy must allow
	// for the widget's script and frame.
	hosts []string
}

var captchaKinds = map[string]captchaKind{
	waitroom.CaptchaTurnstile: {"https://challenges.cloudflare.com/turnstile/v0/siteverify",
		"https://challenges.cloudflare.com/turnstile/v0/api.js", "cf-turnstile", "cf-turnstile-response",
		[]string{"https://challenges.cloudflare.com"}},
	waitroom.CaptchaHCaptcha: {"https://api.hcaptcha.com/siteverify",
		"https://js.hcaptcha.com/1/api.js", "h-captcha", "h-captcha-response",
		[]string{"https://hcaptcha.com", "https://*.hcaptcha.com"}},
	waitroom.CaptchaReCaptcha: {"https://www.google.com/recaptcha/api/siteverify",
		"https://www.google.com/recaptcha/api.js", "g-recaptcha", "g-recaptcha-response",
		[]string{"https://www.google.com", "https://www.gstatic.com"}},
}

// CaptchaWidget is what the room page (or an app) needs to show a
// provider's widget.
type CaptchaWidget struct {
	Provider string `json:"provider"`
	SiteKey  string `json:"site_key"`
	// Script is the provider's script; Class the element it fills; Field
	// the form field the widget posts its token in.
	Script string   `json:"script"`
	Class  string   `json:"-"`
	Field  string   `json:"field"`
	Hosts  []string `json:"-"`
}

// Captcha verifies CAPTCHA tokens with their providers.
type Captcha struct {
	providers map[string]CaptchaProvider
	client    *http.Client
}

// DefaultCaptchaTimeout bounds one verification: a visitor waits for it.
const DefaultCaptchaTimeout = 5 * time.Second

// NewCaptcha returns a verifier for the configured providers (keyed by
// provider name); client nil is a client with DefaultCaptchaTimeout.
func NewCaptcha(providers map[string]CaptchaProvider, client *http.Client) *Captcha {
	if client == nil {
		client = &http.Client{Timeout: DefaultCaptchaTimeout}
	}
	return &Captcha{providers: providers, client: client}
}

// CaptchaProviderKnown reports whether name is a supported provider.
func CaptchaProviderKnown(name string) bool { _, ok := captchaKinds[name]; return ok }

// provider returns a configured provider; a room that names one the server
// has no keys for fails closed.
func (c *Captcha) provider(name string) (CaptchaProvider, captchaKind, error) {
	kind, known := captchaKinds[name]
	var p CaptchaProvider
	if c != nil {
		p = c.providers[name]
	}
	if !known || p.SiteKey == "" || p.Secret == "" {
		return p, kind, waitroom.Errorf(waitroom.CodeCaptchaUnavailable, "the CAPTCHA of this room is not configured; nobody can enter")
	}
	if p.VerifyURL == "" {
		p.VerifyURL = kind.verifyURL
	}
	return p, kind, nil
}

// Widget describes the widget of provider name.
func (c *Captcha) Widget(name string) (CaptchaWidget, error) {
	p, kind, err := c.provider(name)
	if err != nil {
		return CaptchaWidget{}, err
	}
	return CaptchaWidget{Provider: name, SiteKey: p.SiteKey, Script: kind.scriptURL, Class: kind.widgetClass,
		Field: kind.field, Hosts: kind.hosts}, nil
}

// Verify asks the provider whether token is a passed CAPTCHA. It fails
// closed: a provider that does not answer, or answers nonsense, keeps the
// newcomer out (captcha_unavailable).
func (c *Captcha) Verify(ctx context.Context, name, token, remoteIP string) error {
	p, _, err := c.provider(name)
	if err != nil {
		return err
	}
	if err := CheckCaptchaToken(token); err != nil {
		return err
	}
	form := url.Values{"secret": {p.Secret}, "response": {token}}
	if remoteIP != "" {
		form.Set("remoteip", remoteIP)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.VerifyURL, strings.NewReader(form.Encode()))
	if err != nil {
		return captchaDown(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return waitroom.Wrap(waitroom.CodeCanceled, ctx.Err(), "the caller gave up")
		}
		return captchaDown(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxVerifyAnswer))
	if err != nil || resp.StatusCode != http.StatusOK {
		return captchaDown(errors.Join(err, errors.New(resp.Status)))
	}
	passed, err := ParseCaptchaVerdict(body)
	if err != nil {
		return captchaDown(err)
	}
	if !passed {
		return waitroom.Errorf(waitroom.CodeChallengeInvalid, "the CAPTCHA answer was not accepted; try again")
	}
	return nil
}

// maxCaptchaToken bounds a token (providers' tokens are about 2 KB at
// most); maxVerifyAnswer bounds a provider's answer.
const (
	maxCaptchaToken = 4096
	maxVerifyAnswer = 64 << 10
)

// CheckCaptchaToken refuses a token no provider would issue, before it is
// sent anywhere: empty, too long, or not printable ASCII.
func CheckCaptchaToken(token string) error {
	if token == "" || len(token) > maxCaptchaToken {
		return waitroom.Errorf(waitroom.CodeChallengeInvalid, "malformed CAPTCHA answer")
	}
	for i := 0; i < len(token); i++ {
		if token[i] < 0x21 || token[i] > 0x7e {
			return waitroom.Errorf(waitroom.CodeChallengeInvalid, "malformed CAPTCHA answer")
		}
	}
	return nil
}

// ParseCaptchaVerdict reads a provider's siteverify answer: its success
// flag, which must be present and a boolean.
func ParseCaptchaVerdict(body []byte) (bool, error) {
	var v struct {
		Success *bool `json:"success"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return false, errors.New("captcha verify answer is not JSON")
	}
	if v.Success == nil {
		return false, errors.New("captcha verify answer has no success flag")
	}
	return *v.Success, nil
}

func captchaDown(cause error) error {
	return waitroom.Wrap(waitroom.CodeCaptchaUnavailable, cause, "the CAPTCHA provider did not answer; try again shortly")
}

// CaptchaField is the form field provider's widget posts its token in
// ("" for an unknown provider).
func CaptchaField(provider string) string { return captchaKinds[provider].field }
