//go:build unix

package cache

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// shortTempDir returns a temporary directory with a short path: unix
// socket paths are limited to about 100 bytes.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "gsc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// serve runs srv on l and returns a function that stops it and checks
// that Serve returned nil.
func serve(t *testing.T, srv *Server, l net.Listener) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Error("Serve did not return after cancellation")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// flakyListener fails Accept with the given errors, then accepts from l.
type flakyListener struct {
	net.Listener
	mu   sync.Mutex
	errs []error
}

func (f *flakyListener) Accept() (net.Conn, error) {
	f.mu.Lock()
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		f.mu.Unlock()
		return nil, err
	}
	f.mu.Unlock()
	return f.Listener.Accept()
}

func TestServeSurvivesTemporaryAcceptErrors(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "s.sock")
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	flaky := &flakyListener{Listener: l, errs: []error{
		&net.OpError{Op: "accept", Err: os.NewSyscallError("accept4", syscall.EMFILE)},
		&net.OpError{Op: "accept", Err: os.NewSyscallError("accept4", syscall.ECONNABORTED)},
		&net.OpError{Op: "accept", Err: os.NewSyscallError("accept4", syscall.ENFILE)},
	}}
	var logs strings.Builder
	srv := &Server{Agent: NewStore(nil), Log: newTestLogger(&logs)}
	stop := serve(t, srv, flaky)
	conn, err := Dial(path, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := NewClient(conn).List(); err != nil {
		t.Fatalf("List after temporary accept errors: %v", err)
	}
	stop()
	if n := strings.Count(logs.String(), "temporary accept error"); n != 3 {
		t.Errorf("logged %d temporary accept errors; want 3:\n%s", n, logs.String())
	}
}

func TestServeReturnsOtherAcceptErrors(t *testing.T) {
	l, err := Listen(filepath.Join(shortTempDir(t), "s.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	bad := &flakyListener{Listener: l, errs: []error{errors.New("listener broke")}}
	err = (&Server{Agent: NewStore(nil)}).Serve(context.Background(), bad)
	if err == nil || !strings.Contains(err.Error(), "listener broke") {
		t.Errorf("Serve = %v; want the accept error", err)
	}
}

func TestServeRefusesOtherUsers(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "s.sock")
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	store := NewStore(nil)
	if err := store.Put(testKey, newCredential(t, time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	// The check itself is SameUser; pretend this agent runs as another uid.
	srv := &Server{Agent: store, Log: newTestLogger(&logs), Allow: func(c net.Conn) error {
		uid, err := PeerUID(c)
		if err != nil {
			return err
		}
		if uid != os.Getuid()+1 {
			return errors.New("uid mismatch")
		}
		return nil
	}}
	stop := serve(t, srv, l)
	conn, err := Dial(path, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if c, err := NewClient(conn).Get(testKey); err == nil {
		t.Fatalf("refused peer got %v", c)
	}
	stop()
	if !strings.Contains(logs.String(), "refused connection") {
		t.Errorf("refusal not logged:\n%s", logs.String())
	}
}

func TestSameUser(t *testing.T) {
	a, b, err := socketPair()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	if uid, err := PeerUID(a); err != nil || uid != os.Getuid() {
		t.Errorf("PeerUID = %d, %v; want %d", uid, err, os.Getuid())
	}
	if err := SameUser(a); err != nil {
		t.Errorf("SameUser on our own connection: %v", err)
	}
	p1, p2 := net.Pipe()
	defer p1.Close()
	defer p2.Close()
	if err := SameUser(p1); err == nil {
		t.Error("SameUser accepted a connection without peer credentials")
	}
}

func socketPair() (net.Conn, net.Conn, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return nil, nil, err
	}
	conns := make([]net.Conn, 2)
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			return nil, nil, err
		}
		conns[i] = c
	}
	return conns[0], conns[1], nil
}

func TestServeConnAnswersOtherVersionsAndHangsUp(t *testing.T) {
	c1, c2 := net.Pipe()
	defer c1.Close()
	done := make(chan error, 1)
	go func() { done <- (&Server{Agent: NewStore(nil)}).ServeConn(c2) }()
	go c1.Write(frame([]byte{2, byte(msgList)}))
	reply, err := readMessage(c1)
	if err != nil || reply.typ != msgFailure || reply.code != CodeUnsupportedVersion {
		t.Fatalf("reply to version 2 = %+v, %v; want FAILURE unsupported-version", reply, err)
	}
	if err := <-done; err == nil {
		t.Error("ServeConn kept the connection after a foreign version")
	}
}

func TestServeConnRejectsOversizedAndMalformed(t *testing.T) {
	for name, in := range map[string][]byte{
		"oversized": {0x7f, 0xff, 0xff, 0xff},
		"malformed": frame([]byte{1, byte(msgGet), 0}),
		"a reply":   frame([]byte{1, byte(msgOK)}),
	} {
		c1, c2 := net.Pipe()
		done := make(chan error, 1)
		go func() { done <- (&Server{Agent: NewStore(nil)}).ServeConn(c2); c2.Close() }()
		go c1.Write(in)
		if name == "a reply" {
			reply, err := readMessage(c1)
			if err != nil || reply.typ != msgFailure || reply.code != CodeBadRequest {
				t.Errorf("%s: reply %+v, %v; want FAILURE bad-request", name, reply, err)
			}
			c1.Close()
			<-done
			continue
		}
		if err := <-done; err == nil {
			t.Errorf("%s: ServeConn returned nil", name)
		}
		if _, err := readMessage(c1); err != io.EOF && !errors.Is(err, io.ErrClosedPipe) {
			t.Errorf("%s: the server answered (%v) instead of hanging up", name, err)
		}
		c1.Close()
	}
}

func TestServeConnIdleTimeout(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "s.sock")
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, &Server{Agent: NewStore(nil), IdleTimeout: 100 * time.Millisecond}, l)
	conn, err := Dial(path, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := conn.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read on an idle connection: %v; want EOF from the server hanging up", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the server kept an idle connection for %s", d)
	}
}

func TestServeShutdownClosesConnections(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "s.sock")
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	stop := serve(t, &Server{Agent: NewStore(nil)}, l)
	conn, err := Dial(path, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := NewClient(conn).List(); err != nil {
		t.Fatal(err)
	}
	stop() // returns only once every connection goroutine is done
	if _, err := conn.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read after shutdown: %v; want EOF", err)
	}
	l.Close()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the socket is still there after Close: %v", err)
	}
}
