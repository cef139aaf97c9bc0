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

// noteEvery is how often the "no OS keyring" warning is repeated.
const noteEvery = 24 * time.Hour

// unavailable describes err, a failure of the session's cache.
func (s *Session) unavailable(err error) *UnavailableError {
	return &UnavailableError{Where: s.where, Socket: s.socket, Err: err}
}

func (s *Session) hasWarned() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.warned
}

// warn reports err, the first time only.
func (s *Session) warn(err *UnavailableError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.warned {
		s.warned = true
		s.set.Warn(err)
	}
}

// failed reports err, a failure of the cache, and makes the session
// behave as an empty cache from now on.
func (s *Session) failed(err error) {
	var ke *KeyringError
	if errors.As(err, &ke) && !s.noteDue() {
		// Said at most once a day: a machine without a keyring stays
		// without one.
		s.mu.Lock()
		s.warned = true
		s.mu.Unlock()
		return
	}
	s.warn(s.unavailable(err))
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

// noteDue reports whether the "no OS keyring" warning should be shown
// now, and records that it was. Without a writable state directory it is
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

// keyringWorks forgets an earlier "no OS keyring" warning, so that the
// next outage is reported at once.
func (s *Session) keyringWorks() {
	if !s.keyring {
		return
	}
	if p := s.markerPath(); p != "" {
		os.Remove(p)
	}
}
