package oauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// ErrStateMismatch means the browser callback carried a state other than
// the one this flow sent: the callback may be forged, so the code is not
// exchanged and the login is aborted.
var ErrStateMismatch = errors.New("login callback state does not match the request; login aborted")

// ErrLoginTimeout means no browser callback arrived within LoginTimeout.
var ErrLoginTimeout = errors.New("timed out waiting for the browser login")

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

// callbackResult is what the first request to the callback path produced.
type callbackResult struct {
	code string
	err  error
}

// callback is the loopback HTTP server that receives the authorization
// response. Only the first request to its path counts; it then holds the
// browser's request open until finish reports how the login ended.
type callback struct {
	ln       net.Listener
	path     string
	redirect string
	state    string
	srv      *http.Server

	results   chan callbackResult // capacity 1, written once
	deliver   sync.Once
	done      chan struct{} // closed by finish
	finishErr error
	finished  sync.Once
}

// listenCallback binds the callback listener. With no redirectURL it uses
// 127.0.0.1 on an ephemeral port, advertised as localhost.
func listenCallback(redirectURL string) (*callback, error) {
	c := &callback{results: make(chan callbackResult, 1), done: make(chan struct{})}
	if redirectURL == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("listening for the login callback: %w", err)
		}
		c.ln, c.path = ln, "/auth/callback"
		c.redirect = fmt.Sprintf("http://localhost:%d/auth/callback", ln.Addr().(*net.TCPAddr).Port)
		return c, nil
	}
	u, err := url.Parse(redirectURL)
	if err != nil || u.Scheme != "http" || u.Hostname() == "" || u.Port() == "" || u.Fragment != "" {
		return nil, fmt.Errorf("redirect URL %q must be http://host:port/path (no fragment)", redirectURL)
	}
	ln, err := net.Listen("tcp", u.Host)
	if err != nil {
		return nil, fmt.Errorf("listening for the login callback on %s: %w", u.Host, err)
	}
	if u.Port() == "0" {
		u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	}
	c.ln, c.path, c.redirect = ln, u.Path, u.String()
	if c.path == "" {
		c.path = "/"
	}
	return c, nil
}

// serve starts answering callbacks that must carry state. The server
// goroutine ends when close shuts the server down.
func (c *callback) serve(state string) {
	c.state = state
	c.srv = &http.Server{Handler: c, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := c.srv.Serve(c.ln); !errors.Is(err, http.ErrServerClosed) {
			c.put(callbackResult{err: fmt.Errorf("login callback server: %w", err)})
		}
	}()
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
	var res callbackResult
	switch {
	case subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(c.state)) != 1:
		res.err = ErrStateMismatch
	case q.Get("error") != "":
		res.err = &AuthError{Code: q.Get("error"), Description: q.Get("error_description")}
	case q.Get("code") == "":
		res.err = errors.New("login callback has no authorization code")
	default:
		res.code = q.Get("code")
	}
	if !c.put(res) {
		writePage(w, http.StatusConflict, errors.New("this login was already handled"))
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
	writePage(w, status, err)
}

// wait returns the authorization code from the first callback. It reports
// an opener failure on term but keeps waiting, since the user can still
// open the printed URL by hand.
func (c *callback) wait(ctx context.Context, timeout time.Duration, opened <-chan error, term io.Writer) (string, error) {
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
				fmt.Fprintf(term, "Could not open a browser: %v\nOpen the URL above in a browser to continue.\n", err)
			}
		case <-timer.C:
			if openErr != nil {
				return "", fmt.Errorf("%w after %s (opening the browser failed: %w)", ErrLoginTimeout, timeout, openErr)
			}
			return "", fmt.Errorf("%w after %s", ErrLoginTimeout, timeout)
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for the browser login: %w", ctx.Err())
		}
	}
}

// finish tells a waiting callback request how the login ended.
func (c *callback) finish(err error) {
	c.finished.Do(func() {
		c.finishErr = err
		close(c.done)
	})
}

// close releases any waiting request and stops the server.
func (c *callback) close() {
	c.finish(errors.New("the login was abandoned"))
	if c.srv == nil {
		c.ln.Close()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.srv.Shutdown(ctx); err != nil {
		c.srv.Close()
	}
}

// writePage answers the browser. The page loads nothing external and asks
// the browser not to leak the callback URL (which holds the code).
func writePage(w http.ResponseWriter, status int, err error) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'")
	w.WriteHeader(status)
	title, body := "Signed in", "gitsign received your login. You can close this tab and return to the terminal."
	if err != nil {
		title, body = "Sign-in failed", "gitsign could not complete the login: "+err.Error()
	}
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head>\n<body><h1>%s</h1><p>%s</p></body></html>\n",
		title, title, html.EscapeString(body))
}
