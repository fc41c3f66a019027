package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// AdminKey is one accepted admin key: its name (who appears in the audit
// trail), the SHA-256 of the key (the key itself is never stored, so a
// leaked configuration does not leak a credential) and whether it may only
// look.
type AdminKey struct {
	Name     string
	Hash     [sha256.Size]byte
	ReadOnly bool
}

// AdminKeys are the accepted admin keys. The admin API and the control
// panel's sign-in share one.
type AdminKeys []AdminKey

var keyName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$`)

// ParseAdminKeys reads the admin_key_hashes entries, each
//
//	<64 hex characters>              a key named key-1, key-2, ... by place
//	name:<64 hex characters>         a named key
//	name:<64 hex characters>:viewer  a named key that may only look
//
// reporting every bad entry and every name given twice.
func ParseAdminKeys(entries []string) (AdminKeys, error) {
	var keys AdminKeys
	var bad []string
	seen := map[string]bool{}
	for i, entry := range entries {
		k, err := parseAdminKey(strings.TrimSpace(entry), i)
		if err == nil && seen[k.Name] {
			err = fmt.Errorf("the name %q is used twice", k.Name)
		}
		if err != nil {
			bad = append(bad, fmt.Sprintf("#%d: %v", i+1, err))
			continue
		}
		seen[k.Name] = true
		keys = append(keys, k)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("admin key hashes %s (want [name:]<64 hex characters, the SHA-256 of the key>[:viewer])", strings.Join(bad, ", "))
	}
	return keys, nil
}

func parseAdminKey(entry string, i int) (AdminKey, error) {
	k := AdminKey{Name: fmt.Sprintf("key-%d", i+1)}
	parts := strings.Split(entry, ":")
	switch {
	case len(parts) == 3 && parts[2] == "viewer":
		k.ReadOnly = true
		fallthrough
	case len(parts) == 2:
		if !keyName.MatchString(parts[0]) {
			return k, fmt.Errorf("the name %q: 1-64 letters, digits, '_', '.', '@' or '-'", parts[0])
		}
		k.Name = parts[0]
	case len(parts) != 1:
		return k, fmt.Errorf("too many ':' (the only role is viewer)")
	}
	raw, err := hex.DecodeString(parts[min(1, len(parts)-1)])
	if err != nil || len(raw) != sha256.Size {
		return k, fmt.Errorf("not 64 hex characters")
	}
	k.Hash = [sha256.Size]byte(raw)
	return k, nil
}

// HashAdminKey returns the hex SHA-256 of an admin key: the form in which
// keys are configured.
func HashAdminKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Identify returns the operator of a presented key. It compares the key's
// hash with every configured hash in constant time, without stopping at
// the first match, so timing reveals neither which key matched nor how
// much of a hash did.
func (k AdminKeys) Identify(presented string) (web.Actor, bool) {
	sum := sha256.Sum256([]byte(presented))
	found := -1
	for i := range k {
		if subtle.ConstantTimeCompare(sum[:], k[i].Hash[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return web.Actor{}, false
	}
	return web.Actor{Name: k[found].Name, ReadOnly: k[found].ReadOnly}, true
}

// bearerToken extracts the credential of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// requireAdmin lets through requests of an operator: one the control panel
// already authenticated (its actor is in the context; nothing outside the
// process can put it there), or one presenting a valid admin key. A
// viewer's key may only read.
func (a *API) requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor, ok := web.ActorFrom(r.Context())
		if !ok {
			key, present := bearerToken(r)
			if actor, ok = a.opts.AdminKeys.Identify(key); !present || !ok {
				web.Error(w, r, &web.Problem{Status: http.StatusUnauthorized, Code: "unauthorized",
					Message: "a valid admin key is required: Authorization: Bearer <key>",
					Header:  http.Header{"Www-Authenticate": {`Bearer realm="waitroom-admin"`}}})
				return
			}
			r = r.WithContext(web.WithActor(r.Context(), actor))
		}
		if actor.ReadOnly && r.Method != http.MethodGet && r.Method != http.MethodHead {
			web.Error(w, r, &web.Problem{Status: http.StatusForbidden, Code: "read_only",
				Message: "the key " + actor.Name + " may only read (a viewer key)"})
			return
		}
		next.ServeHTTP(w, r)
	})
}
