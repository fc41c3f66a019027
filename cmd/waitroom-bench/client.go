package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// maxBody bounds how much of an answer the generator reads: every answer of
// the APIs under test is small, and a runaway body must not eat the memory
// the server needs.
const maxBody = 1 << 20

// newTransport returns a transport tuned for load generation: keep-alive
// connections reused across requests (as many idle ones as workers, so none
// is closed and re-dialled between requests), no compression, no HTTP/2
// (the servers under test speak HTTP/1.1 on loopback).
func newTransport(conns int) *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
		WriteBufferSize:     8 << 10,
		ReadBufferSize:      8 << 10,
	}
}

// noRedirects makes a client hand back redirects instead of following them:
// the OIDC flow times each hop and must stop at the relying party's
// redirect URI, which nothing serves.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// answer is a read HTTP answer. Body is only valid until release is called.
type answer struct {
	Status   int
	Header   http.Header
	Body     []byte
	buf      *bytes.Buffer
	Location string
}

func (a *answer) release() {
	if a.buf != nil {
		a.buf.Reset()
		bodyBuffers.Put(a.buf)
		a.buf = nil
	}
}

// decode unmarshals the body as JSON into v; a body that does not parse is a
// step error, since the API promises JSON.
func (a *answer) decode(step string, v any) error {
	if err := json.Unmarshal(a.Body, v); err != nil {
		return &StepError{Step: step, Cause: "body", Err: err}
	}
	return nil
}

// send performs req with client, reads the whole body into a pooled buffer
// and records the answer's status and latency on step. A transport failure
// is returned as a StepError; any status is returned to the caller to judge.
func send(ctx context.Context, client *http.Client, step *Step, req *http.Request) (answer, error) {
	start := time.Now()
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		step.Observe(0, time.Since(start))
		return answer{}, &StepError{Step: step.Name, Cause: transportCause(err), Err: err}
	}
	buf := bodyBuffers.Get().(*bytes.Buffer)
	_, err = buf.ReadFrom(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	step.Observe(resp.StatusCode, time.Since(start))
	a := answer{Status: resp.StatusCode, Header: resp.Header, Body: buf.Bytes(), buf: buf, Location: resp.Header.Get("Location")}
	if err != nil {
		a.release()
		return answer{}, &StepError{Step: step.Name, Cause: "transport", Err: err}
	}
	return a, nil
}

func transportCause(err error) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return "timeout"
	}
	if errors.Is(err, context.Canceled) {
		return "canceled"
	}
	return "transport"
}

// jsonRequest builds a POST with a JSON body.
func jsonRequest(url string, body any) (*http.Request, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// flexInt reads a JSON integer that may come as a number or as a string
// (the AWS API sends serving_counter as a string).
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	var n json.Number
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		n = json.Number(s)
	} else if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	v, err := n.Int64()
	*f = flexInt(v)
	return err
}
