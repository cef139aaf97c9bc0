package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetriesServerErrorsBounded(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "boom", http.StatusBadGateway)
	}))
	defer srv.Close()
	c := &Client{Timeout: time.Second, Retries: 2, Backoff: time.Millisecond}
	_, err := c.Do(context.Background(), http.MethodGet, srv.URL, nil, nil)
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 502 {
		t.Fatalf("err = %v", err)
	}
	if hits.Load() != 3 {
		t.Errorf("%d requests, want 3", hits.Load())
	}
}

func TestNoRetryOnClientError(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Location", "/x/y")
		http.Error(w, "conflict", http.StatusConflict)
	}))
	defer srv.Close()
	_, err := New(time.Second).Do(context.Background(), http.MethodPost, srv.URL, []byte("{}"), nil)
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 409 || se.Location != "/x/y" || hits.Load() != 1 {
		t.Errorf("err %v, %d requests", err, hits.Load())
	}
}

func TestSilentServerTimesOutOnce(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var conns atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			defer c.Close()
		}
	}()
	c := &Client{Timeout: 200 * time.Millisecond, Retries: 2, Backoff: time.Millisecond}
	start := time.Now()
	_, err = c.Do(context.Background(), http.MethodGet, "http://"+l.Addr().String(), nil, nil)
	if err == nil || !strings.Contains(err.Error(), "no answer within 200ms") || !IsTimeout(fmt.Errorf("wrapped: %w", err)) {
		t.Fatalf("err = %v (IsTimeout %v)", err, IsTimeout(err))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
	if conns.Load() != 1 {
		t.Errorf("%d attempts at a silent server, want 1", conns.Load())
	}
}

func TestSuccessReadsBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("User-Agent") != "gitsign" || r.Header.Get("X-Test") != "1" {
			http.Error(w, "headers", 400)
			return
		}
		w.WriteHeader(201)
		w.Write([]byte("made"))
	}))
	defer srv.Close()
	resp, err := New(0).Do(context.Background(), http.MethodPost, srv.URL, []byte("x"), http.Header{"X-Test": {"1"}})
	if err != nil || resp.Status != 201 || string(resp.Body) != "made" {
		t.Fatalf("%v %+v", err, resp)
	}
}

func TestHTTPClientRetriesGET(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) < 3 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, r.Header.Get("User-Agent"))
	}))
	defer srv.Close()
	c := &Client{Timeout: time.Second, Retries: 2, Backoff: time.Millisecond, UserAgent: "gitsign-test"}
	resp, err := c.HTTPClient().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "gitsign-test" || hits.Load() != 3 {
		t.Errorf("status %d body %q after %d requests; want 200 gitsign-test after 3", resp.StatusCode, body, hits.Load())
	}
}

func TestHTTPClientPostsOnce(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c := &Client{Timeout: time.Second, Retries: 2, Backoff: time.Millisecond}
	resp, err := c.HTTPClient().Post(srv.URL, "text/plain", strings.NewReader("code=once"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || hits.Load() != 1 {
		t.Errorf("status %d after %d requests; want 503 after exactly 1", resp.StatusCode, hits.Load())
	}
}

func TestHTTPClientTimesOutEachAttempt(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := &Client{Timeout: 100 * time.Millisecond, Retries: 2, Backoff: time.Millisecond}
	_, err := c.HTTPClient().Get(srv.URL)
	if err == nil || !IsTimeout(err) {
		t.Fatalf("err = %v; want a timeout", err)
	}
}

func TestHTTPClientCapsBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := strings.Repeat("x", 1<<20)
		for range 20 {
			fmt.Fprint(w, chunk)
		}
	}))
	defer srv.Close()
	resp, err := (&Client{Timeout: 5 * time.Second}).HTTPClient().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n, _ := io.Copy(io.Discard, resp.Body)
	if n != maxBody {
		t.Errorf("read %d bytes; want the cap %d", n, maxBody)
	}
}
