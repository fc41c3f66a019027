package oidc

import (
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// authRequest is a pending /authorize request. It is stored (Ephemeral)
// while the visitor waits and carries the grant once they are admitted.
type authRequest struct {
	ID                  string            `json:"id"`
	ClientID            string            `json:"client_id"`
	RedirectURI         string            `json:"redirect_uri"`
	State               string            `json:"state,omitempty"`
	Nonce               string            `json:"nonce,omitempty"`
	ResponseMode        oidc.ResponseMode `json:"response_mode,omitempty"`
	Scopes              []string          `json:"scopes"`
	CodeChallenge       string            `json:"code_challenge,omitempty"`
	CodeChallengeMethod string            `json:"code_challenge_method,omitempty"`
	Prompt              []string          `json:"prompt,omitempty"`
	MaxAge              *uint             `json:"max_age,omitempty"`
	// HintSubject is the sub of a verified id_token_hint.
	HintSubject string    `json:"hint_sub,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	// Grant is set once the visitor is admitted.
	Grant *grant `json:"grant,omitempty"`
}

// grant is what one admitted login grants. Codes, access tokens and refresh
// tokens all carry it; ID is the auth request's id and names the login for
// revocation and logout (it is the ID token's sid).
type grant struct {
	ID         string    `json:"id"`
	ClientID   string    `json:"client_id"`
	Subject    string    `json:"sub"`
	Scopes     []string  `json:"scopes"`
	Room       string    `json:"room"`
	TicketID   string    `json:"ticket"`
	Position   int64     `json:"position"`
	QueuedAt   time.Time `json:"queued_at"`
	AdmittedAt time.Time `json:"admitted_at"`
	// AdmissionEnds is when the room's admission (token record) expires;
	// set at the code exchange. Refresh is refused after it.
	AdmissionEnds time.Time `json:"admission_ends,omitzero"`
}

// reply is where the answer to the request goes.
func (a *authRequest) reply() authorizeReply {
	return authorizeReply{redirectURI: a.RedirectURI, state: a.State, mode: a.ResponseMode}
}

func (a *authRequest) promptNone() bool { return slices.Contains(a.Prompt, oidc.PromptNone) }

// op.AuthRequest

func (a *authRequest) GetID() string         { return a.ID }
func (a *authRequest) GetACR() string        { return "" }
func (a *authRequest) GetAMR() []string      { return nil }
func (a *authRequest) GetAudience() []string { return []string{a.ClientID} }
func (a *authRequest) GetClientID() string   { return a.ClientID }
func (a *authRequest) GetNonce() string      { return a.Nonce }
func (a *authRequest) GetRedirectURI() string {
	return a.RedirectURI
}
func (a *authRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseTypeCode }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return a.ResponseMode }
func (a *authRequest) GetScopes() []string                { return a.Scopes }
func (a *authRequest) GetState() string                   { return a.State }
func (a *authRequest) Done() bool                         { return a.Grant != nil }

func (a *authRequest) GetAuthTime() time.Time {
	if a.Grant == nil {
		return time.Time{}
	}
	return a.Grant.AdmittedAt
}

func (a *authRequest) GetSubject() string {
	if a.Grant == nil {
		return ""
	}
	return a.Grant.Subject
}

func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.CodeChallenge, Method: oidc.CodeChallengeMethod(a.CodeChallengeMethod)}
}

// refreshRequest is a grant being refreshed (op.RefreshTokenRequest).
type refreshRequest struct {
	grant   grant
	tokenID string
}

func (r *refreshRequest) GetAMR() []string            { return nil }
func (r *refreshRequest) GetAudience() []string       { return []string{r.grant.ClientID} }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.grant.AdmittedAt }
func (r *refreshRequest) GetClientID() string         { return r.grant.ClientID }
func (r *refreshRequest) GetScopes() []string         { return r.grant.Scopes }
func (r *refreshRequest) GetSubject() string          { return r.grant.Subject }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.grant.Scopes = s }
