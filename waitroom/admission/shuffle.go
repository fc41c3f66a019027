package admission

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	mrand "math/rand/v2"
	"slices"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// SeedSize is the size of a pre-queue shuffle seed in bytes.
const SeedSize = waitroom.PrequeueSeedSize

// NewSeed draws a shuffle seed from the operating system's cryptographic
// random source.
func NewSeed() [SeedSize]byte {
	var s [SeedSize]byte
	rand.Read(s[:]) // never fails (crypto/rand panics rather than return short)
	return s
}

// Commitment is the published hash of a seed: hex(SHA-256(seed)). It is
// published when the pre-queue opens, before anyone can know the entries,
// and checked against the seed revealed after opening.
func Commitment(seed [SeedSize]byte) string {
	sum := sha256.Sum256(seed[:])
	return hex.EncodeToString(sum[:])
}

// Shuffle returns the pre-queue order of ids under seed: the ids sorted in
// byte order, then a Fisher–Yates shuffle driven by ChaCha8 (the
// chacha8rand generator of C2SP, Go's math/rand/v2.ChaCha8) keyed with the
// seed, each index drawn uniformly by rejection sampling. Anyone holding
// the published id list and the revealed seed recomputes the same order.
func Shuffle(ids []string, seed [SeedSize]byte) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	src := mrand.NewChaCha8(seed)
	for i := len(out) - 1; i > 0; i-- {
		j := uniform(src, uint64(i+1))
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// uniform returns a uniformly random value in [0, n): values of the 64-bit
// stream below 2^64 mod n are rejected so that every residue is equally
// likely.
func uniform(src *mrand.ChaCha8, n uint64) uint64 {
	threshold := -n % n
	for {
		if x := src.Uint64(); x >= threshold {
			return x % n
		}
	}
}
