// Package replicas_test runs several waitroom processes against one Redis and
// PostgreSQL to check leader election and fencing end to end.
package replicas_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom/admission"
	"github.com/waitroom-idp/waitroom/waitroom/backend/redispg"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
	"github.com/waitroom-idp/waitroom/waitroom/transport/httpapi"
)

// replica is one waitroom process of the multi-process test.
type replica struct {
	cmd    *exec.Cmd
	public string
	admin  string
	mu     sync.Mutex
	leads  int // "admission leadership taken" lines seen
	log    strings.Builder
}

func (r *replica) leadCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.leads
}

func (r *replica) watch(stderr io.Reader) {
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		r.mu.Lock()
		if strings.Contains(sc.Text(), "admission leadership taken") {
			r.leads++
		}
		r.log.WriteString(sc.Text() + "\n")
		r.mu.Unlock()
	}
}

const multiAdminKey = "multi-process-admin-key-0123456789"

// TestThreeReplicasLeaderKilled runs three waitroom processes on one Redis
// and PostgreSQL with a rate inlet, kills the leader with SIGKILL, and
// checks that another replica took over and that, over the whole run,
// every tick from the first to the last was claimed exactly once (no gap:
// the new leader applied the ticks missed while the lease lapsed) and the
// serving counter moved by exactly the rate's share of those ticks (no
// double tick), less at most the one tick the killed leader may have
// claimed without applying.
func TestThreeReplicasLeaderKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs three processes for ~30s")
	}
	bin := filepath.Join(t.TempDir(), "waitroom")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/waitroom-idp/waitroom/cmd/waitroom").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, kind := range testenv.RedisKinds() {
		t.Run(kind.Name, func(t *testing.T) {
			t.Parallel()
			threeReplicasLeaderKilled(t, bin, kind)
		})
	}
}

func threeReplicasLeaderKilled(t *testing.T, bin string, kind testenv.RedisKind) {
	dsn := testenv.Postgres(t)
	redisAddr, prefix := testenv.RedisOf(t, kind)
	reps := make([]*replica, 3)
	for i := range reps {
		reps[i] = startReplica(t, bin, dsn, redisAddr, prefix, kind.Cluster)
	}
	for _, r := range reps {
		waitHealthy(t, r)
	}
	adminCall(t, reps[0], http.MethodPost, "/v1/rooms", `{"id":"mp","name":"Multi"}`)
	for i := 0; i < 150; i++ {
		post(t, reps[i%3].public+"/assign_queue_num", `{"event_id":"mp"}`, "")
	}
	adminCall(t, reps[1], http.MethodPatch, "/v1/rooms/mp", `{"inlet":{"strategy":"rate","per_minute":120}}`)

	leader := waitFor(t, 30*time.Second, "a leader", func() int { return leaderOf(reps, nil) })
	time.Sleep(6 * time.Second) // the strategy runs under the first leader
	killed := reps[leader]
	if err := killed.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed.cmd.Wait()
	waitFor(t, 30*time.Second, "a new leader", func() int { return leaderOf(reps, killed) })
	time.Sleep(5 * time.Second) // and under the new one
	for _, r := range reps {
		if r != killed {
			r.cmd.Process.Signal(syscall.SIGTERM)
			r.cmd.Wait()
		}
	}
	checkTicks(t, dsn, redisAddr, prefix, kind.Cluster)
}

func startReplica(t *testing.T, bin, dsn, redisAddr, prefix string, cluster bool) *replica {
	r := &replica{public: freeAddr(t), admin: freeAddr(t)}
	r.cmd = exec.Command(bin, "serve")
	r.cmd.Env = append(os.Environ(),
		"WAITROOM_HTTP_ADDR="+r.public, "WAITROOM_ADMIN_ADDR="+r.admin,
		"WAITROOM_DATABASE_URL="+dsn, "WAITROOM_REDIS_URL="+redisAddr, "WAITROOM_REDIS_KEY_PREFIX="+prefix,
		"WAITROOM_ADMIN_KEY_HASHES="+httpapi.HashAdminKey(multiAdminKey), "WAITROOM_DEMO=false",
		"WAITROOM_SIGNING_ALGORITHM=ES256", "WAITROOM_ASSIGN_RATE_LIMIT=0", "WAITROOM_DATABASE_MAX_CONNS=4",
		"WAITROOM_REDIS_CLUSTER="+strconv.FormatBool(cluster))
	stderr, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go r.watch(stderr)
	t.Cleanup(func() {
		r.cmd.Process.Kill()
		r.cmd.Wait()
		if t.Failed() {
			r.mu.Lock()
			t.Logf("replica %s log:\n%s", r.public, r.log.String())
			r.mu.Unlock()
		}
	})
	r.public, r.admin = "http://"+r.public, "http://"+r.admin
	return r
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitHealthy(t *testing.T, r *replica) {
	waitFor(t, 30*time.Second, "replica "+r.public+" healthy", func() int {
		resp, err := http.Get(r.public + "/healthz")
		if err != nil {
			return -1
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return -1
		}
		return 0
	})
}

// leaderOf returns the index of a replica other than not that logged
// taking the lease, or -1.
func leaderOf(reps []*replica, not *replica) int {
	for i, r := range reps {
		if r != not && r.leadCount() > 0 {
			return i
		}
	}
	return -1
}

// waitFor polls f until it returns a non-negative value.
func waitFor(t *testing.T, limit time.Duration, what string, f func() int) int {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if v := f(); v >= 0 {
			return v
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no %s within %s", what, limit)
	return -1
}

func adminCall(t *testing.T, r *replica, method, path, body string) {
	t.Helper()
	req, _ := http.NewRequest(method, r.admin+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+multiAdminKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
}

func post(t *testing.T, url, body, _ string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %d", url, resp.StatusCode)
	}
}

// checkTicks reads the claimed ticks of room mp from Redis and its serving
// counter, and checks them against the rate strategy.
func checkTicks(t *testing.T, dsn, redisAddr, prefix string, cluster bool) {
	ctx := context.Background()
	st, err := redispg.Open(ctx, redispg.Config{DatabaseURL: dsn, RedisURL: redisAddr, RedisCluster: cluster, KeyPrefix: prefix, MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Store.Close()
	rdb, err := testenv.RedisClient(redisAddr, cluster)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	keys, err := testenv.ScanKeys(ctx, rdb, prefix+"lease:{admission}:step:tick:mp:*")
	if err != nil {
		t.Fatal(err)
	}
	var ticks []int64
	for _, k := range keys {
		n, err := strconv.ParseInt(k[strings.LastIndex(k, ":")+1:], 10, 64)
		if err != nil {
			t.Fatalf("claim key %q", k)
		}
		ticks = append(ticks, n)
	}
	slices.Sort(ticks)
	if len(ticks) < 8 {
		t.Fatalf("only %d ticks claimed", len(ticks))
	}
	if span := ticks[len(ticks)-1] - ticks[0] + 1; span != int64(len(ticks)) {
		t.Fatalf("ticks %d..%d: %d claimed of %d: a tick was lost", ticks[0], ticks[len(ticks)-1], len(ticks), span)
	}
	rate := admission.Rate{PerMinute: 120}
	var want int64
	for _, n := range ticks {
		want += rate.Share(n)
	}
	c, err := st.Store.Counters(ctx, "mp")
	if err != nil {
		t.Fatal(err)
	}
	if c.Serving > want || c.Serving < want-2 {
		t.Fatalf("serving %d after %d ticks; the rate prescribes %d (at most one tick, 2, short)", c.Serving, len(ticks), want)
	}
	t.Logf("%d ticks %d..%d claimed once each; serving %d, prescribed %d", len(ticks), ticks[0], ticks[len(ticks)-1], c.Serving, want)
}
