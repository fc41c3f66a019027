package oidc

// DerivedKey returns a 32-byte key for another component of the same
// deployment (the control panel signs its sessions with one), derived from
// the provider's secret: every replica agrees on it, and the secret itself
// is never handed out. purpose must differ per use.
func (p *Provider) DerivedKey(purpose string) []byte {
	return derive(p.cfg.SecretKey, "derived:"+purpose)
}
