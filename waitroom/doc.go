// Package waitroom is the queue core of the waiting room: rooms, tickets, the
// per-room serving counter, admission tokens, queue-position expiry and
// sessions.
//
// The core declares the storage it needs (Store, KeyStore, Ephemeral) and the
// backends implement it in their own packages; one conformance suite
// (waitroom/storetest) is run against every backend. Service holds the rules
// that are the same whatever the backend: validation, defaults, token
// signing and the expiry algorithm.
package waitroom
