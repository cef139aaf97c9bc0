//go:build unix

package cache

import (
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testAgent runs the same checks against any Agent. strict says whether
// a refused Put is an error: a Session reports it to Settings.Warn and
// returns nil instead (and then behaves as an empty cache, so the suite
// does not try).
func testAgent(t *testing.T, a Agent, clk *clock, strict bool) {
	t.Helper()
	clk.set(t0)
	other := testKey
	other.Fulcio = "https://other-fulcio.example"

	if _, err := a.Get(testKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get on an empty agent: %v; want ErrNotFound", err)
	}
	wantKeys(t, "List of an empty agent", a)

	cred := newCredential(t, t0.Add(10*time.Minute))
	if err := a.Put(testKey, cred); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if got, err := a.Get(testKey); err != nil || !sameCredential(got, cred) {
		t.Fatalf("Get = %v, %v; want the credential put", got, err)
	}
	if _, err := a.Get(other); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get for another Fulcio: %v; want ErrNotFound", err)
	}
	list := wantKeys(t, "List after one Put", a, testKey)
	if len(list) == 1 && !list[0].Leaf.Equal(cred.Leaf()) {
		t.Errorf("List shows certificate %s; want the one put", list[0].Leaf.SerialNumber)
	}
	if strict {
		if err := a.Put(testKey, newCredential(t, t0.Add(30*time.Second))); err == nil {
			t.Error("Put of a credential about to expire succeeded")
		}
		if got, err := a.Get(testKey); err != nil || !sameCredential(got, cred) {
			t.Errorf("Get after a refused Put = %v, %v; want the earlier credential", got, err)
		}
	}

	// A second key, expiring later, then Put over the first: List puts
	// the sooner to expire first, whatever the order of the puts.
	later := newCredential(t, t0.Add(time.Hour))
	if err := a.Put(other, later); err != nil {
		t.Fatalf("Put(other): %v", err)
	}
	repl := newCredential(t, t0.Add(20*time.Minute))
	if err := a.Put(testKey, repl); err != nil {
		t.Fatalf("Put over an entry: %v", err)
	}
	if got, err := a.Get(testKey); err != nil || !sameCredential(got, repl) {
		t.Fatalf("Get after replacing = %v, %v; want the replacement", got, err)
	}
	wantKeys(t, "List of two", a, testKey, other)

	// Within ExpiryMargin of its end an entry is neither handed out nor
	// listed.
	clk.set(t0.Add(20*time.Minute - ExpiryMargin))
	if _, err := a.Get(testKey); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get within the margin: %v; want ErrNotFound", err)
	}
	wantKeys(t, "List after one expired", a, other)
	if got, err := a.Get(other); err != nil || !sameCredential(got, later) {
		t.Errorf("Get(other) = %v, %v; want its credential", got, err)
	}

	clk.set(t0)
	if err := a.Put(testKey, cred); err != nil {
		t.Fatal(err)
	}
	if err := a.Clear(); err != nil {
		t.Fatalf("Clear: %v", err)
	}
	for _, k := range []Key{testKey, other} {
		if _, err := a.Get(k); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get after Clear: %v; want ErrNotFound", err)
		}
	}
	wantKeys(t, "List after Clear", a)
}

// wantKeys checks that a lists exactly keys, in that order.
func wantKeys(t *testing.T, what string, a Agent, keys ...Key) []Entry {
	t.Helper()
	list, err := a.List()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	got := make([]Key, len(list))
	for i, e := range list {
		got[i] = e.Key
	}
	if len(got) != len(keys) {
		t.Errorf("%s = %v; want %v", what, got, keys)
		return list
	}
	for i := range keys {
		if got[i] != keys[i] {
			t.Errorf("%s = %v; want %v", what, got, keys)
			break
		}
	}
	return list
}

// quiet fails the test if the session warns.
func quiet(t *testing.T) func(error) {
	return func(err error) { t.Errorf("unexpected warning: %v", err) }
}

// overPipe serves a on one end of a pipe and returns a Client on the
// other.
func overPipe(t *testing.T, a Agent) *Client {
	t.Helper()
	c1, c2 := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- (&Server{Agent: a}).ServeConn(c2) }()
	cl := NewClient(c1)
	t.Cleanup(func() {
		cl.Close()
		if err := <-done; err != nil {
			t.Errorf("ServeConn after the client hung up: %v; want nil", err)
		}
	})
	return cl
}

// agentAtSocket serves a Store reading clk on a new unix socket.
func agentAtSocket(t *testing.T, clk *clock) string {
	t.Helper()
	path := filepath.Join(shortTempDir(t), "agent", "cache.sock")
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, &Server{Agent: NewStore(clk.now)}, l)
	return path
}

func testKeyring(clk *clock) *Keyring {
	return &Keyring{now: clk.now, secrets: newMemSecrets()}
}

func TestConformance(t *testing.T) {
	for _, tt := range []struct {
		name   string
		agent  func(*testing.T, *clock) Agent
		strict bool
	}{
		{"Store", func(_ *testing.T, clk *clock) Agent { return NewStore(clk.now) }, true},
		{"Client/pipe", func(t *testing.T, clk *clock) Agent { return overPipe(t, NewStore(clk.now)) }, true},
		{"Client/unix", func(t *testing.T, clk *clock) Agent {
			conn, err := Dial(agentAtSocket(t, clk), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			conn.SetDeadline(time.Time{})
			cl := NewClient(conn)
			t.Cleanup(func() { cl.Close() })
			return cl
		}, true},
		{"Keyring", func(_ *testing.T, clk *clock) Agent { return testKeyring(clk) }, true},
		// The server serves any Agent.
		{"Client/pipe/Keyring", func(t *testing.T, clk *clock) Agent { return overPipe(t, testKeyring(clk)) }, true},
		{"Session/Store", func(t *testing.T, clk *clock) Agent {
			return newSession(NewStore(clk.now), Settings{Now: clk.now, Warn: quiet(t)})
		}, false},
		{"Session/agent", func(t *testing.T, clk *clock) Agent {
			return Open(Settings{Mode: ModeAgent, Socket: agentAtSocket(t, clk), Now: clk.now, Warn: quiet(t)})
		}, false},
		{"Session/Keyring", func(t *testing.T, clk *clock) Agent {
			return newSession(testKeyring(clk), Settings{Now: clk.now, Warn: quiet(t), StateDir: shortTempDir(t)})
		}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: t0}
			testAgent(t, tt.agent(t, clk), clk, tt.strict)
		})
	}
}

// brokenAgent fails every operation.
type brokenAgent struct{ err error }

func (b brokenAgent) Get(Key) (*Credential, error) { return nil, b.err }
func (b brokenAgent) Put(Key, *Credential) error   { return b.err }
func (b brokenAgent) List() ([]Entry, error)       { return nil, b.err }
func (b brokenAgent) Clear() error                 { return b.err }

// An Agent that fails behind a Server fails on the Client's side too, as
// a refusal, not as a miss.
func TestServerPassesOnFailures(t *testing.T) {
	cl := overPipe(t, brokenAgent{errors.New("cache: the disk is on fire")})
	_, getErr := cl.Get(testKey)
	putErr := cl.Put(testKey, newCredential(t, time.Now().Add(time.Hour)))
	_, listErr := cl.List()
	clearErr := cl.Clear()
	for _, err := range []error{getErr, putErr, listErr, clearErr} {
		var ae *AgentError
		if !errors.As(err, &ae) || ae.Code != CodeBadRequest || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "the disk is on fire") {
			t.Errorf("%v: want a bad-request refusal carrying the agent's error", err)
		}
	}
	cl = overPipe(t, brokenAgent{ErrNotFound})
	if _, err := cl.Get(testKey); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get from an agent that misses: %v; want ErrNotFound", err)
	}
}
