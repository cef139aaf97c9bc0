package cache

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// memSecrets is an in-memory stand-in for the OS keyring with its
// failure modes; the real Secret Service is exercised end to end in
// internal/e2e.
type memSecrets struct {
	mu      sync.Mutex
	items   map[string]string
	err     error // returned by every call when set
	maxSize int   // Set refuses longer values when > 0, like Windows
	hang    chan struct{}
}

func newMemSecrets() *memSecrets { return &memSecrets{items: map[string]string{}} }

func (m *memSecrets) wait() error {
	if m.hang != nil {
		<-m.hang
	}
	return m.err
}

func (m *memSecrets) Get(s, u string) (string, error) {
	if err := m.wait(); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.items[s+"\x00"+u]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (m *memSecrets) Set(s, u, p string) error {
	if err := m.wait(); err != nil {
		return err
	}
	if m.maxSize > 0 && len(p) > m.maxSize {
		return keyring.ErrSetDataTooBig
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.items[s+"\x00"+u] = p
	return nil
}

func (m *memSecrets) Delete(s, u string) error {
	if err := m.wait(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.items[s+"\x00"+u]; !ok {
		return keyring.ErrNotFound
	}
	delete(m.items, s+"\x00"+u)
	return nil
}

func (m *memSecrets) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items)
}

// has reports whether the gitsign service holds an item for account.
func (m *memSecrets) has(account string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.items[itemID(KeyringService, account)]
	return ok
}

// set stores an item directly, as another program (or an earlier gitsign)
// would.
func (m *memSecrets) set(service, account, value string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.items[itemID(service, account)] = value
}

// itemID is how memSecrets files an item.
func itemID(service, account string) string { return service + "\x00" + account }

func TestKeyringRoundTripAndExpiry(t *testing.T) {
	clk := &clock{t: t0}
	mem := newMemSecrets()
	kr := &Keyring{now: clk.now, secrets: mem}
	if _, err := kr.Get(testKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get on an empty keyring: %v", err)
	}
	cred := newCredential(t, t0.Add(10*time.Minute))
	if err := kr.Put(testKey, cred); err != nil {
		t.Fatal(err)
	}
	// Two items: the credential under service gitsign (the only item
	// there), and the index under a service of its own.
	if mem.len() != 2 || !mem.has(testKey.String()) {
		t.Errorf("the keyring holds %d items; want the credential and the index", mem.len())
	}
	for k, v := range mem.items {
		if k == itemID(keyringIndexService, keyringIndexAccount) {
			continue
		}
		if !strings.HasPrefix(v, keyringPrefix) || !strings.Contains(k, "gitsign\x00") || !strings.Contains(k, "client_id=sigstore") {
			t.Errorf("stored item %q = %.30q…; want service gitsign, the key as account, a versioned value", k, v)
		}
	}
	got, err := kr.Get(testKey)
	if err != nil || !sameCredential(got, cred) {
		t.Fatalf("Get = %v, %v; want the credential", got, err)
	}
	clk.advance(9 * time.Minute)
	if _, err := kr.Get(testKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after expiry: %v; want ErrNotFound", err)
	}
	if mem.has(testKey.String()) {
		t.Error("the expired item was not deleted from the keyring")
	}
	if err := kr.Put(testKey, cred); !errors.Is(err, ErrExpired) {
		t.Errorf("Put of an expiring credential: %v; want ErrExpired", err)
	}
	if err := kr.Clear(); err != nil || mem.len() != 0 {
		t.Errorf("Clear = %v, leaving %d items; want nil, none", err, mem.len())
	}
}

func TestKeyringTooBigKeepsTheLeaf(t *testing.T) {
	mem := newMemSecrets()
	kr := &Keyring{now: func() time.Time { return t0 }, secrets: mem}
	cred := newCredential(t, t0.Add(time.Hour))
	full, err := encodeKeyringValue(cred)
	if err != nil {
		t.Fatal(err)
	}
	mem.maxSize = len(full) - 1
	if err := kr.Put(testKey, cred); err != nil {
		t.Fatal(err)
	}
	got, err := kr.Get(testKey)
	if err != nil || len(got.Chain) != 1 || !got.Leaf().Equal(cred.Leaf()) {
		t.Fatalf("Get = %v, %v; want the leaf alone", got, err)
	}
}

func TestKeyringFailures(t *testing.T) {
	mem := newMemSecrets()
	kr := &Keyring{now: func() time.Time { return t0 }, secrets: mem}
	mem.items[KeyringService+"\x00"+testKey.String()] = "gitsign-credential-v1:!!!"
	if _, err := kr.Get(testKey); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "unreadable") {
		t.Errorf("Get of a corrupt item: %v; want a miss saying 'unreadable'", err)
	}
	mem.items[KeyringService+"\x00"+testKey.String()] = "hunter2"
	if _, err := kr.Get(testKey); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "unknown format") {
		t.Errorf("Get of a foreign item: %v; want a miss saying 'unknown format'", err)
	}
	// The next login overwrites it.
	if err := kr.Put(testKey, newCredential(t, t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Get(testKey); err != nil {
		t.Errorf("Get after overwriting a foreign item: %v", err)
	}
	mem.err = errors.New("The name org.freedesktop.secrets was not provided by any .service files")
	var ke *KeyringError
	if _, err := kr.Get(testKey); !errors.As(err, &ke) {
		t.Errorf("Get without a keyring: %v; want *KeyringError", err)
	}
	if err := kr.Put(testKey, newCredential(t, t0.Add(time.Hour))); !errors.As(err, &ke) {
		t.Errorf("Put without a keyring: %v; want *KeyringError", err)
	}
}

// FuzzKeyringValue: an item read from the keyring either is an error or
// decodes to a valid credential whose encoding is a fixed point: it
// decodes to the same key and chain and encodes to the same text again.
// (The input itself need not come back byte for byte: base64 skips
// newlines and a PKCS#8 key may carry optional fields.)
func FuzzKeyringValue(f *testing.F) {
	v, err := encodeKeyringValue(newCredential(f, t0.Add(time.Hour)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(v)
	f.Add(keyringPrefix)
	f.Fuzz(func(t *testing.T, v string) {
		c, err := decodeKeyringValue(v)
		if err != nil {
			return
		}
		if err := c.check(); err != nil {
			t.Fatalf("decoded an invalid credential: %v", err)
		}
		enc, err := encodeKeyringValue(c)
		if err != nil {
			t.Fatalf("cannot encode a decoded credential: %v", err)
		}
		c2, err := decodeKeyringValue(enc)
		if err != nil || !sameCredential(c, c2) {
			t.Fatalf("decode(encode(c)) = %v, %v; want c", c2, err)
		}
		if enc2, _ := encodeKeyringValue(c2); enc2 != enc {
			t.Fatalf("encoding is not stable:\n%q\n%q", enc, enc2)
		}
	})
}
