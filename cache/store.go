package cache

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// Store holds credentials in memory, one per Key, each until its
// certificate is within ExpiryMargin of its NotAfter. It is safe for
// concurrent use. The zero value is not usable; call NewStore.
type Store struct {
	now func() time.Time

	mu      sync.Mutex
	entries map[Key]*Credential
}

// NewStore returns an empty store reading the time from now (time.Now
// when nil; tests pass a fake clock).
func NewStore(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{now: now, entries: make(map[Key]*Credential)}
}

// Get returns the credential stored under k, or ErrNotFound if there is
// none or it is no longer usable. An unusable one is dropped.
func (s *Store) Get(k Key) (*Credential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.entries[k]
	if !ok {
		return nil, ErrNotFound
	}
	if !c.usableAt(s.now()) {
		delete(s.entries, k)
		return nil, ErrNotFound
	}
	return c, nil
}

// Put stores c under k, replacing what k held. It refuses a malformed
// credential and one that would not be handed out (ErrExpired). When the
// store is full, the entry that expires first makes room.
func (s *Store) Put(k Key, c *Credential) error {
	if err := k.validate(); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if !c.usableAt(now) {
		return fmt.Errorf("%w (certificate valid until %s)", ErrExpired, c.Leaf().NotAfter.UTC().Format(time.RFC3339))
	}
	s.pruneLocked(now)
	if _, ok := s.entries[k]; !ok && len(s.entries) >= maxEntries {
		var first Key
		var end time.Time
		for ek, ec := range s.entries {
			if end.IsZero() || ec.Leaf().NotAfter.Before(end) {
				first, end = ek, ec.Leaf().NotAfter
			}
		}
		delete(s.entries, first)
	}
	s.entries[k] = c
	return nil
}

// List describes the usable entries, soonest to expire first. It never
// fails.
func (s *Store) List() ([]Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(s.now())
	out := make([]Entry, 0, len(s.entries))
	for k, c := range s.entries {
		out = append(out, Entry{Key: k, Leaf: c.Leaf()})
	}
	sortEntries(out)
	return out, nil
}

// sortEntries orders entries soonest to expire first.
func sortEntries(es []Entry) {
	sort.Slice(es, func(i, j int) bool { return es[i].Leaf.NotAfter.Before(es[j].Leaf.NotAfter) })
}

// Clear forgets every credential. It never fails.
func (s *Store) Clear() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.entries)
	return nil
}

// Prune drops the credentials that are no longer usable, so that their
// keys do not stay in memory until someone asks for them.
func (s *Store) Prune() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(s.now())
}

func (s *Store) pruneLocked(now time.Time) {
	for k, c := range s.entries {
		if !c.usableAt(now) {
			delete(s.entries, k)
		}
	}
}

// Len returns the number of entries held, usable or not.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}
