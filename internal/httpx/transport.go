package httpx

import (
	"context"
	"io"
	"net/http"
	"time"
)

// HTTPClient returns a standard *http.Client with c's discipline, for
// libraries that take one (the OIDC discovery, code exchange and device
// flow): every attempt has c's timeout, from dialing to the last byte of
// the body, and GET and HEAD requests are retried like Do retries them.
// Other methods are tried once: an authorization code or a device code
// can be used only once, so a request that may have reached the server is
// never sent again. Bodies are cut off after 16 MiB.
func (c *Client) HTTPClient() *http.Client {
	return &http.Client{Transport: &retrying{c: c, next: c.transport()}}
}

// retrying is the RoundTripper behind HTTPClient.
type retrying struct {
	c    *Client
	next http.RoundTripper
}

func (r *retrying) RoundTrip(req *http.Request) (*http.Response, error) {
	if c := r.c; c.UserAgent != "" && req.Header.Get("User-Agent") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", c.UserAgent)
	}
	retries := 0
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		retries = r.c.Retries
	}
	backoff := r.c.Backoff
	for attempt := 0; ; attempt++ {
		resp, err := r.once(req)
		if attempt >= retries || req.Context().Err() != nil || !r.worthRetrying(req, resp, err) {
			return resp, r.c.explain(req.URL.Redacted(), err)
		}
		if resp != nil {
			resp.Body.Close()
		}
		select {
		case <-req.Context().Done():
			return nil, req.Context().Err()
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

// once sends one attempt under its own deadline, which ends when the
// caller closes the body.
func (r *retrying) once(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), r.c.timeout())
	resp, err := r.next.RoundTrip(req.Clone(ctx))
	if err != nil {
		cancel()
		return nil, describe(req.Method, req.URL.Redacted(), err, r.c.timeout())
	}
	resp.Body = &limitedBody{r: io.LimitReader(resp.Body, maxBody), c: resp.Body, cancel: cancel}
	return resp, nil
}

func (r *retrying) worthRetrying(req *http.Request, resp *http.Response, err error) bool {
	if err != nil {
		return retryable(err)
	}
	return resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
}

// limitedBody is a response body read through a limit, whose Close also
// ends the attempt's deadline.
type limitedBody struct {
	r      io.Reader
	c      io.Closer
	cancel context.CancelFunc
}

func (b *limitedBody) Read(p []byte) (int, error) { return b.r.Read(p) }

func (b *limitedBody) Close() error {
	err := b.c.Close()
	b.cancel()
	return err
}
