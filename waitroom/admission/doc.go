// Package admission decides who gets in: it moves each room's serving
// counter according to the room's mode and inlet strategy (periodic, rate,
// max_active), pauses admission while the protected site is unhealthy,
// opens scheduled rooms (shuffling the pre-queue with a published
// commitment) and runs all of that on exactly one replica at a time under a
// fenced lease.
//
// Strategies are pure arithmetic: given a tick number and a snapshot of the
// room's counters they say how far to move the counter. Time only enters
// through the clock the Engine is given, so tests drive it without sleeping.
package admission
