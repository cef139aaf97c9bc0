package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Mode says which cache gitsign uses (gitsign.cache, GITSIGN_CACHE).
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
	// noteEvery is how often the "no OS keyring" note is repeated.
	noteEvery = 24 * time.Hour
)

// Settings choose and configure the cache for a Session.
type Settings struct {
	Mode Mode
	// Socket is the agent's socket (GITSIGN_CREDENTIAL_CACHE); empty
	// means DefaultSocketPath.
	Socket string
	// Warn, when set, is told why the cache could not be used (an
	// *UnavailableError), at most once per Session; the Session then goes
	// on as if there were no cache. How to word it for the person, and
	// what to suggest, is the caller's business.
	Warn func(error)
	// AgentTimeout bounds each agent operation, connecting included;
	// KeyringTimeout each keyring operation. Zero means the default.
	AgentTimeout, KeyringTimeout time.Duration
	// StateDir holds the marker that keeps the "no OS keyring" note to
	// once a day; empty means the directory of DefaultSocketPath.
	StateDir string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// keyring replaces the OS keyring in tests.
	keyring secrets
}

// A Session is one gitsign process's use of the cache: Get before a
// login, Put after it. It never fails: a cache that cannot be used costs
// at most its timeout and one warning per Session, and then gitsign logs
// in as if there were no cache.
type Session struct {
	set    Settings
	where  string   // what the session uses, for messages
	agent  string   // socket path, when using the agent
	kr     *Keyring // when using the keyring
	warned bool
}

// Open chooses the cache for set. It does not connect to anything.
func Open(set Settings) *Session {
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
	s := &Session{set: set, where: "no cache"}
	switch set.Mode {
	case ModeKeyring:
		s.kr = NewKeyring(set.Now)
		if set.keyring != nil {
			s.kr.secrets = set.keyring
		}
		s.where = "the OS keyring"
	case ModeAuto, ModeAgent, "":
		path := set.Socket
		if path == "" {
			p, err := DefaultSocketPath()
			if err != nil {
				if set.Mode == ModeAgent {
					s.warn(&UnavailableError{Where: "the credential cache agent", Err: err})
				}
				return s
			}
			path = p
			if set.Mode != ModeAgent {
				if _, err := os.Stat(path); err != nil {
					return s // auto: no agent set up
				}
			}
		}
		s.agent = path
		s.where = "the agent at " + path
	}
	return s
}

// Where says what the session uses: "the agent at PATH", "the OS
// keyring" or "no cache".
func (s *Session) Where() string { return s.where }

// Active reports whether there is a cache to ask.
func (s *Session) Active() bool { return s.agent != "" || s.kr != nil }

func (s *Session) warn(err *UnavailableError) {
	if s.warned {
		return
	}
	s.warned = true
	s.set.Warn(err)
}

// unavailable describes err, a failure of the session's cache.
func (s *Session) unavailable(err error) *UnavailableError {
	return &UnavailableError{Where: s.where, Socket: s.agent, Err: err}
}

// Get returns a usable credential for k, or nil: on a miss, or after a
// warning when the cache failed.
func (s *Session) Get(k Key) *Credential {
	if !s.Active() || s.warned {
		return nil
	}
	var c *Credential
	err := s.do(func() error {
		var err error
		if s.kr != nil {
			c, err = s.kr.Get(k)
			return err
		}
		return s.withAgent(func(cl *Client) error {
			c, err = cl.Get(k)
			return err
		})
	})
	switch {
	case err == nil && c.usableAt(s.set.Now()):
		s.keyringWorks()
		return c
	case err == nil || errors.Is(err, ErrNotFound):
		s.keyringWorks()
		return nil
	}
	s.failed(err)
	return nil
}

// Put stores c under k. After a failed Get it does nothing: the person has
// been warned already.
func (s *Session) Put(k Key, c *Credential) {
	if !s.Active() || s.warned {
		return
	}
	err := s.do(func() error {
		if s.kr != nil {
			return s.kr.Put(k, c)
		}
		return s.withAgent(func(cl *Client) error { return cl.Put(k, c) })
	})
	if err == nil {
		s.keyringWorks()
		return
	}
	s.failed(err)
}

// Status lists what is cached: everything the agent holds, or the
// keyring's item for k (the keyring cannot be listed). A cache that cannot
// be asked is an *UnavailableError.
func (s *Session) Status(k Key) ([]Entry, error) {
	if !s.Active() {
		return nil, nil
	}
	var out []Entry
	err := s.do(func() error {
		if s.kr != nil {
			c, err := s.kr.Get(k)
			if err == nil {
				out = []Entry{{Key: k, Leaf: c.Leaf()}}
			}
			if errors.Is(err, ErrNotFound) {
				err = nil
			}
			return err
		}
		return s.withAgent(func(cl *Client) error {
			var err error
			out, err = cl.List()
			return err
		})
	})
	if err != nil {
		return nil, s.unavailable(err)
	}
	return out, nil
}

// Clear forgets what is cached: everything the agent holds, or the
// keyring's item for k. A cache that cannot be asked is an
// *UnavailableError.
func (s *Session) Clear(k Key) error {
	if !s.Active() {
		return nil
	}
	err := s.do(func() error {
		if s.kr != nil {
			return s.kr.Delete(k)
		}
		return s.withAgent(func(cl *Client) error { return cl.Clear() })
	})
	if err != nil {
		return s.unavailable(err)
	}
	return nil
}

func (s *Session) withAgent(f func(*Client) error) error {
	conn, err := Dial(s.agent, s.set.AgentTimeout)
	if err != nil {
		return err
	}
	cl := NewClient(conn)
	defer cl.Close()
	return f(cl)
}

// do runs f with the session's timeout. An operation that overruns is
// abandoned, not waited for: gitsign exits soon after anyway. Agent
// operations also carry a connection deadline of AgentTimeout, which
// normally fires first and says more; this is the backstop.
func (s *Session) do(f func() error) error {
	limit := s.set.AgentTimeout + 500*time.Millisecond
	if s.kr != nil {
		limit = s.set.KeyringTimeout
	}
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		err := fmt.Errorf("cache: no answer from %s within %s", s.where, limit)
		if s.kr != nil {
			// A keyring that hangs (waiting on an unlock prompt nobody
			// sees) is as good as none.
			return &KeyringError{Err: err}
		}
		return err
	}
}

func (s *Session) failed(err error) {
	var ke *KeyringError
	if errors.As(err, &ke) {
		// Said at most once a day: a machine without a keyring stays
		// without one.
		if s.noteDue() {
			s.warn(s.unavailable(err))
		}
		s.warned = true
		return
	}
	s.warn(s.unavailable(err))
}

// UnavailableError says why the credential cache could not be used: Err
// is the cause, a *KeyringError for the OS keyring, an *OwnerError for an
// agent that belongs to another user, or what dialing or talking to the
// agent failed with.
type UnavailableError struct {
	// Where is the cache, as Session.Where says it.
	Where string
	// Socket is the agent's socket, when the cache is the agent.
	Socket string
	Err    error
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// AgentNotRunning reports whether no agent listens on Socket: there is no
// socket there, or a stale one that refuses connections.
func (e *UnavailableError) AgentNotRunning() bool {
	return e.Socket != "" && (errors.Is(e.Err, fs.ErrNotExist) || errors.Is(e.Err, syscall.ECONNREFUSED))
}

func (e *UnavailableError) Error() string {
	var ke *KeyringError
	var oe *OwnerError
	switch {
	case errors.As(e.Err, &ke):
		return fmt.Sprintf("the OS keyring is not available (%v)", ke.Err)
	case e.Socket != "" && errors.Is(e.Err, fs.ErrNotExist):
		return "no credential cache agent is running at " + e.Socket
	case e.Socket != "" && errors.Is(e.Err, syscall.ECONNREFUSED):
		return "the credential cache agent at " + e.Socket + " is not running (connection refused)"
	case e.Socket != "" && errors.As(e.Err, &oe):
		return fmt.Sprintf("not using the credential cache agent at %s: it belongs to uid %d, not to you (uid %d)", e.Socket, oe.UID, oe.You)
	case e.Socket != "":
		return fmt.Sprintf("credential cache agent at %s: %v", e.Socket, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Where, e.Err)
}

// ErrAgentUnsupported is the error of Listen and Dial on systems without
// unix sockets that carry peer credentials.
var ErrAgentUnsupported = errors.New("cache: the agent needs unix sockets with peer credentials, which this system does not have")

func (s *Session) markerPath() string {
	dir := s.set.StateDir
	if dir == "" {
		p, err := DefaultSocketPath()
		if err != nil {
			return ""
		}
		dir = filepath.Dir(p)
	}
	return filepath.Join(dir, "keyring-unavailable")
}

// noteDue reports whether the "no OS keyring" note should be shown now,
// and records that it was. Without a writable state directory it is
// always due.
func (s *Session) noteDue() bool {
	p := s.markerPath()
	if p == "" {
		return true
	}
	if fi, err := os.Stat(p); err == nil && s.set.Now().Sub(fi.ModTime()) < noteEvery {
		return false
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err == nil {
		if f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err == nil {
			f.Close()
			now := s.set.Now()
			os.Chtimes(p, now, now)
		}
	}
	return true
}

// keyringWorks forgets an earlier "no OS keyring" note, so that the next
// outage is reported at once.
func (s *Session) keyringWorks() {
	if s.kr == nil {
		return
	}
	if p := s.markerPath(); p != "" {
		os.Remove(p)
	}
}
