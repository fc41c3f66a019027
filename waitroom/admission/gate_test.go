package admission

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/backendtest"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

var gateKey = []byte("0123456789abcdef0123456789abcdef")

func gatedRoom(id string, bg waitroom.BotGate) waitroom.Room {
	r := waitroom.NewRoom(id, "Gated")
	r.BotGate = &bg
	return r
}

// solved asks g for an offer and solves it.
func solved(t *testing.T, g *Gate, room waitroom.Room) Answer {
	t.Helper()
	o, err := g.Offer(context.Background(), room)
	if err != nil {
		t.Fatal(err)
	}
	if o.Token == "" || o.Algorithm != ChallengeAlgorithm {
		t.Fatalf("offer %+v has no proof of work", o)
	}
	return Answer{Challenge: o.Token, Solution: strconv.FormatUint(Solve(o.Token, o.Difficulty), 10)}
}

func wantGateCode(t *testing.T, err error, code waitroom.Code) {
	t.Helper()
	if got := waitroom.ErrorCode(err); got != code {
		t.Fatalf("Check = %v (code %s), want %s", err, got, code)
	}
}

// TestGateProofOfWork runs on both backends: a solved challenge passes
// once, on any replica; everything else is refused with a fresh offer.
func TestGateProofOfWork(t *testing.T) {
	for _, f := range backendtest.All() {
		t.Run(f.Name, func(t *testing.T) {
			clock := testenv.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
			inst := f.Open(t, clock.Now)
			ctx := context.Background()
			g := NewGate(GateOptions{Key: gateKey, Ephemeral: inst.Ephemeral, Clock: clock.Now})
			room := gatedRoom("pow", waitroom.BotGate{Difficulty: 8})

			a := solved(t, g, room)
			if err := g.Check(ctx, room, a); err != nil {
				t.Fatalf("a solved challenge was refused: %v", err)
			}
			other := g
			if inst.Another != nil {
				other = NewGate(GateOptions{Key: gateKey, Ephemeral: inst.Another(t).Ephemeral, Clock: clock.Now})
			}
			err := other.Check(ctx, room, a)
			wantGateCode(t, err, waitroom.CodeChallengeReplayed)
			var ge *GateError
			if !errors.As(err, &ge) || ge.Offer.Token == "" || ge.Offer.Token == a.Challenge {
				t.Fatalf("a refusal carries no fresh offer: %#v", err)
			}

			wantGateCode(t, g.Check(ctx, room, Answer{}), waitroom.CodeChallengeRequired)
			b := solved(t, g, room)
			wantGateCode(t, g.Check(ctx, gatedRoom("elsewhere", *room.BotGate), b), waitroom.CodeChallengeInvalid)
			wrong := b
			for wrong.Solution = "0"; ; wrong.Solution = strconv.Itoa(atoiOrZero(wrong.Solution) + 1) {
				n, _ := ParseSolution(wrong.Solution)
				if SolutionBits(b.Challenge, n) < 8 {
					break
				}
			}
			wantGateCode(t, g.Check(ctx, room, wrong), waitroom.CodeChallengeInvalid)
			clock.Advance(DefaultChallengeLifetime)
			wantGateCode(t, g.Check(ctx, room, b), waitroom.CodeChallengeInvalid)
		})
	}
}

func atoiOrZero(s string) int { n, _ := strconv.Atoi(s); return n }

// TestGateConcurrentUse: of many concurrent uses of one solution, exactly
// one passes.
func TestGateConcurrentUse(t *testing.T) {
	for _, f := range backendtest.All() {
		t.Run(f.Name, func(t *testing.T) {
			inst := f.Open(t, nil)
			g := NewGate(GateOptions{Key: gateKey, Ephemeral: inst.Ephemeral})
			room := gatedRoom("pow", waitroom.BotGate{Difficulty: 4})
			a := solved(t, g, room)
			var passed atomic.Int64
			var wg sync.WaitGroup
			for range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if g.Check(context.Background(), room, a) == nil {
						passed.Add(1)
					}
				}()
			}
			wg.Wait()
			if passed.Load() != 1 {
				t.Fatalf("%d concurrent uses of one solution passed, want 1", passed.Load())
			}
		})
	}
}

func TestGateRefusesForgedDifficulty(t *testing.T) {
	inst := backendtest.Embedded(t, nil)
	g := NewGate(GateOptions{Key: gateKey, Ephemeral: inst.Ephemeral})
	room := gatedRoom("pow", waitroom.BotGate{Difficulty: 12})
	easy := NewGate(GateOptions{Key: []byte("another key, another deployment"), Ephemeral: inst.Ephemeral})
	a := solved(t, easy, gatedRoom("pow", waitroom.BotGate{Difficulty: 1}))
	wantGateCode(t, g.Check(context.Background(), room, a), waitroom.CodeChallengeInvalid)
	// Signed with the right key but easier than the room asks now (the
	// room's difficulty was raised after the offer).
	a = solved(t, g, gatedRoom("pow", waitroom.BotGate{Difficulty: 2}))
	wantGateCode(t, g.Check(context.Background(), room, a), waitroom.CodeChallengeInvalid)
}

func TestGateOffRoomsPassEveryone(t *testing.T) {
	g := NewGate(GateOptions{Key: gateKey})
	for _, r := range []waitroom.Room{waitroom.NewRoom("open", ""), gatedRoom("capped", waitroom.BotGate{MaxPlacesPerVisitor: 2})} {
		if err := g.Check(context.Background(), r, Answer{}); err != nil {
			t.Fatalf("room %s without a challenge refused: %v", r.ID, err)
		}
		if o, _ := g.Offer(context.Background(), r); o != (Offer{}) {
			t.Fatalf("room %s offers %+v", r.ID, o)
		}
	}
}

// TestGateDifficultyRamps: the offered difficulty follows the room's
// arrival rate, measured from its queue counter, up to the cap.
func TestGateDifficultyRamps(t *testing.T) {
	clock := testenv.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	var queue atomic.Int64
	g := NewGate(GateOptions{Key: gateKey, Clock: clock.Now, Counters: func(context.Context, string) (waitroom.Counters, error) {
		return waitroom.Counters{Queue: queue.Load()}, nil
	}})
	room := gatedRoom("ramp", waitroom.BotGate{Difficulty: 10, RampAbove: 100, RampEvery: 50, MaxDifficulty: 13})
	offer := func() int {
		o, err := g.Offer(context.Background(), room)
		if err != nil {
			t.Fatal(err)
		}
		return o.Difficulty
	}
	for _, step := range []struct {
		arrivals int64
		want     int
	}{{0, 10}, {100, 10}, {160, 11}, {249, 12}, {250, 13}, {10000, 13}, {0, 10}} {
		queue.Add(step.arrivals)
		clock.Advance(time.Second)
		if got := offer(); got != step.want {
			t.Fatalf("at %d arrivals/s the difficulty is %d, want %d", step.arrivals, got, step.want)
		}
	}
}

func TestGatePlacesPerVisitor(t *testing.T) {
	for _, f := range backendtest.All() {
		t.Run(f.Name, func(t *testing.T) {
			inst := f.Open(t, nil)
			g := NewGate(GateOptions{Key: gateKey, Ephemeral: inst.Ephemeral})
			room := gatedRoom("capped", waitroom.BotGate{MaxPlacesPerVisitor: 2})
			ctx := context.Background()
			for range 2 {
				if err := g.CountPlace(ctx, room, "visitor-a"); err != nil {
					t.Fatal(err)
				}
			}
			wantGateCode(t, g.CountPlace(ctx, room, "visitor-a"), waitroom.CodeTooManyPlaces)
			if err := g.CountPlace(ctx, room, "visitor-b"); err != nil {
				t.Fatalf("another visitor was refused: %v", err)
			}
		})
	}
}

// captchaProvider stands in for a provider's siteverify endpoint.
func captchaProvider(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(answer))
	t.Cleanup(srv.Close)
	return srv
}

func TestGateCaptcha(t *testing.T) {
	var got atomic.Value
	srv := captchaProvider(t, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got.Store(r.PostForm.Encode())
		ok := r.PostForm.Get("secret") == "s3cret" && r.PostForm.Get("response") == "good-token"
		_, _ = w.Write([]byte(`{"success":` + strconv.FormatBool(ok) + `,"error-codes":[]}`))
	})
	captcha := NewCaptcha(map[string]CaptchaProvider{waitroom.CaptchaTurnstile: {SiteKey: "site", Secret: "s3cret", VerifyURL: srv.URL}}, nil)
	g := NewGate(GateOptions{Key: gateKey, Captcha: captcha})
	room := gatedRoom("human", waitroom.BotGate{Captcha: waitroom.CaptchaTurnstile})
	ctx := context.Background()

	o, err := g.Offer(ctx, room)
	if err != nil || o.Captcha == nil || o.Captcha.SiteKey != "site" || o.Captcha.Field != "cf-turnstile-response" || o.Token != "" {
		t.Fatalf("offer = %+v, %v", o, err)
	}
	if err := g.Check(ctx, room, Answer{Captcha: "good-token", RemoteIP: "192.0.2.7"}); err != nil {
		t.Fatalf("a good token was refused: %v", err)
	}
	if !strings.Contains(got.Load().(string), "remoteip=192.0.2.7") {
		t.Fatalf("the provider was not told the address: %s", got.Load())
	}
	wantGateCode(t, g.Check(ctx, room, Answer{Captcha: "bad-token"}), waitroom.CodeChallengeInvalid)
	wantGateCode(t, g.Check(ctx, room, Answer{}), waitroom.CodeChallengeRequired)
	wantGateCode(t, g.Check(ctx, room, Answer{Captcha: "bad\x00token"}), waitroom.CodeChallengeInvalid)
}

// TestGateCaptchaFailsClosed: a provider that is down, slow, or answers
// nonsense keeps newcomers out with captcha_unavailable; so does a room
// naming a provider the server has no keys for.
func TestGateCaptchaFailsClosed(t *testing.T) {
	ctx := context.Background()
	room := gatedRoom("human", waitroom.BotGate{Captcha: waitroom.CaptchaHCaptcha})
	answers := map[string]func(w http.ResponseWriter, r *http.Request){
		"error status": func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) },
		"not json":     func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>")) },
		"no verdict":   func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"hostname":"x"}`)) },
		"too slow":     func(w http.ResponseWriter, r *http.Request) { time.Sleep(300 * time.Millisecond) },
	}
	for name, answer := range answers {
		t.Run(name, func(t *testing.T) {
			srv := captchaProvider(t, answer)
			captcha := NewCaptcha(map[string]CaptchaProvider{waitroom.CaptchaHCaptcha: {SiteKey: "k", Secret: "s", VerifyURL: srv.URL}},
				&http.Client{Timeout: 100 * time.Millisecond})
			g := NewGate(GateOptions{Key: gateKey, Captcha: captcha})
			wantGateCode(t, g.Check(ctx, room, Answer{Captcha: "token"}), waitroom.CodeCaptchaUnavailable)
		})
	}
	g := NewGate(GateOptions{Key: gateKey})
	wantGateCode(t, g.Check(ctx, room, Answer{Captcha: "token"}), waitroom.CodeCaptchaUnavailable)
}

func TestBotGateValidation(t *testing.T) {
	for _, tc := range []struct {
		gate waitroom.BotGate
		want string
	}{
		{waitroom.BotGate{Difficulty: 27}, "bot_gate.difficulty"},
		{waitroom.BotGate{Difficulty: -1}, "bot_gate.difficulty"},
		{waitroom.BotGate{Difficulty: 10, RampEvery: 5, MaxDifficulty: 9}, "bot_gate.max_difficulty"},
		{waitroom.BotGate{RampEvery: 5, MaxDifficulty: 9}, "bot_gate.ramp_every"},
		{waitroom.BotGate{Difficulty: 10, MaxDifficulty: 12}, "only apply with ramp_every"},
		{waitroom.BotGate{Captcha: "recapcha"}, "bot_gate.captcha"},
		{waitroom.BotGate{MaxPlacesPerVisitor: -1}, "bot_gate.max_places_per_visitor"},
	} {
		err := gatedRoom("r", tc.gate).Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: Validate = %v, want a problem with %s", tc.gate, err, tc.want)
		}
	}
	if err := gatedRoom("r", waitroom.BotGate{Difficulty: 16, RampAbove: 50, RampEvery: 25, MaxDifficulty: 20, Captcha: "turnstile", MaxPlacesPerVisitor: 3}).Validate(); err != nil {
		t.Fatalf("a valid gate was refused: %v", err)
	}
}

func BenchmarkVerifyChallenge(b *testing.B) {
	inst := backendtest.Embedded(b, nil)
	g := NewGate(GateOptions{Key: gateKey, Ephemeral: inst.Ephemeral})
	room := gatedRoom("bench", waitroom.BotGate{Difficulty: 1})
	answers := make([]Answer, b.N)
	for i := range answers {
		o, _ := g.Offer(context.Background(), room)
		answers[i] = Answer{Challenge: o.Token, Solution: strconv.FormatUint(Solve(o.Token, o.Difficulty), 10)}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := g.Check(context.Background(), room, answers[i]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyChallengeWork is the proof-of-work check alone (HMAC and
// SHA-256, no store): the CPU a request costs the server.
func BenchmarkVerifyChallengeWork(b *testing.B) {
	room := "bench"
	token := encodeChallenge(gateKey, room, Challenge{Difficulty: 8, IssuedAt: time.Now()})
	counter := Solve(token, 8)
	b.ReportAllocs()
	for range b.N {
		if _, err := decodeChallenge(gateKey, room, token); err != nil {
			b.Fatal(err)
		}
		if SolutionBits(token, counter) < 8 {
			b.Fatal("not solved")
		}
	}
}
