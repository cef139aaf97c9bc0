package cache

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// KeyringService is the service name credentials are stored under in the
// OS keyring; the account name is Key.String().
const KeyringService = "gitsign"

// keyringPrefix starts every stored value, naming its format.
const keyringPrefix = "gitsign-credential-v1:"

// Keyring keeps credentials in the OS keyring (Secret Service on Linux,
// the Keychain on macOS, the Credential Manager on Windows), one item per
// Key, in the same form the agent protocol carries them: a PKCS#8 private
// key and the certificate chain, base64 after a version prefix. The
// keyring does not expire items itself: an item whose certificate has
// ended is deleted when it is next read, and overwritten by the next
// login.
type Keyring struct {
	now     func() time.Time
	secrets secrets
}

// secrets is the part of go-keyring that Keyring uses.
type secrets interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

type osKeyring struct{}

func (osKeyring) Get(s, u string) (string, error) { return keyring.Get(s, u) }
func (osKeyring) Set(s, u, p string) error        { return keyring.Set(s, u, p) }
func (osKeyring) Delete(s, u string) error        { return keyring.Delete(s, u) }

// NewKeyring returns the OS keyring, reading the time from now (time.Now
// when nil).
func NewKeyring(now func() time.Time) *Keyring {
	if now == nil {
		now = time.Now
	}
	return &Keyring{now: now, secrets: osKeyring{}}
}

// KeyringError means the OS keyring could not be used at all: there is
// none (no Secret Service on the session bus, no session bus), it is
// locked, or it failed.
type KeyringError struct {
	Err error
}

func (e *KeyringError) Error() string { return "cache: OS keyring: " + e.Err.Error() }
func (e *KeyringError) Unwrap() error { return e.Err }

// Get returns the credential stored under k, or an error matching
// ErrNotFound when there is none, or none usable. An item whose
// certificate is within ExpiryMargin of its end is deleted.
func (kr *Keyring) Get(k Key) (*Credential, error) {
	v, err := kr.secrets.Get(KeyringService, k.String())
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, &KeyringError{Err: err}
	}
	c, err := decodeKeyringValue(v)
	if err != nil {
		// Corrupt, or written by a later version: a miss. The next login
		// overwrites it.
		return nil, fmt.Errorf("%w (the keyring item is unreadable: %v)", ErrNotFound, err)
	}
	if !c.usableAt(kr.now()) {
		kr.secrets.Delete(KeyringService, k.String())
		return nil, ErrNotFound
	}
	return c, nil
}

// Put stores c under k, replacing what was there. Where the keyring limits
// the size of an item (Windows: 2560 bytes) and the whole chain does not
// fit, only the leaf certificate is kept: it is all a signature needs.
func (kr *Keyring) Put(k Key, c *Credential) error {
	if err := k.validate(); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	if !c.usableAt(kr.now()) {
		return ErrExpired
	}
	v, err := encodeKeyringValue(c)
	if err != nil {
		return err
	}
	err = kr.secrets.Set(KeyringService, k.String(), v)
	if errors.Is(err, keyring.ErrSetDataTooBig) && len(c.Chain) > 1 {
		if v, err = encodeKeyringValue(&Credential{Key: c.Key, Chain: c.Chain[:1]}); err == nil {
			err = kr.secrets.Set(KeyringService, k.String(), v)
		}
	}
	if err != nil {
		return &KeyringError{Err: err}
	}
	return nil
}

// Delete removes the item for k; a missing item is not an error.
func (kr *Keyring) Delete(k Key) error {
	err := kr.secrets.Delete(KeyringService, k.String())
	if err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return &KeyringError{Err: err}
	}
	return nil
}

func encodeKeyringValue(c *Credential) (string, error) {
	raw, err := c.marshal()
	if err != nil {
		return "", err
	}
	e := &encoder{}
	e.credential(raw)
	if e.err != nil {
		return "", e.err
	}
	return keyringPrefix + base64.StdEncoding.EncodeToString(e.b), nil
}

func decodeKeyringValue(v string) (*Credential, error) {
	b64, ok := strings.CutPrefix(v, keyringPrefix)
	if !ok {
		return nil, errors.New("not a gitsign credential (unknown format)")
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, err
	}
	d := &decoder{b: b}
	raw := d.credential()
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d bytes after the credential", len(d.b))
	}
	if d.err != nil {
		return nil, d.err
	}
	return raw.parse()
}
