package httpapi

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// Filling a room with synthetic arrivals, for rehearsals and load tests:
// POST /v1/rooms/{id}/fill {"count": n} adds n tickets at the end of the
// line, exactly as n calls of /assign_queue_num would (durable before the
// answer), without an HTTP request and JSON per ticket.

// maxFill bounds one call; a bigger fill is several calls (the load
// generator runs them concurrently).
const maxFill = 100_000

// fillWorkers enqueue concurrently, so that the backend's group commit
// writes many tickets per transaction.
const fillWorkers = 64

// fillSample is how many of the new ticket ids the answer lists: enough
// for a load generator to poll a spread of positions.
const fillSample = 100

type fillAnswer struct {
	EventID string   `json:"event_id"`
	Added   int64    `json:"added"`
	Queue   int64    `json:"queue"`
	Sample  []string `json:"sample"`
}

func (a *API) fillRoom(w http.ResponseWriter, r *http.Request) error {
	id, err := pathRoom(r)
	if err != nil {
		return err
	}
	var in struct {
		Count *int64 `json:"count"`
	}
	if err := web.DecodeJSON(r, &in, true); err != nil {
		return err
	}
	n, err := requiredInt("count", in.Count)
	if err != nil {
		return err
	}
	if n < 1 || n > maxFill {
		return web.Invalid("count: from 1 to 100000 per call")
	}
	// An error may come after some tickets were added: they stay in line
	// (synthetic arrivals are as durable as real ones); the room's counters
	// tell how many.
	added, sample, err := a.fill(r, id, n)
	if err != nil {
		return err
	}
	c, err := a.svc.Counters(r.Context(), id)
	if err != nil {
		return err
	}
	a.audit(r, id, "room.fill", "", nil, map[string]int64{"added": added, "queue": c.Queue})
	web.JSON(w, http.StatusOK, web.NoStore, fillAnswer{EventID: id, Added: added, Queue: c.Queue, Sample: sample})
	return nil
}

// fill enqueues n tickets and keeps a uniform sample of their ids
// (reservoir sampling); it stops at the first error.
func (a *API) fill(r *http.Request, room string, n int64) (int64, []string, error) {
	var (
		next, added atomic.Int64
		mu          sync.Mutex
		sample      = make([]string, 0, fillSample)
		firstErr    error
		wg          sync.WaitGroup
	)
	for range min(fillWorkers, n) {
		wg.Go(func() {
			for next.Add(1) <= n {
				t, err := a.svc.Enqueue(r.Context(), room, "")
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					next.Store(n) // the others stop too
					return
				}
				seen := added.Add(1)
				mu.Lock()
				if len(sample) < fillSample {
					sample = append(sample, t.ID)
				} else if j := rand.Int64N(seen); j < fillSample {
					sample[j] = t.ID
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return added.Load(), sample, firstErr
}
