package cache

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
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
//
// The OS keyring cannot be enumerated, so Put also records each key in
// one more item (service "gitsign-index"), an index of at most 16 keys,
// that List and Clear walk.
// When the index is full, Put deletes the item stored longest ago to make
// room. The index is a convenience: Get never reads it, a missing or
// unreadable one lists nothing and is rewritten by the next Put, and two
// processes putting at the same moment may each drop the other's key
// from it (that credential is still handed out; it is just not listed).
// Items stored before the index existed are read as ever, and listed and
// cleared once stored again.
type Keyring struct {
	now     func() time.Time
	secrets secrets
	mu      sync.Mutex // serializes this process's updates of the index
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
	kr.mu.Lock()
	defer kr.mu.Unlock()
	// The credential is stored; an index that cannot be read or updated
	// costs only its listing.
	if keys, err := kr.readIndex(); err == nil {
		kr.writeIndex(append(without(keys, k), k))
	}
	return nil
}

// List describes the usable credentials the index names, soonest to
// expire first, and drops from the index the keys whose items are gone,
// ended or unreadable. It fails only when the keyring cannot be used (a
// *KeyringError).
func (kr *Keyring) List() ([]Entry, error) {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	keys, err := kr.readIndex()
	if err != nil {
		return nil, err
	}
	var out []Entry
	var live []Key
	for _, k := range keys {
		c, err := kr.Get(k)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{Key: k, Leaf: c.Leaf()})
		live = append(live, k)
	}
	if len(live) != len(keys) {
		kr.writeIndex(live)
	}
	sortEntries(out)
	return out, nil
}

// Clear deletes the items the index names, then the index. It fails only
// when the keyring cannot be used (a *KeyringError).
func (kr *Keyring) Clear() error {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	keys, err := kr.readIndex()
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := kr.remove(KeyringService, k.String()); err != nil {
			return err
		}
	}
	return kr.remove(keyringIndexService, keyringIndexAccount)
}

// remove deletes an item; a missing item is not an error.
func (kr *Keyring) remove(service, account string) error {
	err := kr.secrets.Delete(service, account)
	if err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return &KeyringError{Err: err}
	}
	return nil
}

// The index item: its service and account (a service of its own, so that
// the items of KeyringService are all credentials), the prefix naming its
// format, and its bounds. The value is the prefix, then one Key.String
// per line, the key stored longest ago first.
const (
	keyringIndexService = "gitsign-index"
	keyringIndexAccount = "keys"
	keyringIndexPrefix  = "gitsign-index-v1:"
	maxIndexKeys        = 16
	maxIndexBytes       = 64 << 10
)

// readIndex returns the keys the index names, oldest first. A missing or
// unreadable index names none; a keyring that cannot be used is a
// *KeyringError.
func (kr *Keyring) readIndex() ([]Key, error) {
	v, err := kr.secrets.Get(keyringIndexService, keyringIndexAccount)
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, &KeyringError{Err: err}
	}
	return decodeIndex(v), nil
}

// writeIndex records keys, oldest first. Past maxIndexKeys, or past what
// the keyring lets an item hold, the oldest keys are dropped and their
// items deleted; the newest is never dropped. It is best effort: a
// failure leaves the old index.
func (kr *Keyring) writeIndex(keys []Key) {
	if len(keys) == 0 {
		kr.remove(keyringIndexService, keyringIndexAccount)
		return
	}
	for {
		v := encodeIndex(keys)
		if len(keys) <= maxIndexKeys && len(v) <= maxIndexBytes {
			err := kr.secrets.Set(keyringIndexService, keyringIndexAccount, v)
			if !errors.Is(err, keyring.ErrSetDataTooBig) {
				return
			}
		}
		if len(keys) == 1 {
			return // the newest credential stays, unlisted
		}
		kr.remove(KeyringService, keys[0].String())
		keys = keys[1:]
	}
}

func encodeIndex(keys []Key) string {
	lines := make([]string, len(keys))
	for i, k := range keys {
		lines[i] = k.String()
	}
	return keyringIndexPrefix + strings.Join(lines, "\n")
}

// decodeIndex parses an index value, skipping lines that are not a key
// in Key.String's form and repeated keys. An index too long, or of an
// unknown format, names nothing.
func decodeIndex(v string) []Key {
	body, ok := strings.CutPrefix(v, keyringIndexPrefix)
	if !ok || len(v) > maxIndexBytes {
		return nil
	}
	var keys []Key
	for line := range strings.SplitSeq(body, "\n") {
		q, err := url.ParseQuery(line)
		if err != nil {
			continue
		}
		k := Key{Fulcio: q.Get("fulcio"), Issuer: q.Get("issuer"), ClientID: q.Get("client_id")}
		if k.validate() != nil || k.String() != line || len(keys) == maxIndexKeys {
			continue
		}
		keys = append(without(keys, k), k)
	}
	return keys
}

// without returns keys less k, reusing keys' array.
func without(keys []Key, k Key) []Key {
	out := keys[:0]
	for _, x := range keys {
		if x != k {
			out = append(out, x)
		}
	}
	return out
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
