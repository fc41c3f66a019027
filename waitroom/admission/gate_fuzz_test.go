package admission

import (
	"strconv"
	"testing"
	"time"
)

// FuzzChallengeAnswer feeds arbitrary challenge tokens and solutions to the
// parsers: they never panic, accept only canonical counters, and accept a
// token only when it is exactly what the key signed for the room.
func FuzzChallengeAnswer(f *testing.F) {
	good := encodeChallenge(gateKey, "room", Challenge{Difficulty: 4, IssuedAt: time.Unix(1772366400, 0)})
	f.Add(good, strconv.FormatUint(Solve(good, 4), 10))
	f.Add("", "")
	f.Add(good[:len(good)-1]+"A", "007")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "18446744073709551616")
	f.Fuzz(func(t *testing.T, token, solution string) {
		if n, err := ParseSolution(solution); err == nil && strconv.FormatUint(n, 10) != solution {
			t.Fatalf("ParseSolution(%q) = %d: not its canonical spelling", solution, n)
		}
		c, err := decodeChallenge(gateKey, "room", token)
		if err != nil {
			return
		}
		if again := encodeChallenge(gateKey, "room", c); again != token {
			t.Fatalf("accepted token %q re-encodes as %q", token, again)
		}
		_ = SolutionBits(token, 0)
	})
}

// FuzzCaptchaAnswer feeds arbitrary tokens and provider answers to the
// CAPTCHA parsers: no panic, and a verdict only from a boolean success.
func FuzzCaptchaAnswer(f *testing.F) {
	f.Add("XXXX.DUMMY.TOKEN.XXXX", []byte(`{"success":true,"challenge_ts":"2026-03-01T12:00:00Z","hostname":"example.com","error-codes":[]}`))
	f.Add("", []byte(`{"success":false,"error-codes":["invalid-input-response"]}`))
	f.Add("a b", []byte(`{"success":"true"}`))
	f.Add("\x00", []byte(`null`))
	f.Fuzz(func(t *testing.T, token string, answer []byte) {
		if CheckCaptchaToken(token) == nil && (token == "" || len(token) > maxCaptchaToken) {
			t.Fatalf("token of %d bytes accepted", len(token))
		}
		passed, err := ParseCaptchaVerdict(answer)
		if err != nil && passed {
			t.Fatal("a verdict with an error passed")
		}
	})
}
