package waitroom

import (
	"testing"

	"github.com/google/uuid"
)

// TestTicketCacheBounded: however many tickets are put, the cache holds at
// most ticketCacheSize and keeps the newest; an entry in the previous map is
// still found.
func TestTicketCacheBounded(t *testing.T) {
	var c ticketCache
	keys := make([]ticketKey, 3*ticketCacheSize)
	for i := range keys {
		keys[i] = ticketKey{room: "r", id: uuid.New()}
		c.put(keys[i], ticketEntry{position: int64(i)})
		if i == ticketCacheSize { // in the previous map by now: a hit moves it back
			if e, ok := c.get(keys[ticketCacheSize/2+1]); !ok || e.position != ticketCacheSize/2+1 {
				t.Fatalf("entry %d lost before its time", ticketCacheSize/2+1)
			}
		}
	}
	if n := len(c.cur) + len(c.old); n > ticketCacheSize {
		t.Fatalf("cache holds %d entries, bound %d", n, ticketCacheSize)
	}
	if e, ok := c.get(keys[len(keys)-1]); !ok || e.position != int64(len(keys)-1) {
		t.Fatal("the newest entry is missing")
	}
	if _, ok := c.get(keys[0]); ok {
		t.Fatal("the oldest entry is still there")
	}
}
