package cache

import (
	"errors"
	"fmt"
	"io"
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
	// Warn receives warnings for the person, one line each.
	Warn io.Writer
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
		set.Warn = io.Discard
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
					s.warn("%v; signing without a cache", err)
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

func (s *Session) warn(format string, args ...any) {
	if s.warned {
		return
	}
	s.warned = true
	fmt.Fprintf(s.set.Warn, "gitsign: warning: "+format+"\n", args...)
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
// keyring's item for k (the keyring cannot be listed).
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
	return out, err
}

// Clear forgets what is cached: everything the agent holds, or the
// keyring's item for k.
func (s *Session) Clear(k Key) error {
	if !s.Active() {
		return nil
	}
	return s.do(func() error {
		if s.kr != nil {
			return s.kr.Delete(k)
		}
		return s.withAgent(func(cl *Client) error { return cl.Clear() })
	})
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
	var oe *OwnerError
	switch {
	case errors.As(err, &ke):
		if s.noteDue() {
			s.warn("the OS keyring is not available (%v); logging in without a cache. This note is shown once a day; set gitsign.cache=off to stop using the keyring", ke.Err)
		}
		s.warned = true
	case s.agent != "" && errors.Is(err, fs.ErrNotExist):
		s.warn("no credential cache agent is running at %s; logging in without it (start gitsign-credential-cache, or unset GITSIGN_CREDENTIAL_CACHE)", s.agent)
	case s.agent != "" && errors.Is(err, syscall.ECONNREFUSED):
		s.warn("the credential cache agent at %s is not running (connection refused); logging in without it", s.agent)
	case errors.As(err, &oe):
		s.warn("not using the credential cache agent at %s: it belongs to uid %d, not to you (uid %d); logging in without it", s.agent, oe.UID, oe.You)
	case s.agent != "":
		s.warn("credential cache agent at %s: %v; logging in without it", s.agent, err)
	default:
		s.warn("%s: %v; logging in without it", s.where, err)
	}
}

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
