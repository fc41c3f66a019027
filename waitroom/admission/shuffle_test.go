package admission

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestCommitmentIsSHA256OfSeed(t *testing.T) {
	seed := NewSeed()
	sum := sha256.Sum256(seed[:])
	if Commitment(seed) != hex.EncodeToString(sum[:]) {
		t.Fatal("commitment is not hex(sha256(seed))")
	}
	if NewSeed() == seed {
		t.Fatal("two seeds drawn equal")
	}
}

func TestShuffleIsADeterministicPermutation(t *testing.T) {
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = fmt.Sprintf("id-%04d", (i*7919)%1000)
	}
	seed := NewSeed()
	a := Shuffle(ids, seed)
	rev := slices.Clone(ids)
	slices.Reverse(rev)
	if !slices.Equal(a, Shuffle(rev, seed)) {
		t.Fatal("order depends on the input order, not only on the id set and seed")
	}
	sorted := slices.Sorted(slices.Values(a))
	want := slices.Sorted(slices.Values(ids))
	if !slices.Equal(sorted, want) {
		t.Fatal("shuffle is not a permutation")
	}
	if slices.Equal(a, want) {
		t.Fatal("shuffle left 1000 ids sorted")
	}
}

// TestShuffleUnbiased: over many seeds, each of the 5! orders of five ids
// is equally likely (chi-square on 120 cells), and each id is equally
// likely at each of ten positions. Seeds are derived deterministically, so
// the test is exact, not flaky.
func TestShuffleUnbiased(t *testing.T) {
	ids := []string{"a", "b", "c", "d", "e"}
	const trials = 60000
	counts := map[string]int{}
	for i := 0; i < trials; i++ {
		counts[strings.Join(Shuffle(ids, testSeed(i)), "")]++
	}
	if len(counts) != 120 {
		t.Fatalf("saw %d of the 120 orders", len(counts))
	}
	// df = 119: the 0.999 quantile is about 173.
	if chi := chiSquare(counts, trials/120.0); chi > 173 {
		t.Fatalf("orders biased: chi-square %.1f > 173 (df 119, p 0.001)", chi)
	}

	ten := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	var cells [10][10]int
	for i := 0; i < 20000; i++ {
		for pos, id := range Shuffle(ten, testSeed(trials+i)) {
			cells[id[0]-'0'][pos]++
		}
	}
	for id := range cells {
		row := map[string]int{}
		for pos, n := range cells[id] {
			row[fmt.Sprint(pos)] = n
		}
		// df = 9: the 0.999 quantile is 27.9.
		if chi := chiSquare(row, 2000); chi > 27.9 {
			t.Fatalf("id %d: positions biased, chi-square %.1f", id, chi)
		}
	}
}

func testSeed(i int) [SeedSize]byte { return sha256.Sum256([]byte(fmt.Sprintf("seed-%d", i))) }

func chiSquare(counts map[string]int, expected float64) float64 {
	var chi float64
	for _, n := range counts {
		d := float64(n) - expected
		chi += d * d / expected
	}
	return chi
}
