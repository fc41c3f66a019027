package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/server"
)

// healthcheckTimeout bounds the whole check: shorter than the 3 s a
// container runtime gives it (the Dockerfile's HEALTHCHECK --timeout), so
// that a hung server is reported by this command rather than killed.
const healthcheckTimeout = 2 * time.Second

// healthcheck asks the server this configuration describes for /healthz
// on its public listener, from the same machine (or container): 0 when it
// answers 200, 1 otherwise. It needs no shell or curl in the image.
func (m *Main) healthcheck(ctx context.Context) error {
	target, tlsConfig, err := healthTarget(m.Config)
	if err != nil {
		return &ExitError{Code: exitFailure, Err: fmt.Errorf("healthcheck: %w", err)}
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig, DisableKeepAlives: true}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	resp, err := client.Do(req)
	if err != nil {
		return &ExitError{Code: exitFailure, Err: fmt.Errorf("healthcheck: %w", err)}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return &ExitError{Code: exitFailure, Err: fmt.Errorf("healthcheck: %s answered %s", target, resp.Status)}
	}
	fmt.Fprintf(m.Stdout, "healthy: %s answered %s\n", target, resp.Status)
	return nil
}

// healthTarget is the URL of the public listener's /healthz as seen from
// this machine: a wildcard http_addr is reached on 127.0.0.1, a specific
// one on its own address. With TLS the certificate is checked against the
// issuer's host name, except on a loopback address, where it names the
// public host and cannot match, and where nothing stands between the check
// and the server to be fooled by.
func healthTarget(cfg server.Config) (string, *tls.Config, error) {
	host, port, err := net.SplitHostPort(cfg.HTTPAddr)
	if err != nil || port == "0" {
		return "", nil, fmt.Errorf("http_addr %q has no fixed port to check", cfg.HTTPAddr)
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "127.0.0.1"
	}
	scheme := "http"
	var tlsConfig *tls.Config
	if cfg.TLS() {
		scheme = "https"
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		switch {
		case waitroom.LoopbackHost(host):
			tlsConfig.InsecureSkipVerify = true
		case cfg.Issuer != "":
			u, err := url.Parse(cfg.Issuer)
			if err != nil {
				return "", nil, errors.New("issuer: not a URL")
			}
			tlsConfig.ServerName = u.Hostname()
		}
	}
	return (&url.URL{Scheme: scheme, Host: net.JoinHostPort(host, port), Path: "/healthz"}).String(), tlsConfig, nil
}
