// Package webhook delivers a room's events to the receivers configured on
// the room: at least once, in order per (room, receiver), from a durable
// outbox, retried with exponential backoff, each delivery signed with
// HMAC-SHA256 so receivers can check where it came from.
//
// Recording an event is one write to the outbox; delivery runs apart (on
// the leader), so a receiver that is down never slows admission.
//
// # Signature
//
// Every delivery carries the header
//
//	Waitroom-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// and Waitroom-Event-Id / Waitroom-Event-Type. A receiver recomputes the
// HMAC over the timestamp, a dot and the raw body, compares in constant
// time, and rejects timestamps too far from its clock (Verify does all
// three). The event id is stable across retries: receivers deduplicate on it.
package webhook
