package cache

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestStoreExpiry(t *testing.T) {
	clk := &clock{t: t0}
	s := NewStore(clk.now)
	cred := newCredential(t, t0.Add(10*time.Minute))
	if err := s.Put(testKey, cred); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(testKey)
	if err != nil || !sameCredential(got, cred) {
		t.Fatalf("Get = %v, %v; want the stored credential", got, err)
	}
	// Usable until ExpiryMargin before NotAfter, not at that instant.
	clk.set(t0.Add(10*time.Minute - ExpiryMargin - time.Nanosecond))
	if _, err := s.Get(testKey); err != nil {
		t.Fatalf("Get just inside the margin: %v", err)
	}
	clk.set(t0.Add(10*time.Minute - ExpiryMargin))
	if got, err := s.Get(testKey); !errors.Is(err, ErrNotFound) || got != nil {
		t.Fatalf("Get at NotAfter-margin = %v, %v; want ErrNotFound", got, err)
	}
	if s.Len() != 0 {
		t.Errorf("an expired entry stayed in the store")
	}
	// Past NotAfter it is never handed out either, even if put back by a
	// clock that went backwards.
	clk.set(t0)
	if err := s.Put(testKey, cred); err != nil {
		t.Fatal(err)
	}
	clk.set(t0.Add(time.Hour))
	if _, err := s.Get(testKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after NotAfter: %v; want ErrNotFound", err)
	}
}

func TestStoreRefusesWhatItWouldNotHandOut(t *testing.T) {
	clk := &clock{t: t0}
	s := NewStore(clk.now)
	if err := s.Put(testKey, newCredential(t, t0.Add(30*time.Second))); !errors.Is(err, ErrExpired) {
		t.Errorf("Put of a certificate ending within the margin: %v; want ErrExpired", err)
	}
	a, b := newCredential(t, t0.Add(time.Hour)), newCredential(t, t0.Add(time.Hour))
	mixed := &Credential{Key: a.Key, Chain: b.Chain}
	if err := s.Put(testKey, mixed); err == nil {
		t.Error("Put of a key with someone else's certificate succeeded")
	}
	if err := s.Put(Key{Fulcio: "f", Issuer: "i"}, a); err == nil {
		t.Error("Put with an empty client id succeeded")
	}
	if err := s.Put(testKey, &Credential{Key: a.Key}); err == nil {
		t.Error("Put without a chain succeeded")
	}
	if s.Len() != 0 {
		t.Errorf("the store holds %d entries after refused puts", s.Len())
	}
}

func TestStoreKeysAreSeparate(t *testing.T) {
	s := NewStore(func() time.Time { return t0 })
	other := testKey
	other.ClientID = "other"
	a, b := newCredential(t, t0.Add(time.Hour)), newCredential(t, t0.Add(2*time.Hour))
	if err := s.Put(testKey, a); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(other, b); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(testKey); !sameCredential(got, a) {
		t.Error("Get(testKey) returned another key's credential")
	}
	if got, _ := s.Get(other); !sameCredential(got, b) {
		t.Error("Get(other) returned another key's credential")
	}
	// Put replaces.
	c := newCredential(t, t0.Add(time.Hour))
	if err := s.Put(testKey, c); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(testKey); !sameCredential(got, c) {
		t.Error("Put did not replace the credential")
	}
	list, err := s.List()
	if err != nil || len(list) != 2 || list[0].Key != testKey || list[1].Key != other {
		t.Errorf("List = %v, %v; want testKey then other (soonest to expire first)", list, err)
	}
	if err := s.Clear(); err != nil || s.Len() != 0 {
		t.Error("Clear left entries")
	}
}

func TestStorePruneAndCapacity(t *testing.T) {
	clk := &clock{t: t0}
	s := NewStore(clk.now)
	short := newCredential(t, t0.Add(5*time.Minute))
	long := newCredential(t, t0.Add(time.Hour))
	for i := range maxEntries {
		k := testKey
		k.ClientID = fmt.Sprint("client-", i)
		c := long
		if i == 7 {
			c = short
		}
		if err := s.Put(k, c); err != nil {
			t.Fatal(err)
		}
	}
	// A full store makes room by dropping the entry that expires first.
	if err := s.Put(testKey, long); err != nil {
		t.Fatal(err)
	}
	if s.Len() != maxEntries {
		t.Errorf("Len = %d; want %d", s.Len(), maxEntries)
	}
	k7 := testKey
	k7.ClientID = "client-7"
	if _, err := s.Get(k7); !errors.Is(err, ErrNotFound) {
		t.Errorf("the soonest-expiring entry survived eviction")
	}
	clk.advance(2 * time.Hour)
	s.Prune()
	if s.Len() != 0 {
		t.Errorf("Prune left %d expired entries", s.Len())
	}
}
