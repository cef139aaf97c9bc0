//go:build unix

package cache

import (
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// agentAPI is what the conformance suite exercises: a Client, or a Store
// adapted to the same shape.
type agentAPI interface {
	Get(Key) (*Credential, error)
	Put(Key, *Credential) error
	List() ([]Entry, error)
	Clear() error
}

type storeAPI struct{ *Store }

func (s storeAPI) List() ([]Entry, error) { return s.Store.List(), nil }
func (s storeAPI) Clear() error           { s.Store.Clear(); return nil }

// testAgent runs the same checks against any implementation: the Store
// directly, a Client over a pipe, and a Client over a real unix socket.
func testAgent(t *testing.T, a agentAPI, clk *clock) {
	t.Helper()
	if _, err := a.Get(testKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get on an empty agent: %v; want ErrNotFound", err)
	}
	cred := newCredential(t, t0.Add(10*time.Minute))
	if err := a.Put(testKey, cred); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, err := a.Get(testKey)
	if err != nil || !sameCredential(got, cred) {
		t.Fatalf("Get = %v, %v; want the credential put", got, err)
	}
	other := testKey
	other.Fulcio = "https://other-fulcio.example"
	if _, err := a.Get(other); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get for another Fulcio: %v; want ErrNotFound", err)
	}
	list, err := a.List()
	if err != nil || len(list) != 1 || list[0].Key != testKey || !list[0].Leaf.Equal(cred.Leaf()) {
		t.Errorf("List = %v, %v; want the one entry", list, err)
	}
	if err := a.Put(testKey, newCredential(t, t0.Add(30*time.Second))); err == nil {
		t.Error("Put of a credential about to expire succeeded")
	}
	clk.advance(9 * time.Minute)
	if _, err := a.Get(testKey); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after expiry: %v; want ErrNotFound", err)
	}
	clk.set(t0)
	if err := a.Put(testKey, cred); err != nil {
		t.Fatal(err)
	}
	if err := a.Clear(); err != nil {
		t.Fatal(err)
	}
	if list, err := a.List(); err != nil || len(list) != 0 {
		t.Errorf("List after Clear = %v, %v; want nothing", list, err)
	}
}

func TestStoreConformance(t *testing.T) {
	clk := &clock{t: t0}
	testAgent(t, storeAPI{NewStore(clk.now)}, clk)
}

func TestClientOverPipe(t *testing.T) {
	clk := &clock{t: t0}
	srv := &Server{Store: NewStore(clk.now)}
	c1, c2 := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- srv.ServeConn(c2) }()
	cl := NewClient(c1)
	testAgent(t, cl, clk)
	cl.Close()
	if err := <-done; err != nil {
		t.Errorf("ServeConn after the client hung up: %v; want nil", err)
	}
}

func TestClientOverUnixSocket(t *testing.T) {
	clk := &clock{t: t0}
	path := filepath.Join(shortTempDir(t), "agent", "cache.sock")
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Store: NewStore(clk.now)}
	stop := serve(t, srv, l)
	conn, err := Dial(path, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	cl := NewClient(conn)
	testAgent(t, cl, clk)
	cl.Close()
	stop()
}
