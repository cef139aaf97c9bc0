package cache

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Mode says which cache a Session uses.
type Mode string

// Modes.
const (
	// ModeAuto uses the agent when one is configured (a socket path is
	// set) or when its default socket exists, and nothing otherwise.
	ModeAuto Mode = "auto"
	// ModeAgent always uses the agent, and warns when it is not running.
	ModeAgent Mode = "agent"
	// ModeKeyring uses the OS keyring.
	ModeKeyring Mode = "keyring"
	// ModeOff never caches: every signature is a new login.
	ModeOff Mode = "off"
)

// Defaults for Settings.
const (
	DefaultAgentTimeout   = 2 * time.Second
	DefaultKeyringTimeout = 10 * time.Second
)

// Settings choose and configure the cache for a Session.
type Settings struct {
	// Mode chooses the cache; empty means ModeAuto.
	Mode Mode
	// Socket is the agent's socket; empty means DefaultSocketPath.
	Socket string
	// Warn, when set, is told why the cache could not be used (an
	// *UnavailableError), at most once per Session; the Session then goes
	// on as if the cache were empty. How to word it for the person, and
	// what to suggest, is the caller's business.
	Warn func(error)
	// AgentTimeout bounds each agent operation, connecting included;
	// KeyringTimeout each keyring operation. Zero means the default.
	AgentTimeout, KeyringTimeout time.Duration
	// StateDir holds the marker that keeps the "no OS keyring" warning
	// to once a day; empty means the directory of DefaultSocketPath.
	StateDir string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (set Settings) withDefaults() Settings {
	if set.Warn == nil {
		set.Warn = func(error) {}
	}
	if set.Now == nil {
		set.Now = time.Now
	}
	if set.AgentTimeout <= 0 {
		set.AgentTimeout = DefaultAgentTimeout
	}
	if set.KeyringTimeout <= 0 {
		set.KeyringTimeout = DefaultKeyringTimeout
	}
	return set
}

// A Session is one gitsign process's use of the cache that Settings
// choose: it wraps that Agent (the agent's Client, or the Keyring) and is
// an Agent itself, one that never stands in the way of a signature. A
// cache that cannot be used costs at most its timeout and one warning
// (Settings.Warn) per Session, and then behaves as an empty one: Get
// misses and Put does nothing. Only List and Clear return the failure, an
// *UnavailableError, for commands that show or clear the cache. Get also
// checks expiry with the Session's own clock, whatever the agent's says.
// A Session is safe for concurrent use.
type Session struct {
	set     Settings
	agent   Agent  // nil: no cache
	where   string // what the session uses, for messages
	socket  string // the agent's socket, when the cache is the agent
	keyring bool   // the cache is the OS keyring

	mu     sync.Mutex
	warned bool
}

// Open chooses the cache for set. It does not connect to anything.
func Open(set Settings) *Session {
	set = set.withDefaults()
	switch set.Mode {
	case ModeKeyring:
		return newSession(NewKeyring(set.Now), set)
	case ModeAuto, ModeAgent, "":
		path := set.Socket
		if path == "" {
			p, err := DefaultSocketPath()
			if err != nil {
				s := newSession(nil, set)
				if set.Mode == ModeAgent {
					s.warn(&UnavailableError{Where: "the credential cache agent", Err: err})
				}
				return s
			}
			path = p
			if set.Mode != ModeAgent {
				if _, err := os.Stat(path); err != nil {
					return newSession(nil, set) // auto: no agent set up
				}
			}
		}
		return newSession(socketAgent{path: path, timeout: set.AgentTimeout}, set)
	}
	return newSession(nil, set)
}

// newSession wraps a (nil for no cache).
func newSession(a Agent, set Settings) *Session {
	s := &Session{set: set.withDefaults(), agent: a}
	switch a := a.(type) {
	case nil:
		s.where = "no cache"
	case *Keyring:
		s.where, s.keyring = "the OS keyring", true
	case socketAgent:
		s.where, s.socket = "the agent at "+a.path, a.path
	default:
		s.where = "the credential cache"
	}
	return s
}

// Where says what the session uses: "the agent at PATH", "the OS
// keyring" or "no cache".
func (s *Session) Where() string { return s.where }

// Active reports whether there is a cache to ask.
func (s *Session) Active() bool { return s.agent != nil }

// Get returns a usable credential for k. It returns an error matching
// ErrNotFound on a miss, and after the cache failed (once reported to
// Settings.Warn).
func (s *Session) Get(k Key) (*Credential, error) {
	if s.agent == nil || s.hasWarned() {
		return nil, ErrNotFound
	}
	c, err := run(s, func() (*Credential, error) { return s.agent.Get(k) })
	switch {
	case err == nil && c != nil && c.usableAt(s.set.Now()):
		s.keyringWorks()
		return c, nil
	case err == nil || errors.Is(err, ErrNotFound):
		s.keyringWorks()
		return nil, ErrNotFound
	}
	s.failed(err)
	return nil, ErrNotFound
}

// Put stores c under k. It returns nil even when the cache failed (that
// is reported to Settings.Warn), and does nothing after a failure.
func (s *Session) Put(k Key, c *Credential) error {
	if s.agent == nil || s.hasWarned() {
		return nil
	}
	_, err := run(s, func() (struct{}, error) { return struct{}{}, s.agent.Put(k, c) })
	if err != nil {
		s.failed(err)
		return nil
	}
	s.keyringWorks()
	return nil
}

// List describes what is cached and usable: nothing without a cache. A
// cache that cannot be asked is an *UnavailableError.
func (s *Session) List() ([]Entry, error) {
	if s.agent == nil {
		return nil, nil
	}
	entries, err := run(s, s.agent.List)
	if err != nil {
		return nil, s.unavailable(err)
	}
	now := s.set.Now()
	out := make([]Entry, 0, len(entries))
	for _, e := range entries {
		if e.Leaf != nil && now.Add(ExpiryMargin).Before(e.Leaf.NotAfter) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Clear forgets everything the cache holds. A cache that cannot be asked
// is an *UnavailableError.
func (s *Session) Clear() error {
	if s.agent == nil {
		return nil
	}
	if _, err := run(s, func() (struct{}, error) { return struct{}{}, s.agent.Clear() }); err != nil {
		return s.unavailable(err)
	}
	return nil
}

// run calls f with the session's timeout. A call that overruns is
// abandoned, not waited for: gitsign exits soon after anyway. Agent
// operations also carry a connection deadline of AgentTimeout, which
// normally fires first and says more; this is the backstop.
func run[T any](s *Session, f func() (T, error)) (T, error) {
	limit := s.set.AgentTimeout + 500*time.Millisecond
	if s.keyring {
		limit = s.set.KeyringTimeout
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-time.After(limit):
		var zero T
		err := fmt.Errorf("cache: no answer from %s within %s", s.where, limit)
		if s.keyring {
			// A keyring that hangs (waiting on an unlock prompt nobody
			// sees) is as good as none.
			return zero, &KeyringError{Err: err}
		}
		return zero, err
	}
}
