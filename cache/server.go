package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// Server answers agent requests from an Agent: the agent process serves a
// [Store].
type Server struct {
	// Agent holds the credentials. When it has a Prune method, as a
	// [Store] does, Serve calls it every PruneInterval.
	Agent Agent
	// Log receives one line per stored credential, refused connection and
	// error; nil discards. Keys are never logged.
	Log *slog.Logger
	// Allow decides whether a connection may use the agent. Nil means
	// SameUser: only the uid the agent runs as.
	Allow func(net.Conn) error
	// IdleTimeout bounds the wait for each request on a connection
	// (DefaultIdleTimeout when zero).
	IdleTimeout time.Duration
	// PruneInterval is how often Serve has Agent drop expired credentials
	// from memory (DefaultPruneInterval when zero).
	PruneInterval time.Duration
}

// Defaults for Server fields.
const (
	DefaultIdleTimeout   = 10 * time.Second
	DefaultPruneInterval = 30 * time.Second
	maxConns             = 64
)

// SameUser allows a connection only from a process running as the same
// uid as this one, read from the socket (SO_PEERCRED or LOCAL_PEERCRED).
func SameUser(c net.Conn) error {
	uid, err := PeerUID(c)
	if err != nil {
		return err
	}
	if uid != os.Getuid() {
		return fmt.Errorf("cache: connection from uid %d refused: only uid %d may use this agent", uid, os.Getuid())
	}
	return nil
}

func (srv *Server) log() *slog.Logger {
	if srv.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return srv.Log
}

// Serve accepts connections on l and answers them until ctx is done; it
// then closes l, closes open connections, waits for their goroutines and
// returns nil. Temporary accept errors (out of file descriptors, aborted
// connections) are logged and retried with a growing pause; any other
// accept error is returned after the same clean-up.
func (srv *Server) Serve(ctx context.Context, l net.Listener) error {
	allow := srv.Allow
	if allow == nil {
		allow = SameUser
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var wg sync.WaitGroup
	var mu sync.Mutex
	open := map[net.Conn]struct{}{}

	// Closing l ends Accept; closing the connections ends their reads.
	// This goroutine exits when ctx is done, which the deferred cancel
	// guarantees.
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-ctx.Done()
		l.Close()
		mu.Lock()
		for c := range open {
			c.Close()
		}
		mu.Unlock()
	}()
	// The janitor drops expired credentials; it exits with ctx.
	if p, ok := srv.Agent.(interface{ Prune() }); ok {
		wg.Add(1)
		go func() {
			defer wg.Done()
			every := srv.PruneInterval
			if every <= 0 {
				every = DefaultPruneInterval
			}
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					p.Prune()
				}
			}
		}()
	}

	var pause time.Duration
	var result error
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if !temporary(err) {
				result = fmt.Errorf("cache: accepting connections: %w", err)
				break
			}
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			srv.log().Warn("temporary accept error, retrying", "error", err, "pause", pause)
			select {
			case <-time.After(pause):
			case <-ctx.Done():
			}
			continue
		}
		pause = 0
		if err := allow(c); err != nil {
			srv.log().Warn("refused connection", "reason", err)
			c.Close()
			continue
		}
		mu.Lock()
		if len(open) >= maxConns {
			mu.Unlock()
			srv.log().Warn("refused connection: too many open connections", "limit", maxConns)
			c.Close()
			continue
		}
		open[c] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		// Each connection goroutine exits when its peer hangs up, sends
		// something malformed, idles past IdleTimeout, or Serve closes
		// the connection on shutdown.
		go func() {
			defer wg.Done()
			if err := srv.ServeConn(c); err != nil && ctx.Err() == nil {
				srv.log().Warn("connection ended with an error", "error", err)
			}
			c.Close()
			mu.Lock()
			delete(open, c)
			mu.Unlock()
		}()
	}
	cancel()
	wg.Wait()
	return result
}

// temporary reports whether an Accept error is worth waiting out: a
// shortage of descriptors or memory, or a connection the peer dropped
// before it was accepted.
func temporary(err error) bool {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
		syscall.ECONNABORTED, syscall.ECONNRESET, syscall.EINTR, syscall.EAGAIN, syscall.EPROTO, syscall.EPERM} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// ServeConn answers requests on c until the client hangs up (nil), or a
// read fails or a message is malformed (the error). When c is a net.Conn,
// each request must arrive within IdleTimeout.
func (srv *Server) ServeConn(c io.ReadWriter) error {
	idle := srv.IdleTimeout
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	nc, _ := c.(net.Conn)
	for {
		if nc != nil {
			nc.SetDeadline(time.Now().Add(idle))
		}
		req, err := readMessage(c)
		if err == io.EOF {
			return nil
		}
		if err == errVersion {
			writeMessage(c, &message{typ: msgFailure, code: CodeUnsupportedVersion,
				text: fmt.Sprintf("this agent speaks protocol version %d", ProtocolVersion)})
			return err
		}
		if err != nil {
			return err
		}
		if err := writeMessage(c, srv.handle(req)); err != nil {
			return err
		}
	}
}

// handle answers one request. A miss on GET is FAILURE not-found;
// anything else the Agent refuses or fails with is FAILURE bad-request,
// with its text.
func (srv *Server) handle(req *message) *message {
	fail := func(err error) *message {
		return &message{typ: msgFailure, code: CodeBadRequest, text: err.Error()}
	}
	switch req.typ {
	case msgGet:
		if err := req.key.validate(); err != nil {
			return fail(err)
		}
		cred, err := srv.Agent.Get(req.key)
		if errors.Is(err, ErrNotFound) {
			return &message{typ: msgFailure, code: CodeNotFound, text: err.Error()}
		}
		if err != nil {
			return fail(err)
		}
		raw, err := cred.marshal()
		if err != nil {
			return fail(err)
		}
		srv.log().Debug("handed out a credential", "fulcio", req.key.Fulcio, "issuer", req.key.Issuer)
		return &message{typ: msgCredential, cred: raw}
	case msgPut:
		cred, err := req.cred.parse()
		if err == nil {
			err = srv.Agent.Put(req.key, cred)
		}
		if err != nil {
			return fail(err)
		}
		leaf := cred.Leaf()
		srv.log().Info("stored a credential", "fulcio", req.key.Fulcio, "issuer", req.key.Issuer,
			"client_id", req.key.ClientID, "serial", leaf.SerialNumber.String(), "until", leaf.NotAfter.UTC().Format(time.RFC3339))
		return &message{typ: msgOK}
	case msgList:
		entries, err := srv.Agent.List()
		if err != nil {
			return fail(err)
		}
		reply := &message{typ: msgEntries}
		for _, e := range entries[:min(len(entries), maxEntries)] {
			reply.entries = append(reply.entries, rawEntry{key: e.Key, leaf: e.Leaf.Raw})
		}
		return reply
	case msgClear:
		if err := srv.Agent.Clear(); err != nil {
			return fail(err)
		}
		srv.log().Info("cleared every credential")
		return &message{typ: msgOK}
	}
	return fail(fmt.Errorf("cache: message type %d is not a request", req.typ))
}
