package web

import "context"

// Actor is the operator behind an admin request: the name of the admin
// key it presented (directly, or at the control panel's sign-in).
// ReadOnly keys may look, not change.
type Actor struct {
	Name     string
	ReadOnly bool
}

type actorKey struct{}

// WithActor returns ctx carrying a. Only code that authenticated the
// operator sets it: a request from outside cannot.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the operator of ctx, if one was authenticated.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}
