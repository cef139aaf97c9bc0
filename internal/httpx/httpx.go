// Package httpx is the one HTTP client every gitsign network call goes
// through (Fulcio, Rekor, the timestamp authority, and, as a standard
// *http.Client from HTTPClient, the OIDC issuer): each attempt has a
// deadline, and requests that fail for reasons worth retrying are retried a
// bounded number of times with a short backoff.
//
// A server that accepts the connection but never answers costs at most
// Timeout per attempt, so a silent server can never hang a commit. A
// Client with a Service, and Explain, say why a request failed in one
// line (a *Failure: DNS, refused, timeout, TLS, proxy, an HTTP status),
// with hints naming what to change.
package httpx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"time"
)

// DefaultTimeout bounds one attempt when the caller sets no timeout.
const DefaultTimeout = 30 * time.Second

// maxBody caps how much of a response body is read into memory.
const maxBody = 16 << 20

// Client sends requests with a per-attempt timeout and bounded retries.
type Client struct {
	// Timeout bounds each attempt, from dialing to the last byte of the body.
	Timeout time.Duration
	// Retries is how many times a failed attempt is tried again (0 = once).
	Retries int
	// Backoff is the pause before the first retry; it doubles each time.
	Backoff time.Duration
	// UserAgent is sent with every request.
	UserAgent string
	// Transport is used when non-nil (tests); otherwise a fresh one.
	Transport http.RoundTripper
	// Service, when set, names the server for errors: a request that
	// fails is then a *Failure (see Explain).
	Service Service
}

// New returns a Client with the given per-attempt timeout (DefaultTimeout
// when zero) and two retries.
func New(timeout time.Duration) *Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Client{Timeout: timeout, Retries: 2, Backoff: 200 * time.Millisecond, UserAgent: "gitsign"}
}

// For returns a copy of c whose errors name service.
func (c *Client) For(service Service) *Client {
	d := *c
	d.Service = service
	return &d
}

// Response is a fully read HTTP response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// StatusError is returned by Do for a response outside 2xx.
type StatusError struct {
	Method, URL string
	Status      int
	Body        string
	Location    string // the Location header, if any
}

func (e *StatusError) Error() string {
	body := e.Body
	if len(body) > 200 {
		body = body[:200] + "..."
	}
	return fmt.Sprintf("%s %s: server answered %d %s: %s", e.Method, e.URL, e.Status, http.StatusText(e.Status), bytes.TrimSpace([]byte(body)))
}

// Do sends method to url with body and headers, retrying transport errors,
// and 5xx/429 answers (not timeouts). It returns the response when it is 2xx, a
// *StatusError for any other status, or the last transport error.
func (c *Client) Do(ctx context.Context, method, url string, body []byte, header http.Header) (*Response, error) {
	hc := &http.Client{Transport: c.transport(), Timeout: c.timeout()}
	var lastErr error
	backoff := c.Backoff
	for attempt := 0; attempt <= c.Retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("%s %s: %w (last error: %v)", method, url, ctx.Err(), lastErr)
			case <-time.After(backoff):
			}
			backoff *= 2
		}
		resp, err := c.once(ctx, hc, method, url, body, header)
		if err == nil {
			return resp, nil
		}
		lastErr = err
		if !retryable(err) || ctx.Err() != nil {
			break
		}
	}
	return nil, c.explain(url, lastErr)
}

// explain makes err a *Failure of c's Service, when c has one.
func (c *Client) explain(url string, err error) error {
	if c.Service == "" {
		return err
	}
	return Explain(c.Service, url, err)
}

func (c *Client) once(ctx context.Context, hc *http.Client, method, url string, body []byte, header http.Header) (*Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, url, err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if c.UserAgent != "" && req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, describe(method, url, err, c.timeout())
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, describe(method, url, err, c.timeout())
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &StatusError{Method: method, URL: url, Status: resp.StatusCode, Body: string(data), Location: resp.Header.Get("Location")}
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

func (c *Client) timeout() time.Duration {
	if c.Timeout <= 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

func (c *Client) transport() http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: c.timeout(),
		MaxIdleConns:          4,
		IdleConnTimeout:       30 * time.Second,
	}
}

// timeoutError marks an attempt that ran out of time.
type timeoutError struct {
	err   error
	after time.Duration // the timeout that ran out
}

func (e *timeoutError) Error() string { return e.err.Error() }
func (e *timeoutError) Unwrap() error { return e.err }

// IsTimeout reports whether err, or an error it wraps, is a request that
// got no answer within the client's Timeout.
func IsTimeout(err error) bool {
	var te *timeoutError
	return errors.As(err, &te)
}

func describe(method, url string, err error, timeout time.Duration) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &timeoutError{err: fmt.Errorf("%s %s: no answer within %s", method, url, timeout), after: timeout}
	}
	var ue *neturl.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%s %s: %w", method, url, err)
}

func retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status >= 500 || se.Status == http.StatusTooManyRequests
	}
	// A server that let one attempt time out is likely to do it again:
	// retrying would multiply the wait the user sees, so timeouts are final.
	var te *timeoutError
	return !errors.As(err, &te)
}
