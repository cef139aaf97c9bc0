package oauth

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// haveIPv6Loopback reports whether this machine can listen on ::1.
func haveIPv6Loopback() bool {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// noProxy is a client that talks to the given address itself.
var noProxy = &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}

func redirectPort(t *testing.T, c *callback) int {
	t.Helper()
	rest, ok := strings.CutPrefix(c.redirect, "http://localhost:")
	if !ok || !strings.HasSuffix(rest, "/auth/callback") {
		t.Fatalf("redirect %q is not http://localhost:PORT/auth/callback", c.redirect)
	}
	port, err := strconv.Atoi(strings.TrimSuffix(rest, "/auth/callback"))
	if err != nil {
		t.Fatalf("redirect %q: %v", c.redirect, err)
	}
	return port
}

// get fetches the callback on host:port and returns the status and page.
func get(t *testing.T, host string, port int, query string) (int, string) {
	t.Helper()
	status, body, err := fetchCallback(host, port, query)
	if err != nil {
		t.Fatal(err)
	}
	return status, body
}

func fetchCallback(host string, port int, query string) (int, string, error) {
	resp, err := noProxy.Get("http://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/auth/callback?" + query)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// With the default redirect, a callback on either loopback address reaches
// the handler, and the first one wins, whichever address it came to.
func TestCallbackServesBothLoopbacks(t *testing.T) {
	hosts := []string{"127.0.0.1"}
	if haveIPv6Loopback() {
		hosts = append(hosts, "::1")
	} else {
		t.Log("no IPv6 loopback here: testing 127.0.0.1 only")
	}
	const query = "state=st&code=the-code&iss=https%3A%2F%2Fissuer.example"
	for _, first := range hosts {
		t.Run(first+" first", func(t *testing.T) {
			cb, err := listenCallback("")
			if err != nil {
				t.Fatal(err)
			}
			defer cb.close()
			if len(cb.lns) != len(hosts) {
				t.Fatalf("%d listeners, want %d", len(cb.lns), len(hosts))
			}
			port := redirectPort(t, cb)
			cb.serve(callbackCheck{state: "st", issuer: "https://issuer.example", issRequired: true}, 0)

			type page struct {
				status int
				body   string
				err    error
			}
			firstPage := make(chan page, 1)
			go func() {
				status, body, err := fetchCallback(first, port, query)
				firstPage <- page{status, body, err}
			}()
			code, err := cb.wait(context.Background(), 10*time.Second, nil, func(Notice) {})
			if err != nil || code != "the-code" {
				t.Fatalf("wait = %q, %v", code, err)
			}
			cb.finish(nil)
			if p := <-firstPage; p.err != nil || p.status != http.StatusOK || !strings.Contains(p.body, "<title>Signed in</title>") {
				t.Errorf("first callback on %s: status %d, %v\n%s", first, p.status, p.err, p.body)
			}
			for _, h := range hosts {
				if status, body := get(t, h, port, query); status != http.StatusConflict || !strings.Contains(body, "already handled") {
					t.Errorf("second callback on %s: status %d\n%s", h, status, body)
				}
			}
		})
	}
}

// close frees the port on both addresses, whether or not serve ran.
func TestCallbackCloseReleasesBothLoopbacks(t *testing.T) {
	v6 := haveIPv6Loopback()
	for _, served := range []bool{false, true} {
		cb, err := listenCallback("")
		if err != nil {
			t.Fatal(err)
		}
		port := redirectPort(t, cb)
		if served {
			cb.serve(callbackCheck{state: "st"}, 0)
			if status, _ := get(t, "127.0.0.1", port, "state=wrong"); status != http.StatusBadRequest {
				t.Fatalf("callback status %d, want 400", status)
			}
		}
		cb.close()
		addrs := []string{"127.0.0.1"}
		if v6 {
			addrs = append(addrs, "::1")
		}
		for _, a := range addrs {
			ln, err := net.Listen("tcp", net.JoinHostPort(a, strconv.Itoa(port)))
			if err != nil {
				t.Errorf("served=%v: port %d still held on %s after close: %v", served, port, a, err)
				continue
			}
			ln.Close()
		}
	}
}

// A port another program already holds on ::1 is given up for a new one.
func TestCallbackLoopbackSkipsPortTakenOnIPv6(t *testing.T) {
	if !haveIPv6Loopback() {
		t.Skip("no IPv6 loopback here")
	}
	l := &listenLog{}
	var squatter net.Listener
	listen := func(network, address string) (net.Listener, error) {
		if network == "tcp6" && squatter == nil {
			// Another program takes [::1]:P between our two binds.
			var err error
			if squatter, err = net.Listen("tcp", address); err != nil {
				t.Fatalf("occupying %s: %v", address, err)
			}
		}
		return l.listen(net.Listen)(network, address)
	}
	lns, port, err := listenLoopback(listen)
	if err != nil {
		t.Fatal(err)
	}
	defer squatter.Close()
	defer closeAll(lns)
	taken := squatter.Addr().(*net.TCPAddr).Port
	if port == taken || len(lns) != 2 {
		t.Fatalf("got port %d with %d listeners; [::1]:%d was taken", port, len(lns), taken)
	}
	for i, ln := range lns {
		if a := ln.Addr().(*net.TCPAddr); a.Port != port || !a.IP.IsLoopback() || (a.IP.To4() != nil) != (i == 0) {
			t.Errorf("listener %d is on %s", i, a)
		}
	}
	if got := l.summary(); got != "tcp4 ok closed, tcp6 failed, tcp4 ok, tcp6 ok" {
		t.Errorf("binds: %s", got)
	}
}

func TestListenLoopbackFailures(t *testing.T) {
	bindErr := func(errno syscall.Errno) error {
		return &net.OpError{Op: "listen", Net: "tcp6", Err: os.NewSyscallError("bind", errno)}
	}
	for _, tc := range []struct {
		name      string
		v6        error // what binding ::1 returns
		listeners int   // 0: an error
		binds     string
		wantErr   string
	}{
		{"no IPv6 loopback address", bindErr(syscall.EADDRNOTAVAIL), 1, "tcp4 ok, tcp6 failed", ""},
		{"no IPv6", bindErr(syscall.EAFNOSUPPORT), 1, "tcp4 ok, tcp6 failed", ""},
		{"no IPv6 loopback address (Winsock)", bindErr(wsaEADDRNOTAVAIL), 1, "tcp4 ok, tcp6 failed", ""},
		{"every port taken", bindErr(syscall.EADDRINUSE), 0, strings.Repeat("tcp4 ok closed, tcp6 failed, ", 9) + "tcp4 ok closed, tcp6 failed",
			"listening for the login callback: 10 ports free on 127.0.0.1 were all taken on ::1 by other programs"},
		{"every port taken (Winsock)", bindErr(wsaEADDRINUSE), 0, strings.Repeat("tcp4 ok closed, tcp6 failed, ", 9) + "tcp4 ok closed, tcp6 failed",
			"10 ports free on 127.0.0.1 were all taken on ::1"},
		{"other failure", bindErr(syscall.EACCES), 0, "tcp4 ok closed, tcp6 failed", "listening for the login callback on [::1]:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &listenLog{}
			listen := l.listen(func(network, address string) (net.Listener, error) {
				if network == "tcp6" {
					return nil, tc.v6
				}
				return net.Listen(network, address)
			})
			lns, port, err := listenLoopback(listen)
			defer closeAll(lns)
			if tc.listeners == 0 {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "\n") {
					t.Errorf("err = %v, want one line with %q", err, tc.wantErr)
				}
			} else if err != nil || len(lns) != tc.listeners || lns[0].Addr().(*net.TCPAddr).Port != port {
				t.Errorf("got %d listeners, port %d, %v", len(lns), port, err)
			}
			if got := l.summary(); got != tc.binds {
				t.Errorf("binds: %s\nwant:  %s", got, tc.binds)
			}
		})
	}
}

// listenLog records the binds listenLoopback makes and whether it closed
// each listener.
type listenLog struct {
	mu      sync.Mutex
	entries []*listenEntry
}

type listenEntry struct {
	network string
	ok      bool
	closed  bool
}

func (l *listenLog) listen(next func(network, address string) (net.Listener, error)) func(string, string) (net.Listener, error) {
	return func(network, address string) (net.Listener, error) {
		ln, err := next(network, address)
		e := &listenEntry{network: network, ok: err == nil}
		l.mu.Lock()
		l.entries = append(l.entries, e)
		l.mu.Unlock()
		if err != nil {
			return nil, err
		}
		return &loggedListener{Listener: ln, log: l, e: e}, nil
	}
}

func (l *listenLog) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var parts []string
	for _, e := range l.entries {
		s := e.network + " failed"
		if e.ok {
			s = e.network + " ok"
		}
		if e.closed {
			s += " closed"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

type loggedListener struct {
	net.Listener
	log *listenLog
	e   *listenEntry
}

func (l *loggedListener) Close() error {
	l.log.mu.Lock()
	l.e.closed = true
	l.log.mu.Unlock()
	return l.Listener.Close()
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		ln.Close()
	}
}
