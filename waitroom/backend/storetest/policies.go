package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/waitroom-idp/waitroom/waitroom"
)

func outboxTests() []testCase {
	return []testCase{
		{"OutboxStreamsInOrder", true, testOutboxStreams},
		{"OutboxGiveUpAndList", true, testOutboxList},
	}
}

func prequeueTests() []testCase {
	return []testCase{
		{"PrequeueJoinAndDraw", true, testPrequeue},
		{"PrequeueConcurrentJoinsOneKey", true, testPrequeueConcurrentKey},
	}
}

func leaseTests() []testCase {
	return []testCase{
		{"LeaseExclusiveAndFenced", true, testLease},
	}
}

func delivery(room, url, typ string) waitroom.Delivery {
	return waitroom.Delivery{Room: room, URL: url, EventID: uuid.NewString(), Type: typ, Body: []byte(`{"type":"` + typ + `"}`), CreatedAt: t0}
}

// testOutboxStreams: each (room, URL) stream yields its oldest pending
// delivery; a delivery waiting for a retry holds its stream back, not the
// others; delivered ones are gone.
func testOutboxStreams(t *testing.T, b Backend) {
	ctx, box := context.Background(), b.Open(t).Outbox
	room := fmt.Sprintf("hooks-%d", roomSeq.Add(1))
	noErr(t, box.Add(ctx, []waitroom.Delivery{
		delivery(room, "https://a.test", "one"), delivery(room, "https://a.test", "two"), delivery(room, "https://b.test", "three"),
	}))
	due, err := box.Due(ctx, t0, 10)
	noErr(t, err)
	if len(due) != 2 || due[0].Type != "one" || due[1].Type != "three" || due[0].Seq >= due[1].Seq ||
		due[0].State != waitroom.DeliveryPending || string(due[0].Body) != `{"type":"one"}` {
		t.Fatalf("due %+v, want the heads of both streams (one, three)", due)
	}
	noErr(t, box.Retry(ctx, due[0].Seq, 1, t0.Add(time.Minute), "503"))
	noErr(t, box.Done(ctx, due[1].Seq))
	if due, err = box.Due(ctx, t0, 10); err != nil || len(due) != 0 {
		t.Fatalf("due while a.test waits for its retry: %+v %v, want nothing (two stays behind one)", due, err)
	}
	due, err = box.Due(ctx, t0.Add(time.Minute), 10)
	noErr(t, err)
	if len(due) != 1 || due[0].Type != "one" || due[0].Attempts != 1 || due[0].LastError != "503" {
		t.Fatalf("due after the retry time: %+v", due)
	}
	noErr(t, box.Done(ctx, due[0].Seq))
	due, err = box.Due(ctx, t0.Add(time.Minute), 10)
	noErr(t, err)
	if len(due) != 1 || due[0].Type != "two" {
		t.Fatalf("due after one was delivered: %+v, want two", due)
	}
	if due, _ := box.Due(ctx, t0.Add(time.Minute), 0); len(due) != 0 {
		t.Fatalf("limit 0 returned %d", len(due))
	}
}

// testOutboxList: a given-up delivery stays visible; List filters by state,
// newest first, and survives another replica's reading.
func testOutboxList(t *testing.T, b Backend) {
	inst := b.Open(t)
	ctx, box := context.Background(), inst.Outbox
	room := fmt.Sprintf("hooks-%d", roomSeq.Add(1))
	noErr(t, box.Add(ctx, []waitroom.Delivery{delivery(room, "https://a.test", "one"), delivery(room, "https://b.test", "two")}))
	noErr(t, box.Add(ctx, []waitroom.Delivery{delivery("elsewhere", "https://a.test", "other")}))
	due, err := box.Due(ctx, t0, 10)
	noErr(t, err)
	var one waitroom.Delivery
	for _, d := range due {
		if d.Type == "one" {
			one = d
		}
	}
	noErr(t, box.Fail(ctx, one.Seq, 8, "gave up: 500"))
	if inst.Another != nil {
		box = inst.Another(t).Outbox
	}
	all, err := box.List(ctx, room, "", 10)
	noErr(t, err)
	if len(all) != 2 || all[0].Type != "two" || all[1].Type != "one" {
		t.Fatalf("List = %+v, want two then one (newest first), nothing of another room", all)
	}
	failed, err := box.List(ctx, room, waitroom.DeliveryFailed, 10)
	noErr(t, err)
	if len(failed) != 1 || failed[0].Attempts != 8 || failed[0].LastError != "gave up: 500" || failed[0].State != waitroom.DeliveryFailed {
		t.Fatalf("failed deliveries %+v", failed)
	}
	if due, _ := box.Due(ctx, t0.Add(time.Hour), 10); len(due) != 2 {
		t.Fatalf("a given-up delivery must not block or reappear: due %+v", due)
	}
}

func testPrequeue(t *testing.T, b Backend) {
	ctx, pq := context.Background(), b.Open(t).Prequeue
	room := fmt.Sprintf("pre-%d", roomSeq.Add(1))
	_, err := pq.Draw(ctx, room)
	wantCode(t, err, waitroom.CodeNotFound)
	d := waitroom.PrequeueDraw{CommittedAt: t0}
	d.Seed[0], d.Seed[31] = 7, 9
	got, err := pq.CreateDraw(ctx, room, d)
	noErr(t, err)
	other := waitroom.PrequeueDraw{CommittedAt: t0.Add(time.Hour)}
	again, err := pq.CreateDraw(ctx, room, other)
	noErr(t, err)
	if got.Seed != d.Seed || !got.CommittedAt.Equal(t0) || again.Seed != d.Seed || !again.CommittedAt.Equal(t0) {
		t.Fatalf("draws %+v then %+v, want the first one both times", got, again)
	}
	var ids []string
	for i := range 5 {
		key := ""
		if i == 1 {
			key = "idem-1"
		}
		e, created, err := pq.Join(ctx, room, waitroom.PrequeueEntry{ID: uuid.NewString(), Key: key, JoinedAt: t0.Add(time.Duration(i) * time.Second)})
		noErr(t, err)
		if !created || e.Seq != int64(i+1) {
			t.Fatalf("join %d: %+v created=%v, want seq %d", i, e, created, i+1)
		}
		ids = append(ids, e.ID)
	}
	e, created, err := pq.Join(ctx, room, waitroom.PrequeueEntry{ID: uuid.NewString(), Key: "idem-1", JoinedAt: t0.Add(time.Minute)})
	noErr(t, err)
	if created || e.ID != ids[1] || e.Seq != 2 {
		t.Fatalf("join with a used key: %+v created=%v, want entry 2 again", e, created)
	}
	got1, err := pq.Entry(ctx, room, ids[3])
	noErr(t, err)
	if got1.Seq != 4 || !got1.JoinedAt.Equal(t0.Add(3*time.Second)) {
		t.Fatalf("Entry = %+v", got1)
	}
	_, err = pq.Entry(ctx, room, uuid.NewString())
	wantCode(t, err, waitroom.CodeNotFound)
	page, err := pq.Entries(ctx, room, 2, 2)
	noErr(t, err)
	if len(page) != 2 || page[0].ID != ids[2] || page[1].ID != ids[3] {
		t.Fatalf("Entries(after 2, 2) = %+v", page)
	}
	noErr(t, pq.SaveProgress(ctx, room, 3, false))
	noErr(t, pq.SaveProgress(ctx, room, 2, true)) // progress never goes back
	got, err = pq.Draw(ctx, room)
	noErr(t, err)
	if got.Converted != 3 || !got.Opened {
		t.Fatalf("draw after progress %+v, want converted 3, opened", got)
	}
}

// testPrequeueConcurrentKey: concurrent joins with one idempotency key
// (a retried request racing its original) all get the same entry.
func testPrequeueConcurrentKey(t *testing.T, b Backend) {
	inst := b.Open(t)
	ctx := context.Background()
	stores := []waitroom.PrequeueStore{inst.Prequeue, inst.Prequeue}
	if inst.Another != nil {
		stores[1] = inst.Another(t).Prequeue
	}
	room := fmt.Sprintf("pre-%d", roomSeq.Add(1))
	_, err := stores[0].CreateDraw(ctx, room, waitroom.PrequeueDraw{CommittedAt: t0})
	noErr(t, err)
	const n = 12
	got := make([]waitroom.PrequeueEntry, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			e, _, err := stores[i%2].Join(ctx, room, waitroom.PrequeueEntry{ID: uuid.NewString(), Key: "same", JoinedAt: t0})
			if err != nil {
				t.Error(err)
			}
			got[i] = e
		})
	}
	wg.Wait()
	for _, e := range got {
		if e.ID != got[0].ID || e.Seq != 1 {
			t.Fatalf("joins with one key got entries %+v and %+v", got[0], e)
		}
	}
}

// testLease: one holder at a time; a renewal keeps the fencing token; a
// new holder gets a larger one; a step is claimed once, and never under a
// token that lost the lease.
func testLease(t *testing.T, b Backend) {
	inst := b.Open(t)
	ctx := context.Background()
	name := fmt.Sprintf("lease-%d", roomSeq.Add(1))
	a, other := inst.Lease(name), inst.Lease(name)
	if inst.Another != nil {
		other = inst.Another(t).Lease(name)
	}
	tokA, held, err := a.Acquire(ctx, "a", time.Minute)
	noErr(t, err)
	if !held {
		t.Fatal("a free lease was not acquired")
	}
	if _, held, err := other.Acquire(ctx, "b", time.Minute); err != nil || held {
		t.Fatalf("b acquired a held lease: held=%v err=%v", held, err)
	}
	if tok, held, err := a.Acquire(ctx, "a", time.Minute); err != nil || !held || tok != tokA {
		t.Fatalf("renewal: token %d held %v err %v, want %d", tok, held, err, tokA)
	}
	if ok, err := a.Claim(ctx, tokA, "step-1", time.Minute); err != nil || !ok {
		t.Fatalf("first claim refused: %v %v", ok, err)
	}
	if ok, err := other.Claim(ctx, tokA, "step-1", time.Minute); err != nil || ok {
		t.Fatalf("a step was claimed twice: %v %v", ok, err)
	}
	noErr(t, other.Release(ctx, "b")) // not the holder: no effect
	if _, held, _ := other.Acquire(ctx, "b", time.Minute); held {
		t.Fatal("a release by a non-holder freed the lease")
	}
	if inst.LapseLease != nil {
		inst.LapseLease(t, name)
	} else {
		noErr(t, a.Release(ctx, "a"))
	}
	tokB, held, err := other.Acquire(ctx, "b", time.Minute)
	noErr(t, err)
	if !held || tokB <= tokA {
		t.Fatalf("b after the lease ended: held %v token %d, want a token above %d", held, tokB, tokA)
	}
	if ok, err := a.Claim(ctx, tokA, "step-2", time.Minute); err != nil || ok {
		t.Fatalf("a claim under a lost lease's token was accepted: %v %v", ok, err)
	}
	if ok, err := other.Claim(ctx, tokB, "step-2", time.Minute); err != nil || !ok {
		t.Fatalf("the new holder's claim refused: %v %v", ok, err)
	}
}
