// Package oidc is waitroom's OpenID Connect provider: the /authorize step of
// the code flow is the waiting room.
//
// The protocol work (request parsing and validation, ID-token and JWT
// construction) is done by github.com/zitadel/oidc/v3/pkg/op through an
// adapter onto the queue core (storage.go). A few endpoints are served by
// this package instead of the library's router because the library cannot
// do what the relying parties need there:
//
//   - /oauth/token consumes a code with one atomic step before anything is
//     minted, answers 503 on a store outage instead of a half-issued token,
//     and revokes the first grant when a code is replayed;
//   - /userinfo answers 401 with WWW-Authenticate and accepts the token in the
//     header or the form body, by GET or POST;
//   - /keys and discovery carry Cache-Control and list only what is served;
//   - /authorize refuses PKCE "plain" and shows an error page (never a
//     redirect) for an unknown client or redirect_uri before the library
//     takes over.
//
// The login step is the room (login.go): the visitor is enqueued once per
// browser and room (a signed ticket cookie), waits until the room's serving
// counter reaches the ticket's position, receives a signed admission cookie
// and the authorization code. Clients, refresh tokens and their stores are
// declared here; backends live in oidc/memstore and oidc/pgstore and pass
// the one suite in oidc/storetest.
package oidc
