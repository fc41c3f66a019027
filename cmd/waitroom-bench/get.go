package main

import (
	"context"
	"net/http"
	"strings"
)

// stepGet is the one request of the get scenario.
const stepGet = "get"

// getOne is one request of the get scenario: GET -url with the -header
// lines, expecting 200. It measures whatever serves the URL, such as a
// site behind a proxy with and without waitroom's gate (gate-bench.sh).
func getOne(ctx context.Context, b *Bench, rec *Recorder) error {
	req, err := http.NewRequest(http.MethodGet, b.cfg.GetURL, nil)
	if err != nil {
		return err
	}
	for _, h := range b.cfg.GetHeaders {
		if k, v, ok := strings.Cut(h, ":"); ok {
			req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	a, err := send(ctx, b.client, rec.Step(stepGet), req)
	if err != nil {
		return err
	}
	defer a.release()
	if a.Status != http.StatusOK {
		return &StatusError{Step: stepGet, Status: a.Status}
	}
	return nil
}

// headerList is a repeatable -header flag ("Name: value").
type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, ", ") }
func (h *headerList) Set(v string) error { *h = append(*h, v); return nil }
