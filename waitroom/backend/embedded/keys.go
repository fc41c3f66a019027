package embedded

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// keyRing keeps the signing keys in memory and, when file is set, in a JSON
// file written whole on every change (rename, so a crash leaves the old or
// the new file, never half of one).
type keyRing struct {
	mu   sync.Mutex
	file string
	keys []waitroom.SigningKey
	// secret is the deployment secret: made for this process, which is
	// all the embedded store lives for.
	secret []byte
}

func (k *keyRing) load() error {
	if k.file == "" {
		return nil
	}
	b, err := os.ReadFile(k.file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return waitroom.Wrap(waitroom.CodeInternal, err, "cannot read the key file")
	}
	if err := json.Unmarshal(b, &k.keys); err != nil {
		return waitroom.Wrap(waitroom.CodeInternal, err, "cannot read the key file")
	}
	return nil
}

func (k *keyRing) save(keys []waitroom.SigningKey) error {
	if k.file != "" {
		if err := writeKeyFile(k.file, keys); err != nil {
			return waitroom.Wrap(waitroom.CodeUnavailable, err, "cannot write the key file")
		}
	}
	k.keys = keys
	return nil
}

func writeKeyFile(path string, keys []waitroom.SigningKey) error {
	b, err := json.MarshalIndent(keys, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".keys-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// SigningKeys returns every key, oldest first.
func (s *Store) SigningKeys(context.Context) ([]waitroom.SigningKey, error) {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	return slices.Clone(s.keys.keys), nil
}

// AddSigningKey stores a new key.
func (s *Store) AddSigningKey(_ context.Context, key waitroom.SigningKey) error {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	if s.keys.index(key.ID) >= 0 {
		return waitroom.Errorf(waitroom.CodeConflict, "signing key %s exists", key.ID)
	}
	return s.keys.save(append(slices.Clone(s.keys.keys), key))
}

// RetireSigningKey sets RetiredAt on a key.
func (s *Store) RetireSigningKey(_ context.Context, id string, at time.Time) error {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	i := s.keys.index(id)
	if i < 0 {
		return waitroom.Errorf(waitroom.CodeNotFound, "signing key not found")
	}
	keys := slices.Clone(s.keys.keys)
	keys[i].RetiredAt = at
	return s.keys.save(keys)
}

// DeleteSigningKey removes a key.
func (s *Store) DeleteSigningKey(_ context.Context, id string) error {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	i := s.keys.index(id)
	if i < 0 {
		return waitroom.Errorf(waitroom.CodeNotFound, "signing key not found")
	}
	return s.keys.save(slices.Delete(slices.Clone(s.keys.keys), i, i+1))
}

func (k *keyRing) index(id string) int {
	return slices.IndexFunc(k.keys, func(sk waitroom.SigningKey) bool { return sk.ID == id })
}

// DeploymentSecret returns a secret made for this process on the first
// call.
func (s *Store) DeploymentSecret(context.Context) ([]byte, error) {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	if s.keys.secret == nil {
		s.keys.secret = make([]byte, 32)
		if _, err := rand.Read(s.keys.secret); err != nil {
			return nil, waitroom.Wrap(waitroom.CodeInternal, err, "cannot make a secret")
		}
	}
	return slices.Clone(s.keys.secret), nil
}
