package oauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gitsign-dev/gitsign/internal/printable"
)

// ErrStateMismatch means a request to the callback carried a state other
// than the one this login sent, or none: it may be forged, or left over
// from another login, so its code is never exchanged. Such a request gets
// an error page and the login goes on waiting for the genuine callback
// (any local process can reach the loopback port, and must not be able to
// end a login that way). A login that then times out says how many it
// refused, with an error that matches both ErrLoginTimeout and this.
var ErrStateMismatch = errors.New("login callback state does not match the login request")

// ErrLoginTimeout means no browser callback arrived within LoginTimeout.
var ErrLoginTimeout = errors.New("timed out waiting for the browser login")

// ErrIssuerMismatch means the callback's iss parameter (RFC 9207) names
// another issuer than the one this flow started with, or is missing although
// the issuer promised it: the response may come from a different issuer
// (a mix-up attack), so the code is not exchanged.
var ErrIssuerMismatch = errors.New("login callback does not come from the configured issuer; login aborted")

// callbackCheck is what a genuine callback must carry.
type callbackCheck struct {
	state       string
	issuer      string // compared with the iss parameter when present
	issRequired bool   // the issuer advertises the iss parameter
}

// AuthError is an error the issuer reported on the callback (RFC 6749
// section 4.1.2.1), e.g. access_denied.
type AuthError struct {
	Code        string
	Description string
}

func (e *AuthError) Error() string {
	msg := "issuer refused the login: " + displayString(e.Code)
	if e.Description != "" {
		msg += ": " + displayString(e.Description)
	}
	return msg
}

// callbackResult is what the first callback with this login's state
// produced.
type callbackResult struct {
	code string
	err  error
}

// Bounds on the callback server, so that stray requests (any local process
// can send them) cost little: at most maxCallbackConns connections per
// listener are served at once (further ones wait in the kernel's accept
// queue), each request is read within callbackReadTimeout, and a
// connection is closed after callbackIdleTimeout without one. What a bad
// request leaves behind is one count.
const (
	maxCallbackConns    = 16
	callbackReadTimeout = 10 * time.Second
	callbackIdleTimeout = 5 * time.Second
)

// callback is the loopback HTTP server that receives the authorization
// response. The first request to its path with this login's state
// decides the login; it is held open until finish reports how the login
// ended. A request with another state or none, or to another path, gets
// an error page and changes nothing but the count of refused callbacks.
type callback struct {
	lns       []net.Listener // all serve the same handler
	path      string
	redirect  string
	check     callbackCheck
	autoclose time.Duration // 0: the success page stays open
	srv       *http.Server
	// readTimeout bounds reading each request (callbackReadTimeout;
	// tests shorten it).
	readTimeout time.Duration

	results   chan callbackResult // capacity 1, written once
	deliver   sync.Once
	refused   atomic.Int64  // callbacks refused for their state
	done      chan struct{} // closed by finish
	finishErr error
	finished  sync.Once
}

// listenCallback binds the callback listener. With no redirectURL it
// serves both loopback addresses, 127.0.0.1 and ::1, on one ephemeral
// port, advertised as localhost (see listenLoopback).
func listenCallback(redirectURL string) (*callback, error) {
	c := &callback{results: make(chan callbackResult, 1), done: make(chan struct{}), readTimeout: callbackReadTimeout}
	if redirectURL == "" {
		lns, port, err := listenLoopback(net.Listen)
		if err != nil {
			return nil, err
		}
		c.lns, c.path = lns, "/auth/callback"
		c.redirect = fmt.Sprintf("http://localhost:%d/auth/callback", port)
		return c, nil
	}
	u, err := url.Parse(redirectURL)
	if err != nil || u.Scheme != "http" || u.Hostname() == "" || u.Port() == "" || u.Fragment != "" {
		return nil, fmt.Errorf("redirect URL %s must be http://host:port/path (no fragment)", printable.Quote(redirectURL))
	}
	ln, err := net.Listen("tcp", u.Host)
	if err != nil {
		return nil, fmt.Errorf("listening for the login callback on %s: %w", u.Host, err)
	}
	if u.Port() == "0" {
		u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	}
	c.lns, c.path, c.redirect = []net.Listener{ln}, u.Path, u.String()
	if c.path == "" {
		c.path = "/"
	}
	return c, nil
}

// loopbackAttempts bounds how many ports listenLoopback tries.
const loopbackAttempts = 10

// listenLoopback binds 127.0.0.1 on an ephemeral port and then ::1 on the
// same port, and returns the listeners and the port. The browser may
// resolve the advertised localhost to either address, so both must be
// ours: were ::1 left free, another local user could listen there and
// receive the authorization code. When that port is taken on ::1 it tries
// another; when the machine has no IPv6 loopback (so nobody can listen on
// ::1) it serves 127.0.0.1 alone.
func listenLoopback(listen func(network, address string) (net.Listener, error)) ([]net.Listener, int, error) {
	for range loopbackAttempts {
		ln4, err := listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return nil, 0, fmt.Errorf("listening for the login callback on 127.0.0.1: %w", err)
		}
		port := ln4.Addr().(*net.TCPAddr).Port
		ln6, err := listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(port)))
		switch {
		case err == nil:
			return []net.Listener{ln4, ln6}, port, nil
		case noIPv6Loopback(err):
			return []net.Listener{ln4}, port, nil
		}
		ln4.Close()
		if !addrInUse(err) {
			return nil, 0, fmt.Errorf("listening for the login callback on [::1]:%d: %w", port, err)
		}
	}
	return nil, 0, fmt.Errorf("listening for the login callback: %d ports free on 127.0.0.1 were all taken on ::1 by other programs", loopbackAttempts)
}

// Winsock's numbers for these conditions, which package syscall does not
// name on Windows (its EADDRINUSE etc. are not what Winsock returns).
const (
	wsaEAFNOSUPPORT  syscall.Errno = 10047
	wsaEADDRINUSE    syscall.Errno = 10048
	wsaEADDRNOTAVAIL syscall.Errno = 10049
)

// addrInUse reports a bind that failed because the port is taken.
func addrInUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, wsaEADDRINUSE)
}

// noIPv6Loopback reports a bind to ::1 that failed because the machine has
// no IPv6 loopback address or no IPv6 at all.
func noIPv6Loopback(err error) bool {
	for _, e := range []syscall.Errno{syscall.EADDRNOTAVAIL, syscall.EAFNOSUPPORT, wsaEADDRNOTAVAIL, wsaEAFNOSUPPORT} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// serve starts answering callbacks, which must pass check, on every
// listener. The server goroutines end when close shuts the server down.
func (c *callback) serve(check callbackCheck, autoclose time.Duration) {
	c.check, c.autoclose = check, autoclose
	c.srv = &http.Server{Handler: c, ReadHeaderTimeout: c.readTimeout, ReadTimeout: c.readTimeout, IdleTimeout: callbackIdleTimeout}
	for _, ln := range c.lns {
		go func() {
			if err := c.srv.Serve(newLimitListener(ln, maxCallbackConns)); !errors.Is(err, http.ErrServerClosed) {
				c.put(callbackResult{err: fmt.Errorf("login callback server on %s: %w", ln.Addr(), err)})
			}
		}()
	}
}

// put records the first result; later ones are dropped.
func (c *callback) put(r callbackResult) bool {
	first := false
	c.deliver.Do(func() {
		first = true
		c.results <- r
	})
	return first
}

// ServeHTTP answers a request to the callback server. Only a GET of the
// callback path with this login's state reaches the login; nothing else
// ends it, whatever it carries.
func (c *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != c.path {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	state := q["state"]
	if len(state) != 1 || subtle.ConstantTimeCompare([]byte(state[0]), []byte(c.check.state)) != 1 {
		c.refused.Add(1)
		writeHTML(w, http.StatusBadRequest, "Not this sign-in",
			"This is not the login gitsign is waiting for: it does not carry the state gitsign sent. "+
				"gitsign is still waiting; finish signing in from the page it opened, then close this tab.", 0)
		return
	}
	var res callbackResult
	iss, hasISS := q["iss"]
	switch {
	case hasISS && (len(iss) != 1 || iss[0] != c.check.issuer):
		res.err = fmt.Errorf("%w (it names %s, not %s)", ErrIssuerMismatch, displayString(q.Get("iss")), c.check.issuer)
	case !hasISS && c.check.issRequired:
		res.err = fmt.Errorf("%w (it has no iss parameter, which %s promises)", ErrIssuerMismatch, c.check.issuer)
	case q.Get("error") != "":
		res.err = &AuthError{Code: q.Get("error"), Description: q.Get("error_description")}
	case q.Get("code") == "":
		res.err = errors.New("login callback has no authorization code")
	default:
		res.code = q.Get("code")
	}
	if !c.put(res) {
		writePage(w, http.StatusConflict, errors.New("this login was already handled"), 0)
		return
	}
	err := res.err
	if err == nil {
		select {
		case <-c.done:
			err = c.finishErr
		case <-r.Context().Done():
			return
		}
	}
	status := http.StatusOK
	if err != nil {
		status = http.StatusBadRequest
	}
	writePage(w, status, err, c.autoclose)
}

// wait returns the authorization code from the first callback. It reports
// an opener failure to notify but keeps waiting, since the user can still
// open the URL by hand.
func (c *callback) wait(ctx context.Context, timeout time.Duration, opened <-chan error, notify func(Notice)) (string, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var openErr error
	for {
		select {
		case res := <-c.results:
			return res.code, res.err
		case err := <-opened:
			opened = nil
			if err != nil {
				openErr = err
				notify(BrowserFailed{Err: err})
			}
		case <-timer.C:
			return "", c.timedOut(timeout, openErr)
		case <-ctx.Done():
			// Told as a notice too: after Ctrl-C, git may already be
			// gone, and with it the stderr the error would go to.
			notify(Cancelled{Cause: context.Cause(ctx)})
			return "", fmt.Errorf("waiting for the browser login: %w", context.Cause(ctx))
		}
	}
}

// timedOut is the error of a login that got no genuine callback within
// timeout: it names the opener's failure and the callbacks refused for
// their state, if any, and then matches ErrStateMismatch too.
func (c *callback) timedOut(timeout time.Duration, openErr error) error {
	n := c.refused.Load()
	switch {
	case openErr != nil && n > 0:
		return fmt.Errorf("%w after %s (opening the browser failed: %w; refused %s: %w)", ErrLoginTimeout, timeout, openErr, callbacks(n), ErrStateMismatch)
	case openErr != nil:
		return fmt.Errorf("%w after %s (opening the browser failed: %w)", ErrLoginTimeout, timeout, openErr)
	case n > 0:
		return fmt.Errorf("%w after %s (refused %s: %w)", ErrLoginTimeout, timeout, callbacks(n), ErrStateMismatch)
	}
	return fmt.Errorf("%w after %s", ErrLoginTimeout, timeout)
}

// callbacks is "1 callback" or "N callbacks".
func callbacks(n int64) string {
	if n == 1 {
		return "1 callback"
	}
	return strconv.FormatInt(n, 10) + " callbacks"
}

// finish tells a waiting callback request how the login ended.
func (c *callback) finish(err error) {
	c.finished.Do(func() {
		c.finishErr = err
		close(c.done)
	})
}

// close releases any waiting request, stops the server and closes every
// listener.
func (c *callback) close() {
	c.finish(errors.New("the login was abandoned"))
	if c.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := c.srv.Shutdown(ctx); err != nil {
			c.srv.Close()
		}
	}
	// Shutdown closes the listeners it serves, but a Serve goroutine may
	// not have started yet: the ports must be free when close returns.
	for _, ln := range c.lns {
		ln.Close()
	}
}

// writePage answers the browser. The page loads nothing external and asks
// the browser not to leak the callback URL (which holds the code). A
// success page with autoclose > 0 counts down and then closes its tab
// (browsers allow that only for some tabs, so the text says to close it
// otherwise); its one inline script is allowed by a per-page CSP nonce.
func writePage(w http.ResponseWriter, status int, err error, autoclose time.Duration) {
	title, body := "Signed in", "gitsign received your login. You can close this tab and return to the terminal."
	if err != nil {
		title, body = "Sign-in failed", "gitsign could not complete the login: "+err.Error()
		autoclose = 0
	}
	writeHTML(w, status, title, body, autoclose)
}

// writeHTML writes a page with title and body (plain text), counting down
// autoclose (0: none) before it closes its tab.
func writeHTML(w http.ResponseWriter, status int, title, body string, autoclose time.Duration) {
	script, csp := "", "default-src 'none'"
	if secs := int((autoclose + time.Second - 1) / time.Second); secs > 0 {
		if nonce, nerr := randomString(); nerr == nil {
			csp += "; script-src 'nonce-" + nonce + "'"
			script = fmt.Sprintf(`<p id="autoclose">This tab closes in <span id="secs">%d</span> s.</p>
<script nonce="%s">
(function () {
  var left = %d, el = document.getElementById("secs");
  var tick = setInterval(function () {
    left--;
    el.textContent = String(left);
    if (left <= 0) {
      clearInterval(tick);
      window.close();
      document.getElementById("autoclose").textContent = "Close this tab to continue.";
    }
  }, 1000);
})();
</script>
`, secs, nonce, secs)
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", csp)
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head>\n<body><h1>%s</h1><p>%s</p>\n%s</body></html>\n",
		title, title, html.EscapeString(body), script)
}

// limitListener accepts a connection only while fewer than n
// connections it accepted are open; the next Accept waits for one to
// close, or for the listener to close. Each listener has its own slots:
// shared ones could be held by an Accept on a listener nobody connects to.
type limitListener struct {
	net.Listener
	slots     chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

// newLimitListener serves ln with n slots.
func newLimitListener(ln net.Listener, n int) *limitListener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), closed: make(chan struct{})}
}

// Accept waits for a free slot, then for a connection.
func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	conn, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &slotConn{Conn: conn, slots: l.slots}, nil
}

// Close closes the listener and ends an Accept waiting for a slot.
func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// slotConn gives its slot back when it is first closed.
type slotConn struct {
	net.Conn
	slots chan struct{}
	once  sync.Once
}

// Close closes the connection and frees its slot.
func (c *slotConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { <-c.slots })
	return err
}
