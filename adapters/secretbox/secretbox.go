// Package secretbox seals the credentials events carry before they reach
// the log, and opens them on the way out, so that the log, its exports and
// copies of the log never hold a credential in plaintext. (A backup of the
// whole database holds the wrapped data keys too, and, when no
// --secret-key is given, the master key that opens them.)
//
// Each stream with secrets (a notification channel, a monitor with request
// headers or a URL password) gets its own random 256-bit data key, kept
// outside the log in the stream_keys table, wrapped with the server's
// master key. A secret field becomes "enc:v1:" + base64url(nonce ||
// AES-256-GCM ciphertext) with the stream id as additional data, so an
// envelope copied into another stream does not open. Appending the
// stream's delete event destroys its data key (crypto-shredding): the
// secrets in its old events, in every copy of the log, are gone for good.
//
// Store wraps any domain.EventStore with this; the application writes and
// reads through it, while the audit export reads the log as stored.
package secretbox

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// Keys is where the wrapped data keys live (adapters/postgres.StreamKeys).
type Keys interface {
	// Get returns the stream's key. Errors: ErrNotFound when it has none.
	Get(ctx context.Context, stream string) (domain.StreamKey, error)
	// Create stores k unless its stream has a key already, and returns
	// the key the stream has.
	Create(ctx context.Context, k domain.StreamKey) (domain.StreamKey, error)
	// Delete destroys the stream's key; a missing one is no error.
	Delete(ctx context.Context, stream string) error
	// MasterKeyIDs returns the ids of the master keys the stored keys are
	// wrapped with.
	MasterKeyIDs(ctx context.Context) ([]string, error)
}

// Master is the server's master key: it wraps and unwraps data keys.
type Master struct {
	aead cipher.AEAD
	id   string
}

// NewMaster derives the master key from secret (SHA-256 of it: any long
// random string will do, such as `openssl rand -hex 32`). Its id, a
// fingerprint that does not reveal it, is stored with each wrapped key.
func NewMaster(secret string) (*Master, error) {
	if len(secret) < 32 {
		return nil, errors.New("the secret key must be at least 32 characters (e.g. openssl rand -hex 32)")
	}
	key := sha256.Sum256([]byte(secret))
	aead, err := newAEAD(key[:])
	if err != nil {
		return nil, err
	}
	fp := sha256.Sum256(append([]byte("medialuna master key id\x00"), key[:]...))
	return &Master{aead: aead, id: hex.EncodeToString(fp[:8])}, nil
}

// ID is the key's fingerprint.
func (m *Master) ID() string { return m.id }

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func seal(aead cipher.AEAD, plaintext, ad []byte) ([]byte, error) {
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, plaintext, ad), nil
}

func open(aead cipher.AEAD, sealed, ad []byte) ([]byte, error) {
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("sealed value too short")
	}
	n := aead.NonceSize()
	return aead.Open(nil, sealed[:n], sealed[n:], ad)
}

// Wrap seals a data key for stream.
func (m *Master) Wrap(stream string, dataKey []byte) (domain.StreamKey, error) {
	w, err := seal(m.aead, dataKey, []byte("stream-key\x00"+stream))
	if err != nil {
		return domain.StreamKey{}, err
	}
	return domain.StreamKey{Stream: stream, Wrapped: w, MasterKeyID: m.id}, nil
}

// Unwrap opens a stored data key.
func (m *Master) Unwrap(k domain.StreamKey) ([]byte, error) {
	if k.MasterKeyID != m.id {
		return nil, fmt.Errorf("the data key of %s is wrapped with master key %s, not with this server's %s: start with the --secret-key it was made with", k.Stream, k.MasterKeyID, m.id)
	}
	key, err := open(m.aead, k.Wrapped, []byte("stream-key\x00"+k.Stream))
	if err != nil {
		return nil, fmt.Errorf("the data key of %s does not open with this server's master key", k.Stream)
	}
	return key, nil
}

// Box seals and opens values of streams with their data keys, keeping
// unwrapped keys in memory for a minute once used.
type Box struct {
	master *Master
	keys   Keys
	now    func() time.Time
	mu     sync.Mutex
	cache  map[string]cachedKey
}

// keyCacheTTL bounds how long a data key another replica destroyed (its
// channel or monitor deleted there) still opens envelopes here.
const keyCacheTTL = time.Minute

type cachedKey struct {
	aead   cipher.AEAD
	loaded time.Time
}

// New returns a box over the key store.
func New(master *Master, keys Keys) *Box {
	return &Box{master: master, keys: keys, now: time.Now, cache: map[string]cachedKey{}}
}

// Check refuses a master key that did not wrap the stored data keys:
// started with the wrong --secret-key, the server could open none of them.
func (b *Box) Check(ctx context.Context) error {
	ids, err := b.keys.MasterKeyIDs(ctx)
	if err != nil {
		return fmt.Errorf("read stream keys: %w", err)
	}
	for _, id := range ids {
		if id != b.master.id {
			return fmt.Errorf("stored secrets are sealed under master key %s, but this server's key is %s: pass the --secret-key (MEDIALUNA_SECRET_KEY) they were sealed with, or rotate with 'medialuna secrets rotate-key'", id, b.master.id)
		}
	}
	return nil
}

// key returns the stream's cipher; with create, one is made when the
// stream has none. ok is false when the stream has no key.
func (b *Box) key(ctx context.Context, stream string, create bool) (cipher.AEAD, bool, error) {
	b.mu.Lock()
	cached, ok := b.cache[stream]
	b.mu.Unlock()
	if ok && b.now().Sub(cached.loaded) < keyCacheTTL {
		return cached.aead, true, nil
	}
	k, err := b.keys.Get(ctx, stream)
	if domain.ErrorCode(err) == domain.ErrNotFound {
		if !create {
			return nil, false, nil
		}
		fresh := make([]byte, 32)
		if _, err := rand.Read(fresh); err != nil {
			return nil, false, err
		}
		w, werr := b.master.Wrap(stream, fresh)
		if werr != nil {
			return nil, false, werr
		}
		k, err = b.keys.Create(ctx, w)
	}
	if err != nil {
		return nil, false, err
	}
	dataKey, err := b.master.Unwrap(k)
	if err != nil {
		return nil, false, err
	}
	aead, err := newAEAD(dataKey)
	if err != nil {
		return nil, false, err
	}
	b.mu.Lock()
	b.cache[stream] = cachedKey{aead: aead, loaded: b.now()}
	b.mu.Unlock()
	return aead, true, nil
}

// Seal returns the envelope of plaintext for stream, creating the
// stream's data key if it has none.
func (b *Box) Seal(ctx context.Context, stream, plaintext string) (string, error) {
	aead, _, err := b.key(ctx, stream, true)
	if err != nil {
		return "", err
	}
	sealed, err := seal(aead, []byte(plaintext), []byte(stream))
	if err != nil {
		return "", err
	}
	return domain.EnvelopePrefix + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// Open returns the plaintext of an envelope of stream. ok is false, with
// no error, when the value cannot be opened: its stream's key was
// destroyed (the channel or monitor was deleted), or it is not an
// envelope of this stream. A value that is no envelope at all (written
// before sealing) comes back as it is.
func (b *Box) Open(ctx context.Context, stream, value string) (string, bool, error) {
	if !domain.IsEnvelope(value) {
		return value, true, nil
	}
	sealed, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(value, domain.EnvelopePrefix))
	if err != nil {
		return value, false, nil
	}
	aead, ok, err := b.key(ctx, stream, false)
	if err != nil || !ok {
		return value, false, err
	}
	plain, err := open(aead, sealed, []byte(stream))
	if err != nil {
		return value, false, nil
	}
	return string(plain), true, nil
}

// Forget destroys the stream's data key: its envelopes never open again.
func (b *Box) Forget(ctx context.Context, stream string) error {
	if err := b.keys.Delete(ctx, stream); err != nil {
		return fmt.Errorf("destroy the data key of %s: %w", stream, err)
	}
	b.mu.Lock()
	delete(b.cache, stream)
	b.mu.Unlock()
	return nil
}
