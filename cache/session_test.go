//go:build unix

package cache

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// warnTo renders the session's warnings one line each, as gitsign does.
func warnTo(b *strings.Builder) func(error) {
	return func(err error) { fmt.Fprintf(b, "gitsign: warning: %v\n", err) }
}

// startAgent serves a fresh store on a socket in a new directory.
func startAgent(t *testing.T) (path string, store *Store) {
	t.Helper()
	path = filepath.Join(shortTempDir(t), "cache.sock")
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	store = NewStore(nil)
	serve(t, &Server{Agent: store}, l)
	return path, store
}

func TestSessionWithAgent(t *testing.T) {
	path, store := startAgent(t)
	var warn strings.Builder
	s := Open(Settings{Mode: ModeAuto, Socket: path, Warn: warnTo(&warn)})
	if !s.Active() || !strings.Contains(s.Where(), path) {
		t.Fatalf("Open = %q, active %v; want the agent at %s", s.Where(), s.Active(), path)
	}
	if c, err := s.Get(testKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get on an empty agent = %v, %v; want ErrNotFound", c, err)
	}
	cred := newCredential(t, time.Now().Add(10*time.Minute))
	if err := s.Put(testKey, cred); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if store.Len() != 1 {
		t.Fatalf("the agent holds %d entries after Put; want 1", store.Len())
	}
	if c, err := Open(Settings{Socket: path}).Get(testKey); err != nil || !sameCredential(c, cred) {
		t.Fatalf("a second session got %v, %v; want the credential", c, err)
	}
	// gitsign checks expiry with its own clock too: an agent whose clock
	// lags (or a buggy one) cannot hand out a certificate about to end.
	later := Open(Settings{Socket: path, Warn: warnTo(&warn), Now: func() time.Time { return time.Now().Add(9*time.Minute + 30*time.Second) }})
	if c, err := later.Get(testKey); !errors.Is(err, ErrNotFound) {
		t.Errorf("a session whose clock is within the margin of NotAfter got %v, %v", c, err)
	}
	if entries, err := later.List(); err != nil || len(entries) != 0 {
		t.Errorf("List by that session = %v, %v; want nothing", entries, err)
	}
	if entries, err := s.List(); err != nil || len(entries) != 1 {
		t.Errorf("List = %v, %v", entries, err)
	}
	if err := s.Clear(); err != nil || store.Len() != 0 {
		t.Errorf("Clear: %v, %d entries left", err, store.Len())
	}
	if warn.Len() != 0 {
		t.Errorf("warnings with a working agent:\n%s", warn.String())
	}
}

func TestSessionAuto(t *testing.T) {
	home := shortTempDir(t)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, "cache"))
	t.Setenv("HOME", home)
	if s := Open(Settings{Mode: ModeAuto}); s.Active() {
		t.Errorf("auto without an agent chose %s", s.Where())
	}
	if s := Open(Settings{Mode: ModeOff, Socket: "/x.sock"}); s.Active() {
		t.Errorf("off chose %s", s.Where())
	}
	var warn strings.Builder
	s := Open(Settings{Mode: ModeAgent, Warn: warnTo(&warn)})
	if _, err := s.Get(testKey); !s.Active() || !errors.Is(err, ErrNotFound) {
		t.Fatalf("agent mode without an agent: active %v, Get %v; want active, ErrNotFound", s.Active(), err)
	}
	if !strings.Contains(warn.String(), "no credential cache agent is running") {
		t.Errorf("warning = %q", warn.String())
	}
	// The default socket exists: auto uses it.
	def, err := DefaultSocketPath()
	if err != nil {
		t.Fatal(err)
	}
	l, err := Listen(def)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, &Server{Agent: NewStore(nil)}, l)
	if s := Open(Settings{Mode: ModeAuto}); !s.Active() || !strings.Contains(s.Where(), def) {
		t.Errorf("auto with the default socket chose %s", s.Where())
	}
}

// A dead or hung agent costs one warning and at most the timeout; Put
// then stays quiet.
func TestSessionBrokenAgent(t *testing.T) {
	dir := shortTempDir(t)
	stale := filepath.Join(dir, "stale.sock")
	dead, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	dead.(*net.UnixListener).SetUnlinkOnClose(false)
	dead.Close()

	hung := filepath.Join(dir, "hung.sock")
	hl, err := net.Listen("unix", hung) // accepts (in the kernel), never answers
	if err != nil {
		t.Fatal(err)
	}
	defer hl.Close()

	for _, tt := range []struct{ path, want string }{
		{stale, "connection refused"},
		{hung, "i/o timeout"},
		{filepath.Join(dir, "missing.sock"), "no credential cache agent is running"},
	} {
		var warn strings.Builder
		s := Open(Settings{Socket: tt.path, Warn: warnTo(&warn), AgentTimeout: 300 * time.Millisecond})
		start := time.Now()
		if c, err := s.Get(testKey); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s: Get = %v, %v; want ErrNotFound", tt.path, c, err)
		}
		if err := s.Put(testKey, newCredential(t, time.Now().Add(time.Hour))); err != nil {
			t.Errorf("%s: Put = %v; want nil", tt.path, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: Get and Put took %s", tt.path, d)
		}
		if n := strings.Count(warn.String(), "gitsign: warning: "); n != 1 || !strings.Contains(warn.String(), tt.want) {
			t.Errorf("%s: warnings %q; want one mentioning %q", tt.path, warn.String(), tt.want)
		}
	}
}

func TestSessionKeyring(t *testing.T) {
	if s := Open(Settings{Mode: ModeKeyring}); !s.Active() || s.Where() != "the OS keyring" {
		t.Errorf("keyring mode chose %q", s.Where())
	}
	state := shortTempDir(t)
	mem := newMemSecrets()
	var warn strings.Builder
	open := func() *Session {
		kr := &Keyring{now: time.Now, secrets: mem}
		return newSession(kr, Settings{Mode: ModeKeyring, Warn: warnTo(&warn), StateDir: state, KeyringTimeout: 300 * time.Millisecond})
	}
	s := open()
	if _, err := s.Get(testKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get on an empty keyring: %v; want ErrNotFound", err)
	}
	cred := newCredential(t, time.Now().Add(10*time.Minute))
	if err := s.Put(testKey, cred); err != nil {
		t.Fatal(err)
	}
	if c, err := open().Get(testKey); err != nil || !sameCredential(c, cred) {
		t.Fatalf("next session got %v, %v", c, err)
	}
	if entries, err := open().List(); err != nil || len(entries) != 1 || entries[0].Key != testKey {
		t.Fatalf("next session lists %v, %v; want the credential", entries, err)
	}

	// No keyring: said once (across sessions), then quiet; the session
	// behaves as an empty cache, and List and Clear say why.
	mem.err = errTestNoKeyring
	for range 3 {
		s := open()
		if c, err := s.Get(testKey); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get without a keyring = %v, %v; want ErrNotFound", c, err)
		}
		if err := s.Put(testKey, cred); err != nil {
			t.Fatalf("Put without a keyring = %v; want nil", err)
		}
	}
	if n := strings.Count(warn.String(), "the OS keyring is not available"); n != 1 {
		t.Errorf("the no-keyring note appeared %d times; want once:\n%s", n, warn.String())
	}
	var ue *UnavailableError
	if _, err := open().List(); !errors.As(err, &ue) || !errors.Is(err, errTestNoKeyring) {
		t.Errorf("List without a keyring: %v; want an *UnavailableError", err)
	}
	if err := open().Clear(); !errors.As(err, &ue) || !errors.Is(err, errTestNoKeyring) {
		t.Errorf("Clear without a keyring: %v; want an *UnavailableError", err)
	}
	// Once the keyring works again, the next outage is reported again.
	mem.err = nil
	open().Get(testKey)
	mem.err = errTestNoKeyring
	open().Get(testKey)
	if n := strings.Count(warn.String(), "the OS keyring is not available"); n != 2 {
		t.Errorf("the note appeared %d times after an outage, recovery, outage; want 2", n)
	}
	// A keyring that never answers (a prompt nobody sees) costs the timeout.
	mem.err = nil
	mem.hang = make(chan struct{})
	defer close(mem.hang)
	os.Remove(filepath.Join(state, "keyring-unavailable"))
	warn.Reset()
	start := time.Now()
	if c, err := open().Get(testKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get from a hung keyring = %v, %v; want ErrNotFound", c, err)
	}
	if d := time.Since(start); d > 2*time.Second || !strings.Contains(warn.String(), "no answer") {
		t.Errorf("hung keyring: %s, warning %q", d, warn.String())
	}
	if _, err := os.Stat(filepath.Join(state, "keyring-unavailable")); err != nil {
		t.Errorf("no marker after the note: %v", err)
	}
}

var errTestNoKeyring = &testError{"dbus: session bus is not available"}

type testError struct{ s string }

func (e *testError) Error() string { return e.s }

// TestUnavailableError: a cache that cannot be asked is one typed error,
// for warnings and for List and Clear alike, saying whether an agent
// could be started there.
func TestUnavailableError(t *testing.T) {
	dir := shortTempDir(t)
	missing := filepath.Join(dir, "missing.sock")
	var got []error
	s := Open(Settings{Mode: ModeAgent, Socket: missing, Warn: func(err error) { got = append(got, err) }})
	s.Get(testKey)
	s.Put(testKey, newCredential(t, time.Now().Add(time.Hour)))
	_, listErr := s.List()
	clearErr := s.Clear()
	if len(got) != 1 {
		t.Fatalf("%d warnings, want 1: %v", len(got), got)
	}
	for _, err := range []error{got[0], listErr, clearErr} {
		var ue *UnavailableError
		if !errors.As(err, &ue) || !ue.AgentNotRunning() || ue.Socket != missing {
			t.Errorf("%T %v: want an *UnavailableError for a missing agent at %s", err, err, missing)
			continue
		}
		if want := "no credential cache agent is running at " + missing; err.Error() != want {
			t.Errorf("message %q, want %q", err.Error(), want)
		}
		if strings.Contains(err.Error(), "GITSIGN_") || strings.Contains(err.Error(), "gitsign.") {
			t.Errorf("the library names a setting: %q", err.Error())
		}
	}
}
