package cache

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// keyN is a distinct key for index tests.
func keyN(i int) Key {
	k := testKey
	k.ClientID = fmt.Sprint("client-", i)
	return k
}

// Credentials stored before the index existed stay readable; the index
// lists only what Put recorded.
func TestKeyringReadsItemsWithoutIndex(t *testing.T) {
	mem := newMemSecrets()
	kr := &Keyring{now: func() time.Time { return t0 }, secrets: mem}
	cred := newCredential(t, t0.Add(time.Hour))
	v, err := encodeKeyringValue(cred)
	if err != nil {
		t.Fatal(err)
	}
	mem.set(KeyringService, testKey.String(), v)
	if got, err := kr.Get(testKey); err != nil || !sameCredential(got, cred) {
		t.Fatalf("Get of an item without an index = %v, %v; want the credential", got, err)
	}
	if list, err := kr.List(); err != nil || len(list) != 0 {
		t.Errorf("List without an index = %v, %v; want nothing, no error", list, err)
	}
	other := keyN(1)
	if err := kr.Put(other, cred); err != nil {
		t.Fatal(err)
	}
	if list, err := kr.List(); err != nil || len(list) != 1 || list[0].Key != other {
		t.Errorf("List = %v, %v; want the key put", list, err)
	}
}

// A corrupt index breaks neither Get nor Put, and the next Put replaces
// it.
func TestKeyringCorruptIndex(t *testing.T) {
	for _, bad := range []string{
		"hunter2",
		keyringIndexPrefix + "\n\n%zz\nfulcio=x\n" + strings.Repeat("a", 100),
		keyringIndexPrefix + strings.Repeat("x", maxIndexBytes),
	} {
		mem := newMemSecrets()
		kr := &Keyring{now: func() time.Time { return t0 }, secrets: mem}
		mem.set(keyringIndexService, keyringIndexAccount, bad)
		if list, err := kr.List(); err != nil || len(list) != 0 {
			t.Errorf("List with index %.20q = %v, %v; want nothing", bad, list, err)
		}
		cred := newCredential(t, t0.Add(time.Hour))
		if err := kr.Put(testKey, cred); err != nil {
			t.Fatalf("Put with index %.20q: %v", bad, err)
		}
		if got, err := kr.Get(testKey); err != nil || !sameCredential(got, cred) {
			t.Errorf("Get with index %.20q = %v, %v", bad, got, err)
		}
		if list, err := kr.List(); err != nil || len(list) != 1 || list[0].Key != testKey {
			t.Errorf("List after Put = %v, %v; want the key put", list, err)
		}
	}
}

// An index that cannot be read or written costs its listing, not the
// credential.
func TestKeyringIndexFailureKeepsPut(t *testing.T) {
	mem := newMemSecrets()
	kr := &Keyring{now: func() time.Time { return t0 }, secrets: indexFails{mem}}
	cred := newCredential(t, t0.Add(time.Hour))
	if err := kr.Put(testKey, cred); err != nil {
		t.Fatalf("Put while the index fails: %v", err)
	}
	if got, err := kr.Get(testKey); err != nil || !sameCredential(got, cred) {
		t.Errorf("Get = %v, %v; want the credential", got, err)
	}
	var ke *KeyringError
	if _, err := kr.List(); !errors.As(err, &ke) {
		t.Errorf("List while the index fails: %v; want a *KeyringError", err)
	}
}

// indexFails is a keyring whose index item cannot be used.
type indexFails struct{ *memSecrets }

func (f indexFails) Get(s, u string) (string, error) {
	if s == keyringIndexService {
		return "", errors.New("index locked")
	}
	return f.memSecrets.Get(s, u)
}

func (f indexFails) Set(s, u, p string) error {
	if s == keyringIndexService {
		return errors.New("index locked")
	}
	return f.memSecrets.Set(s, u, p)
}

// The index, and so what the keyring holds, is bounded: past
// maxIndexKeys the key put longest ago makes room, item and all.
func TestKeyringIndexBound(t *testing.T) {
	mem := newMemSecrets()
	kr := &Keyring{now: func() time.Time { return t0 }, secrets: mem}
	cred := newCredential(t, t0.Add(time.Hour))
	const n = maxIndexKeys + 4
	for i := range n {
		if err := kr.Put(keyN(i), cred); err != nil {
			t.Fatal(err)
		}
	}
	// The index now names keys first to n-1. Putting first again moves it
	// to the newest place, so key n makes room by evicting first+1.
	first := n - maxIndexKeys
	if err := kr.Put(keyN(first), cred); err != nil {
		t.Fatal(err)
	}
	if err := kr.Put(keyN(n), cred); err != nil {
		t.Fatal(err)
	}
	list, err := kr.List()
	if err != nil || len(list) != maxIndexKeys {
		t.Fatalf("List = %d entries, %v; want %d", len(list), err, maxIndexKeys)
	}
	if mem.len() != maxIndexKeys+1 {
		t.Errorf("the keyring holds %d items; want %d and the index", mem.len(), maxIndexKeys)
	}
	for i := range n + 1 {
		kept := i >= first && i != first+1
		if _, err := kr.Get(keyN(i)); (err == nil) != kept {
			t.Errorf("key %d: Get = %v; want kept %v", i, err, kept)
		}
	}
	if err := kr.Clear(); err != nil || mem.len() != 0 {
		t.Errorf("Clear = %v, leaving %d items", err, mem.len())
	}
}

// Where an item's size is limited (Windows), the index drops its oldest
// keys to fit, never the newest.
func TestKeyringIndexTooBig(t *testing.T) {
	mem := newMemSecrets()
	limit := len(encodeIndex([]Key{keyN(0), keyN(1)}))
	kr := &Keyring{now: func() time.Time { return t0 }, secrets: indexLimit{mem, limit}}
	cred := newCredential(t, t0.Add(time.Hour))
	for i := range 3 {
		if err := kr.Put(keyN(i), cred); err != nil {
			t.Fatal(err)
		}
	}
	list, err := kr.List()
	if err != nil || len(list) != 2 || !(list[0].Key == keyN(1) && list[1].Key == keyN(2) || list[0].Key == keyN(2) && list[1].Key == keyN(1)) {
		t.Errorf("List = %v, %v; want keys 1 and 2", list, err)
	}
	if _, err := kr.Get(keyN(0)); !errors.Is(err, ErrNotFound) {
		t.Errorf("the evicted credential is still there: %v", err)
	}
	// The newest key alone too big for the index: stored, unlisted.
	big := testKey
	big.Issuer = "https://issuer.example/" + strings.Repeat("p", limit)
	if err := kr.Put(big, cred); err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Get(big); err != nil {
		t.Errorf("a credential whose key does not fit the index: %v", err)
	}
}

// indexLimit is a keyring that refuses an index item longer than max.
type indexLimit struct {
	*memSecrets
	max int
}

func (l indexLimit) Set(s, u, p string) error {
	if s == keyringIndexService && len(p) > l.max {
		return keyring.ErrSetDataTooBig
	}
	return l.memSecrets.Set(s, u, p)
}

// FuzzIndex: whatever the index item holds, it names at most
// maxIndexKeys distinct valid keys, and writing them back reads the same.
func FuzzIndex(f *testing.F) {
	f.Add(encodeIndex([]Key{testKey, keyN(1)}))
	f.Add(keyringIndexPrefix)
	f.Add(keyringIndexPrefix + "fulcio=a&issuer=b&client_id=c\nfulcio=a&issuer=b&client_id=c")
	f.Fuzz(func(t *testing.T, v string) {
		keys := decodeIndex(v)
		if len(keys) > maxIndexKeys {
			t.Fatalf("%d keys", len(keys))
		}
		seen := map[Key]bool{}
		for _, k := range keys {
			if err := k.validate(); err != nil || seen[k] {
				t.Fatalf("key %v: invalid (%v) or repeated", k, err)
			}
			seen[k] = true
		}
		again := decodeIndex(encodeIndex(keys))
		if fmt.Sprint(again) != fmt.Sprint(keys) {
			t.Fatalf("decode(encode(%v)) = %v", keys, again)
		}
	})
}
