package waitroom

import (
	"strings"
	"testing"
)

// FuzzRequestID: any accepted id comes back canonical, and accepting it
// again gives the same id.
func FuzzRequestID(f *testing.F) {
	for _, seed := range []string{"", "6f1c1a8e-3f3c-4a5e-9d55-2d1f0f4b7a10", "6F1C1A8E-3F3C-4A5E-9D55-2D1F0F4B7A10", "{6f1c1a8e-3f3c-4a5e-9d55-2d1f0f4b7a10}", "x"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		id, err := requestID(in)
		if err != nil {
			if ErrorCode(err) != CodeInvalid {
				t.Fatalf("rejection with code %s", ErrorCode(err))
			}
			return
		}
		if len(id) != 36 || id != strings.ToLower(id) || !strings.EqualFold(id, in) {
			t.Fatalf("requestID(%q) = %q", in, id)
		}
		if again, err := requestID(id); err != nil || again != id {
			t.Fatalf("canonical id %q not stable: %q %v", id, again, err)
		}
	})
}
