package waitroom

import "fmt"

// Captcha providers a room may require (BotGate.Captcha).
const (
	CaptchaTurnstile = "turnstile"
	CaptchaHCaptcha  = "hcaptcha"
	CaptchaReCaptcha = "recaptcha"
)

// Bounds of the proof-of-work difficulty, in leading zero bits of a
// SHA-256. 26 bits is tens of millions of hashes: minutes on a phone, the
// most any room should ask.
const (
	MinDifficulty = 1
	MaxDifficulty = 26
)

// BotGate is what a room asks of a newcomer before it takes a place in
// line (admission.Gate checks it). Zero values are off: a room without a
// bot gate takes anyone the rate limits let through.
type BotGate struct {
	// Difficulty turns the proof-of-work gate on: a solution's SHA-256 must
	// start with this many zero bits (each bit doubles the work).
	Difficulty int `json:"difficulty,omitempty"`
	// RampAbove and RampEvery raise the difficulty with the arrival rate:
	// one bit more for every RampEvery arrivals a second above RampAbove,
	// up to MaxDifficulty. RampEvery 0 keeps the difficulty fixed.
	RampAbove     int64 `json:"ramp_above,omitempty"`
	RampEvery     int64 `json:"ramp_every,omitempty"`
	MaxDifficulty int   `json:"max_difficulty,omitempty"`
	// Captcha names the provider whose token a newcomer must present
	// (turnstile, hcaptcha or recaptcha; its keys are in the server's
	// configuration). Empty: no CAPTCHA.
	Captcha string `json:"captcha,omitempty"`
	// MaxPlacesPerVisitor caps the places one browser (its visitor cookie)
	// takes in the room within a day; 0 is no cap.
	MaxPlacesPerVisitor int64 `json:"max_places_per_visitor,omitempty"`
}

// Challenged reports whether a newcomer must present anything (a proof of
// work or a CAPTCHA token).
func (g *BotGate) Challenged() bool {
	return g != nil && (g.Difficulty > 0 || g.Captcha != "")
}

// DifficultyAt is the difficulty at an arrival rate (arrivals a second).
func (g BotGate) DifficultyAt(rate float64) int {
	if g.Difficulty <= 0 || g.RampEvery <= 0 || rate <= float64(g.RampAbove) {
		return g.Difficulty
	}
	extra := int((rate - float64(g.RampAbove)) / float64(g.RampEvery))
	return min(g.Difficulty+extra, g.MaxDifficulty)
}

func (g BotGate) problems() []string {
	var out []string
	if g.Difficulty != 0 && (g.Difficulty < MinDifficulty || g.Difficulty > MaxDifficulty) {
		out = append(out, fmt.Sprintf("bot_gate.difficulty: 0 (off) or between %d and %d bits", MinDifficulty, MaxDifficulty))
	}
	if g.RampAbove < 0 || g.RampAbove > maxCount {
		out = append(out, "bot_gate.ramp_above: an arrival rate (per second) of 0 or more")
	}
	if g.RampEvery < 0 || g.RampEvery > maxCount {
		out = append(out, "bot_gate.ramp_every: 0 (fixed difficulty) or a positive arrival rate (per second)")
	}
	if g.RampEvery > 0 {
		if g.Difficulty == 0 {
			out = append(out, "bot_gate.ramp_every: needs bot_gate.difficulty")
		}
		if g.MaxDifficulty < g.Difficulty || g.MaxDifficulty > MaxDifficulty {
			out = append(out, fmt.Sprintf("bot_gate.max_difficulty: between bot_gate.difficulty and %d when the difficulty ramps", MaxDifficulty))
		}
	} else if g.MaxDifficulty != 0 || g.RampAbove != 0 {
		out = append(out, "bot_gate: ramp_above and max_difficulty only apply with ramp_every")
	}
	switch g.Captcha {
	case "", CaptchaTurnstile, CaptchaHCaptcha, CaptchaReCaptcha:
	default:
		out = append(out, fmt.Sprintf("bot_gate.captcha: unknown provider %q (want turnstile, hcaptcha or recaptcha)", g.Captcha))
	}
	if g.MaxPlacesPerVisitor < 0 || g.MaxPlacesPerVisitor > maxCount {
		out = append(out, "bot_gate.max_places_per_visitor: 0 (no cap) or a positive count")
	}
	return out
}
