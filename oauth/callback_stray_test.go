package oauth

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitAsync runs cb.wait in the background and returns where its result
// arrives.
func waitAsync(cb *callback, timeout time.Duration) <-chan callbackResult {
	out := make(chan callbackResult, 1)
	go func() {
		code, err := cb.wait(context.Background(), timeout, nil, func(Notice) {})
		out <- callbackResult{code: code, err: err}
	}()
	return out
}

// servedCallback listens for a login callback, changed by edit if it is
// not nil, serves check on it and returns it with its port; it is closed
// when the test ends (closing it again is harmless).
func servedCallback(t *testing.T, check callbackCheck, edit func(*callback)) (*callback, int) {
	t.Helper()
	cb, err := listenCallback("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cb.close)
	if edit != nil {
		edit(cb)
	}
	port := redirectPort(t, cb)
	cb.serve(check, 0)
	return cb, port
}

// stillWaiting fails the test if the login has ended.
func stillWaiting(t *testing.T, res <-chan callbackResult, after string) {
	t.Helper()
	select {
	case r := <-res:
		t.Fatalf("the login ended after %s: code %q, %v", after, r.code, r.err)
	case <-time.After(50 * time.Millisecond):
	}
}

// fetchPath requests path on the callback's port with method and returns
// the status and page.
func fetchPath(t *testing.T, method string, port int, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+net.JoinHostPort("127.0.0.1", strconv.Itoa(port))+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := noProxy.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// A callback with a wrong or missing state, and any other stray request,
// gets an error page and leaves the login waiting; the genuine callback
// that follows completes it with its code.
func TestCallbackIgnoresStrayRequests(t *testing.T) {
	cb, port := servedCallback(t, callbackCheck{state: "the-state", issuer: "https://issuer.example", issRequired: true}, nil)
	res := waitAsync(cb, 10*time.Second)

	for _, tc := range []struct {
		name, method, path string
		status             int
		says               string
	}{
		{"wrong state", "GET", "/auth/callback?state=forged&code=evil&iss=https%3A%2F%2Fissuer.example", http.StatusBadRequest, "not the login gitsign is waiting for"},
		{"missing state", "GET", "/auth/callback?code=evil&iss=https%3A%2F%2Fissuer.example", http.StatusBadRequest, "not the login gitsign is waiting for"},
		{"empty state", "GET", "/auth/callback?state=&code=evil", http.StatusBadRequest, "not the login gitsign is waiting for"},
		{"state prefix", "GET", "/auth/callback?state=the-stat&code=evil", http.StatusBadRequest, "not the login gitsign is waiting for"},
		{"error with a wrong state", "GET", "/auth/callback?state=forged&error=access_denied", http.StatusBadRequest, "not the login gitsign is waiting for"},
		{"favicon", "GET", "/favicon.ico", http.StatusNotFound, ""},
		{"root", "GET", "/", http.StatusNotFound, ""},
		{"POST with the right state", "POST", "/auth/callback?state=the-state&code=evil", http.StatusMethodNotAllowed, ""},
	} {
		status, body := fetchPath(t, tc.method, port, tc.path)
		if status != tc.status || !strings.Contains(body, tc.says) {
			t.Errorf("%s: status %d, want %d with %q:\n%s", tc.name, status, tc.status, tc.says, body)
		}
		if strings.Contains(body, "the-state") {
			t.Errorf("%s: the page shows the expected state", tc.name)
		}
		stillWaiting(t, res, tc.name)
	}

	page := make(chan int, 1)
	go func() {
		status, _ := fetchPath(t, "GET", port, "/auth/callback?state=the-state&code=the-code&iss=https%3A%2F%2Fissuer.example")
		page <- status
	}()
	select {
	case r := <-res:
		if r.err != nil || r.code != "the-code" {
			t.Fatalf("wait = %q, %v; want the genuine callback's code", r.code, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the genuine callback did not end the login")
	}
	cb.finish(nil)
	if status := <-page; status != http.StatusOK {
		t.Errorf("genuine callback: status %d", status)
	}
}

// A login that only ever got callbacks with the wrong state times out,
// and says that it refused them.
func TestCallbackTimeoutAfterWrongState(t *testing.T) {
	cb, port := servedCallback(t, callbackCheck{state: "the-state"}, nil)
	res := waitAsync(cb, 500*time.Millisecond)
	for range 3 {
		if status, _ := fetchPath(t, "GET", port, "/auth/callback?state=forged&code=x"); status != http.StatusBadRequest {
			t.Errorf("status %d, want 400", status)
		}
	}
	r := <-res
	if r.code != "" || !errors.Is(r.err, ErrLoginTimeout) || !errors.Is(r.err, ErrStateMismatch) ||
		!strings.Contains(r.err.Error(), "(refused 3 callbacks: login callback state does not match the login request)") || strings.Contains(r.err.Error(), "\n") {
		t.Errorf("wait = %q, %v; want a one-line timeout that names the refused callbacks", r.code, r.err)
	}

	// Without stray callbacks the timeout says nothing about them.
	cb2, err := listenCallback("")
	if err != nil {
		t.Fatal(err)
	}
	defer cb2.close()
	cb2.serve(callbackCheck{state: "the-state"}, 0)
	if _, err := cb2.wait(context.Background(), 50*time.Millisecond, nil, func(Notice) {}); !errors.Is(err, ErrLoginTimeout) || errors.Is(err, ErrStateMismatch) {
		t.Errorf("wait = %v; want a plain timeout", err)
	}
}

// A flood of bad requests, in parallel and over kept-alive connections,
// neither ends the login nor leaves goroutines or connections behind;
// the genuine callback still gets through afterwards.
func TestCallbackFlood(t *testing.T) {
	cb, port := servedCallback(t, callbackCheck{state: "the-state"}, nil)
	res := waitAsync(cb, 30*time.Second)
	before := runtime.NumGoroutine()

	client := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 8}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for w := range 8 {
		wg.Go(func() {
			for i := range 250 {
				path := "/auth/callback?state=forged-" + strconv.Itoa(w*1000+i) + "&code=x"
				if i%5 == 0 {
					path = "/favicon.ico"
				}
				resp, err := client.Get(base + path)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				statuses[resp.StatusCode]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	stillWaiting(t, res, "the flood")
	if statuses[http.StatusBadRequest] != 1600 || statuses[http.StatusNotFound] != 400 {
		t.Errorf("statuses %v; want 1600 × 400 and 400 × 404", statuses)
	}
	client.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+4 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+4 {
		t.Errorf("%d goroutines after the flood, %d before", n, before)
	}

	page := make(chan int, 1)
	go func() {
		status, _ := fetchPath(t, "GET", port, "/auth/callback?state=the-state&code=the-code")
		page <- status
	}()
	r := <-res
	if r.err != nil || r.code != "the-code" {
		t.Errorf("wait = %q, %v; want the genuine callback's code", r.code, r.err)
	}
	cb.finish(nil)
	if status := <-page; status != http.StatusOK {
		t.Errorf("genuine callback: status %d", status)
	}
}

// Connections beyond the limit wait for a slot instead of being served at
// once, and close does not wait for them or for the ones holding the
// slots.
func TestCallbackConnectionLimit(t *testing.T) {
	cb, port := servedCallback(t, callbackCheck{state: "the-state"}, nil)
	// Connections that never send a request hold every slot.
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range maxCallbackConns {
		c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	// One more is accepted by the kernel but not served.
	extra, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	io.WriteString(extra, "GET /favicon.ico HTTP/1.1\r\nHost: localhost\r\n\r\n")
	extra.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := extra.Read(make([]byte, 1)); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("a connection beyond the limit was served: %d bytes, %v", n, err)
	}
	// Freeing a slot lets it through.
	held[0].Close()
	extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := bufio.NewReader(extra).ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 404") {
		t.Errorf("after a slot was freed: %q, %v", line, err)
	}
	start := time.Now()
	cb.close()
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("close took %s", d)
	}
}

// The genuine callback is held open until the login ends, however long
// the code exchange takes: the per-request read timeout does not cut it.
func TestCallbackHeldPastReadTimeout(t *testing.T) {
	cb, port := servedCallback(t, callbackCheck{state: "the-state"}, func(cb *callback) { cb.readTimeout = 100 * time.Millisecond })
	res := waitAsync(cb, 10*time.Second)
	type page struct {
		status int
		body   string
	}
	pages := make(chan page, 1)
	go func() {
		status, body := fetchPath(t, "GET", port, "/auth/callback?state=the-state&code=the-code")
		pages <- page{status, body}
	}()
	if r := <-res; r.err != nil || r.code != "the-code" {
		t.Fatalf("wait = %q, %v", r.code, r.err)
	}
	time.Sleep(400 * time.Millisecond) // a slow code exchange
	cb.finish(nil)
	if p := <-pages; p.status != http.StatusOK || !strings.Contains(p.body, "<title>Signed in</title>") {
		t.Errorf("status %d:\n%s", p.status, p.body)
	}
}
