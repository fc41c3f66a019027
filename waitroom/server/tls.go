package server

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultCertCheckEvery is how often a listener's certificate files are
// reread to see whether they changed (a renewal by certbot, cert-manager or
// a secret store): often enough that a renewed certificate is served
// within seconds, rarely enough to cost nothing.
const DefaultCertCheckEvery = 5 * time.Second

// certificate serves a key pair from two PEM files and rereads them when
// their content changes, so that a renewed certificate is served without a
// restart. A pair that does not load (one file written and not the other
// yet, a key that does not match) is logged and the previous certificate
// stays in service.
type certificate struct {
	listener          string
	certFile, keyFile string
	logger            *slog.Logger

	current atomic.Pointer[tls.Certificate]
	mu      sync.Mutex
	seen    [sha256.Size]byte // of the files last loaded or refused
	readErr string            // the last read failure, logged once
}

// loadCertificate reads the pair once; an error stops the start.
func loadCertificate(listener, certFile, keyFile string, logger *slog.Logger) (*certificate, error) {
	c := &certificate{listener: listener, certFile: certFile, keyFile: keyFile, logger: logger}
	certPEM, keyPEM, sum, err := c.read()
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s and %s: %w", certFile, keyFile, err)
	}
	c.current.Store(&pair)
	c.seen = sum
	return c, nil
}

func (c *certificate) read() (certPEM, keyPEM []byte, sum [sha256.Size]byte, err error) {
	if certPEM, err = os.ReadFile(c.certFile); err != nil {
		return nil, nil, sum, err
	}
	if keyPEM, err = os.ReadFile(c.keyFile); err != nil {
		return nil, nil, sum, err
	}
	h := sha256.New()
	h.Write(certPEM)
	h.Write([]byte{0})
	h.Write(keyPEM)
	copy(sum[:], h.Sum(nil))
	return certPEM, keyPEM, sum, nil
}

// reload rereads the files and switches to the pair they hold when it
// changed and loads; it reports whether it switched.
func (c *certificate) reload() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	certPEM, keyPEM, sum, err := c.read()
	if err != nil {
		if err.Error() != c.readErr {
			c.logger.Warn("tls: cannot read the certificate files; still serving the previous certificate",
				"listener", c.listener, "err", err)
		}
		c.readErr = err.Error()
		return false
	}
	c.readErr = ""
	if sum == c.seen {
		return false
	}
	c.seen = sum // a bad pair is reported once, not at every check
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		c.logger.Warn("tls: the changed certificate files do not load; still serving the previous certificate",
			"listener", c.listener, "cert_file", c.certFile, "key_file", c.keyFile, "err", err)
		return false
	}
	c.current.Store(&pair)
	c.logger.Info("tls: certificate reloaded", "listener", c.listener, "cert_file", c.certFile,
		"subject", pair.Leaf.Subject.String(), "not_after", pair.Leaf.NotAfter.UTC().Format(time.RFC3339))
	return true
}

// watch rereads the files every period until ctx ends.
func (c *certificate) watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.reload()
		}
	}
}

// config is the listener's TLS configuration: the current certificate at
// every handshake, TLS 1.2 at least, HTTP/2 offered first.
func (c *certificate) config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2", "http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.current.Load(), nil
		},
	}
}

// checkCertificatePair validates one listener's pair of settings: both or
// neither, and files that load now.
func checkCertificatePair(certName, keyName, certFile, keyFile string) []string {
	switch {
	case certFile == "" && keyFile == "":
		return nil
	case certFile == "" || keyFile == "":
		return []string{fmt.Sprintf("%s and %s: set both or neither", certName, keyName)}
	}
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		return []string{fmt.Sprintf("%s and %s: %v", certName, keyName, err)}
	}
	return nil
}
