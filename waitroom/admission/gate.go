package admission

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// ChallengeAlgorithm names the proof of work in offers.
const ChallengeAlgorithm = "sha256-leading-zero-bits"

// Default lifetimes of the gate.
const (
	// DefaultChallengeLifetime is how long a challenge may be solved and
	// used: long enough for a slow phone at the highest level a room
	// should set, short enough that hoarded solutions go stale.
	DefaultChallengeLifetime = 5 * time.Minute
	// clockSkew is how far in the future a challenge may claim to be
	// issued (replicas' clocks differ a little).
	clockSkew = 30 * time.Second
	// placesWindow is how long a visitor's places in a room are counted.
	placesWindow = 24 * time.Hour
	// rateSampleEvery spaces the arrival-rate samples of a room.
	rateSampleEvery = time.Second
)

// Gate is the bot gate of every room: it hands out proof-of-work
// challenges and checks what a newcomer presents (a solved, fresh,
// unused challenge; a CAPTCHA token) before the newcomer takes a place.
// The transports call Check before Enqueue for a call that would take a
// new place.
type Gate struct {
	key      []byte
	eph      waitroom.Ephemeral
	counters func(ctx context.Context, room string) (waitroom.Counters, error)
	captcha  *Captcha
	clock    func() time.Time
	lifetime time.Duration

	mu    sync.Mutex
	rates map[string]*arrivalRate
}

// GateOptions configure a Gate.
type GateOptions struct {
	// Key signs challenges (derive it from the deployment secret).
	Key []byte
	// Ephemeral records used challenges and visitors' places.
	Ephemeral waitroom.Ephemeral
	// Counters reads a room's counters, for the arrival rate the
	// difficulty ramps with.
	Counters func(ctx context.Context, room string) (waitroom.Counters, error)
	// Captcha verifies CAPTCHA tokens; nil refuses every room that asks
	// for one (fail closed).
	Captcha  *Captcha
	Clock    func() time.Time
	Lifetime time.Duration
}

// NewGate returns a gate.
func NewGate(o GateOptions) *Gate {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Lifetime <= 0 {
		o.Lifetime = DefaultChallengeLifetime
	}
	return &Gate{key: o.Key, eph: o.Ephemeral, counters: o.Counters, captcha: o.Captcha,
		clock: o.Clock, lifetime: o.Lifetime, rates: map[string]*arrivalRate{}}
}

// Offer is what a client needs to pass a room's gate.
type Offer struct {
	// Token, Algorithm, Difficulty: the proof of work (absent when the
	// room asks for none).
	Token      string `json:"token,omitempty"`
	Algorithm  string `json:"algorithm,omitempty"`
	Difficulty int    `json:"difficulty,omitempty"`
	// ExpiresAt (unix seconds): a solution must be used before.
	ExpiresAt int64 `json:"expires_at,omitempty"`
	// Captcha, when the room asks for one: the widget to show.
	Captcha *CaptchaWidget `json:"captcha,omitempty"`
}

// Answer is what a newcomer presents.
type Answer struct {
	// Challenge is the token of an offer, Solution its counter (decimal).
	Challenge string
	Solution  string
	// Captcha is the token the provider's widget posted.
	Captcha string
	// RemoteIP is passed on to the CAPTCHA provider.
	RemoteIP string
}

// GateError is a refusal of the gate; it carries a fresh offer so that a
// client can try again without another round trip.
type GateError struct {
	Err   error
	Offer Offer
}

func (e *GateError) Error() string { return e.Err.Error() }
func (e *GateError) Unwrap() error { return e.Err }

// ChallengeOffer is the offer, for the answer's "challenge" field.
func (e *GateError) ChallengeOffer() any { return e.Offer }

// Offer returns a fresh challenge for room (and its CAPTCHA widget).
func (g *Gate) Offer(ctx context.Context, room waitroom.Room) (Offer, error) {
	var o Offer
	bg := room.BotGate
	if !bg.Challenged() {
		return o, nil
	}
	if bg.Difficulty > 0 {
		c := Challenge{Difficulty: bg.DifficultyAt(g.arrivalRate(ctx, room)), IssuedAt: g.clock()}
		if _, err := rand.Read(c.Nonce[:]); err != nil {
			return o, waitroom.Wrap(waitroom.CodeInternal, err, "no randomness")
		}
		o.Token, o.Algorithm, o.Difficulty = encodeChallenge(g.key, room.ID, c), ChallengeAlgorithm, c.Difficulty
		o.ExpiresAt = c.IssuedAt.Add(g.lifetime).Unix()
	}
	if bg.Captcha != "" {
		w, err := g.captcha.Widget(bg.Captcha)
		if err != nil {
			return o, err
		}
		o.Captcha = &w
	}
	return o, nil
}

// Check lets a newcomer through room's gate, or refuses with a GateError
// (challenge_required, challenge_invalid, challenge_replayed) or
// captcha_unavailable. A solution is spent by the first Check that accepts
// it, on every replica sharing the Ephemeral store.
func (g *Gate) Check(ctx context.Context, room waitroom.Room, a Answer) error {
	bg := room.BotGate
	if !bg.Challenged() {
		return nil
	}
	if err := g.check(ctx, room, a); err != nil {
		if waitroom.ErrorCode(err) == waitroom.CodeCaptchaUnavailable {
			return err
		}
		o, oerr := g.Offer(ctx, room)
		if oerr != nil {
			return oerr
		}
		return &GateError{Err: err, Offer: o}
	}
	return nil
}

func (g *Gate) check(ctx context.Context, room waitroom.Room, a Answer) error {
	bg := room.BotGate
	if bg.Difficulty > 0 {
		if a.Challenge == "" || a.Solution == "" {
			return waitroom.Errorf(waitroom.CodeChallengeRequired, "this room asks for a solved challenge: solve the one in the challenge field")
		}
		if err := g.checkWork(ctx, room, a); err != nil {
			return err
		}
	}
	if bg.Captcha != "" {
		if a.Captcha == "" {
			return waitroom.Errorf(waitroom.CodeChallengeRequired, "this room asks for a CAPTCHA answer")
		}
		return g.captcha.Verify(ctx, bg.Captcha, a.Captcha, a.RemoteIP)
	}
	return nil
}

// checkWork verifies a proof of work and spends it.
func (g *Gate) checkWork(ctx context.Context, room waitroom.Room, a Answer) error {
	counter, err := ParseSolution(a.Solution)
	if err != nil {
		return err
	}
	c, err := decodeChallenge(g.key, room.ID, a.Challenge)
	if err != nil {
		return err
	}
	now := g.clock()
	expires := c.IssuedAt.Add(g.lifetime)
	switch {
	case c.IssuedAt.After(now.Add(clockSkew)):
		return invalidChallenge("the challenge was issued in the future")
	case !now.Before(expires):
		return invalidChallenge("the challenge expired; solve a fresh one")
	case c.Difficulty < room.BotGate.Difficulty:
		return invalidChallenge("the challenge is easier than the room asks")
	case SolutionBits(a.Challenge, counter) < c.Difficulty:
		return invalidChallenge("the solution does not solve the challenge")
	}
	fresh, err := g.eph.PutIfAbsent(ctx, "botgate:used:"+room.ID+":"+hex.EncodeToString(c.Nonce[:]), []byte{1}, expires.Sub(now)+clockSkew)
	if err != nil {
		return err
	}
	if !fresh {
		return waitroom.Errorf(waitroom.CodeChallengeReplayed, "this solution was already used; solve a fresh challenge")
	}
	return nil
}

// CountPlace counts a new place of a visitor (a browser's visitor id) in
// room and refuses it (too_many_places) beyond the room's cap.
func (g *Gate) CountPlace(ctx context.Context, room waitroom.Room, visitor string) error {
	bg := room.BotGate
	if bg == nil || bg.MaxPlacesPerVisitor <= 0 || visitor == "" {
		return nil
	}
	n, err := g.eph.Incr(ctx, "botgate:places:"+room.ID+":"+visitor, placesWindow)
	if err != nil {
		return err
	}
	if n > bg.MaxPlacesPerVisitor {
		return waitroom.Errorf(waitroom.CodeTooManyPlaces, "this browser already took %d places in this room today", bg.MaxPlacesPerVisitor)
	}
	return nil
}

// arrivalRate is a room's arrivals a second, from the growth of its queue
// counter between samples (shared by every replica, so the rate is the
// whole deployment's).
type arrivalRate struct {
	mu    sync.Mutex
	at    time.Time
	queue int64
	rate  float64
}

// arrivalRate returns the room's arrival rate when its difficulty ramps
// (0 otherwise, or while its counters cannot be read).
func (g *Gate) arrivalRate(ctx context.Context, room waitroom.Room) float64 {
	if room.BotGate.RampEvery <= 0 || g.counters == nil {
		return 0
	}
	g.mu.Lock()
	ar := g.rates[room.ID]
	if ar == nil {
		ar = &arrivalRate{}
		g.rates[room.ID] = ar
	}
	g.mu.Unlock()
	ar.mu.Lock()
	defer ar.mu.Unlock()
	now := g.clock()
	if !ar.at.IsZero() && now.Sub(ar.at) < rateSampleEvery {
		return ar.rate
	}
	c, err := g.counters(ctx, room.ID)
	if err != nil {
		return ar.rate
	}
	if !ar.at.IsZero() && c.Queue >= ar.queue {
		ar.rate = float64(c.Queue-ar.queue) / now.Sub(ar.at).Seconds()
	}
	ar.at, ar.queue = now, c.Queue
	return ar.rate
}
