package admission

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"math/bits"
	"strconv"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// A challenge is the proof-of-work puzzle the bot gate hands out: its
// token is base64url (no padding) of
//
//	version (1) | difficulty (1) | issued at, unix seconds (8) | nonce (16) | MAC (16)
//
// where MAC is HMAC-SHA256, under a key derived from the deployment
// secret, of "pow1", the room id, a zero byte and the first 26 bytes,
// truncated to 128 bits. The room is bound by the MAC, not carried.
//
// A solution is a counter, in decimal without leading zeros, such that
// SHA-256(token ":" counter) starts with difficulty zero bits. Checking one
// costs one HMAC and one SHA-256 over under 100 bytes: microseconds.
const (
	challengeVersion = 1
	challengeBody    = 1 + 1 + 8 + 16
	challengeMACLen  = 16
	challengeLen     = challengeBody + challengeMACLen
	// ChallengeTokenLen is the length of a token on the wire.
	ChallengeTokenLen = (challengeLen*8 + 5) / 6
	// maxSolutionLen fits any uint64 in decimal.
	maxSolutionLen = 20
)

// Challenge is one decoded, authenticated challenge.
type Challenge struct {
	Difficulty int
	IssuedAt   time.Time
	Nonce      [16]byte
}

// challengeMAC authenticates a challenge body for a room.
func challengeMAC(key []byte, room string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("pow1"))
	m.Write([]byte(room))
	m.Write([]byte{0})
	m.Write(body)
	return m.Sum(nil)[:challengeMACLen]
}

// encodeChallenge signs c for room and returns its token.
func encodeChallenge(key []byte, room string, c Challenge) string {
	buf := make([]byte, challengeLen)
	buf[0] = challengeVersion
	buf[1] = byte(c.Difficulty)
	binary.BigEndian.PutUint64(buf[2:10], uint64(c.IssuedAt.Unix()))
	copy(buf[10:challengeBody], c.Nonce[:])
	copy(buf[challengeBody:], challengeMAC(key, room, buf[:challengeBody]))
	return base64.RawURLEncoding.EncodeToString(buf)
}

// decodeChallenge checks the token's form and MAC for room. It says
// nothing about freshness or the solution.
func decodeChallenge(key []byte, room, token string) (Challenge, error) {
	if len(token) != ChallengeTokenLen {
		return Challenge{}, invalidChallenge("malformed challenge")
	}
	buf, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(buf) != challengeLen || buf[0] != challengeVersion {
		return Challenge{}, invalidChallenge("malformed challenge")
	}
	if !hmac.Equal(buf[challengeBody:], challengeMAC(key, room, buf[:challengeBody])) {
		return Challenge{}, invalidChallenge("the challenge was not issued for this room")
	}
	issued := binary.BigEndian.Uint64(buf[2:10])
	if issued > 1<<40 {
		return Challenge{}, invalidChallenge("malformed challenge")
	}
	c := Challenge{Difficulty: int(buf[1]), IssuedAt: time.Unix(int64(issued), 0)}
	copy(c.Nonce[:], buf[10:challengeBody])
	return c, nil
}

// ParseSolution reads a solution counter: 1 to 20 decimal digits without
// leading zeros (so that one counter has one spelling), within uint64.
func ParseSolution(s string) (uint64, error) {
	if s == "" || len(s) > maxSolutionLen || (len(s) > 1 && s[0] == '0') {
		return 0, invalidChallenge("the solution must be a decimal counter")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, invalidChallenge("the solution must be a decimal counter")
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, invalidChallenge("the solution must be a decimal counter")
	}
	return n, nil
}

// SolutionBits is the number of leading zero bits of SHA-256(token ":"
// counter).
func SolutionBits(token string, counter uint64) int {
	var buf [ChallengeTokenLen + 1 + maxSolutionLen]byte
	b := append(buf[:0], token...)
	b = append(b, ':')
	b = strconv.AppendUint(b, counter, 10)
	sum := sha256.Sum256(b)
	n := 0
	for i := 0; i < len(sum); i += 8 {
		w := binary.BigEndian.Uint64(sum[i : i+8])
		n += bits.LeadingZeros64(w)
		if w != 0 {
			break
		}
	}
	return n
}

// Solve finds the smallest counter that meets difficulty (what a client
// does; the server only ever checks).
func Solve(token string, difficulty int) uint64 {
	var n uint64
	for SolutionBits(token, n) < difficulty {
		n++
	}
	return n
}

func invalidChallenge(msg string) error {
	return waitroom.Errorf(waitroom.CodeChallengeInvalid, "%s", msg)
}
