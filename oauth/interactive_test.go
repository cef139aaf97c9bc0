package oauth

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// login runs Get against f with the re-executed test binary as browser.
func login(t *testing.T, f *fakeIssuer, edit func(*Options)) (*IDToken, *syncBuffer, error) {
	t.Helper()
	term := &syncBuffer{}
	o := Options{
		Provider:     "interactive",
		Issuer:       f.srv.URL,
		ClientID:     testClientID,
		URLOpener:    helperOpener(t),
		Timeout:      5 * time.Second,
		LoginTimeout: 20 * time.Second,
		Terminal:     term,
		Notify:       tellTerminal(term),
		LookupEnv:    env(nil),
	}
	if edit != nil {
		edit(&o)
	}
	tok, err := Get(context.Background(), o)
	if tok != nil && strings.Contains(term.String(), tok.Raw) {
		t.Error("the token was written to the terminal")
	}
	return tok, term, err
}

func TestInteractiveGoodFlow(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	tok, term, err := login(t, f, nil)
	if err != nil {
		t.Fatalf("login: %v\nterminal:\n%s", err, term)
	}
	if tok.Source != "interactive" || tok.Issuer != f.srv.URL || tok.Subject != "alice@example.com" || tok.Email != "alice@example.com" {
		t.Errorf("token %+v", *tok)
	}
	if d := time.Until(tok.Expiry); d < 9*time.Minute || d > 11*time.Minute {
		t.Errorf("expiry %v", tok.Expiry)
	}
	// The raw token is the issuer's JWT and parses on its own.
	if p, err := ParseUnverified(tok.Raw); err != nil || p.Subject != tok.Subject {
		t.Errorf("raw token does not parse back: %v", err)
	}

	q := f.lastAuthQuery()
	for k, want := range map[string]string{"scope": "openid email", "code_challenge_method": "S256", "access_type": "online", "connector_id": ""} {
		if got := q.Get(k); got != want {
			t.Errorf("auth request %s = %q, want %q", k, got, want)
		}
	}
	for _, k := range []string{"state", "nonce"} {
		if !regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`).MatchString(q.Get(k)) { // 128 bits, base64url
			t.Errorf("%s %q is not 128 random bits", k, q.Get(k))
		}
	}
	if q.Get("state") == q.Get("nonce") {
		t.Error("state and nonce are equal")
	}
	if !regexp.MustCompile(`^http://localhost:[1-9][0-9]*/auth/callback$`).MatchString(q.Get("redirect_uri")) {
		t.Errorf("redirect_uri %q", q.Get("redirect_uri"))
	}
	if _, tokenCalls := f.counts(); tokenCalls != 1 {
		t.Errorf("token endpoint called %d times", tokenCalls)
	}
	term.waitFor(t, "Your browser will now be opened to:\n"+f.srv.URL+"/auth?")
	// The opener's own stdout reaches the terminal, and the browser got
	// the success page.
	term.waitFor(t, "opener-helper: fetched, status 200\n")
}

func TestInteractiveRedirectURLAndConnector(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	_, term, err := login(t, f, func(o *Options) {
		o.RedirectURL = "http://127.0.0.1:0/custom/cb"
		o.ConnectorID = "ldap"
	})
	if err != nil {
		t.Fatalf("login: %v\nterminal:\n%s", err, term)
	}
	q := f.lastAuthQuery()
	if q.Get("connector_id") != "ldap" {
		t.Errorf("connector_id = %q", q.Get("connector_id"))
	}
	if !regexp.MustCompile(`^http://127\.0\.0\.1:[1-9][0-9]*/custom/cb$`).MatchString(q.Get("redirect_uri")) {
		t.Errorf("redirect_uri %q", q.Get("redirect_uri"))
	}
}

func TestInteractiveRejectsBadRedirectURL(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	for _, u := range []string{"https://localhost:1234/cb", "http://localhost/cb", "localhost:1234", "http://127.0.0.1:0/cb#frag"} {
		_, _, err := login(t, f, func(o *Options) { o.RedirectURL = u })
		if err == nil || !strings.Contains(err.Error(), "redirect URL") {
			t.Errorf("%s: err = %v", u, err)
		}
	}
	if auth, _ := f.counts(); auth != 0 {
		t.Errorf("authorization endpoint reached %d times", auth)
	}
}

// A callback with the wrong state is refused and its code never
// exchanged; the login waits on for the genuine one, and times out
// saying what it refused when none comes.
func TestInteractiveWrongStateIsNotExchanged(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	f.tamperState = true
	tok, term, err := login(t, f, func(o *Options) { o.LoginTimeout = time.Second })
	if !errors.Is(err, ErrLoginTimeout) || !errors.Is(err, ErrStateMismatch) || tok != nil {
		t.Fatalf("err = %v, want a timeout after a state mismatch", err)
	}
	if !strings.Contains(err.Error(), "refused 1 callback: login callback state does not match the login request") {
		t.Errorf("err = %v", err)
	}
	if auth, tokenCalls := f.counts(); auth != 1 || tokenCalls != 0 {
		t.Errorf("auth=%d token=%d; the code must not be exchanged", auth, tokenCalls)
	}
	term.waitFor(t, "opener-helper: fetched, status 400\n")
}

// Stray requests to the callback before the browser's (a forged state, no
// state, a favicon) are refused and do not end the login: the genuine
// callback that follows completes it.
func TestInteractiveStrayCallbacksFirst(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	f.strayFirst = true
	tok, term, err := login(t, f, nil)
	if err != nil || tok == nil || tok.Subject != "alice@example.com" {
		t.Fatalf("login = %v, %v\n%s", tok, err, term)
	}
	f.mu.Lock()
	strays := strings.Join(f.strays, ", ")
	f.mu.Unlock()
	if want := "/auth/callback 400, /auth/callback 400, /favicon.ico 404"; strays != want {
		t.Errorf("stray requests got %s; want %s", strays, want)
	}
	if _, tokenCalls := f.counts(); tokenCalls != 1 {
		t.Errorf("token endpoint called %d times, want 1 (the genuine code)", tokenCalls)
	}
	term.waitFor(t, "opener-helper: fetched, status 200\n")
}

func TestInteractiveRejectsBadIDTokens(t *testing.T) {
	t.Parallel()
	wrong := "not-the-nonce"
	for _, tc := range []struct {
		name   string
		knob   func(*fakeIssuer)
		target error
		want   string
	}{
		{"wrong nonce", func(f *fakeIssuer) { f.nonce = &wrong }, ErrNonceMismatch, "nonce"},
		{"missing nonce", func(f *fakeIssuer) { empty := ""; f.nonce = &empty }, ErrNonceMismatch, "nonce"},
		{"wrong audience", func(f *fakeIssuer) { f.aud = "someone-else" }, nil, `expected audience "gitsign-test"`},
		{"unpublished key", func(f *fakeIssuer) { f.foreignKey = true }, nil, "verifying the ID token"},
		{"expired", func(f *fakeIssuer) { f.expired = true }, nil, "expired"},
		{"bad at_hash", func(f *fakeIssuer) { f.badAtHash = true }, nil, "at_hash"},
		{"unverified email", func(f *fakeIssuer) { f.emailVerified = false }, nil, "has not verified the email alice@example.com"},
		{"issuer error", func(f *fakeIssuer) { f.authError = "access_denied" }, nil, `issuer refused the login: access_denied: "the user said no"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeIssuer(t)
			tc.knob(f)
			tok, term, err := login(t, f, nil)
			if err == nil || tok != nil {
				t.Fatalf("accepted: %+v", tok)
			}
			if tc.target != nil && !errors.Is(err, tc.target) {
				t.Errorf("err = %v, want %v", err, tc.target)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "eyJ") {
				t.Errorf("error may contain a JWT: %v", err)
			}
			term.waitFor(t, "opener-helper: fetched, status 400\n")
		})
	}
}

func TestInteractiveEmailVerifiedAsString(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	f.emailVerified = "true"
	if tok, _, err := login(t, f, nil); err != nil || tok.Subject != "alice@example.com" {
		t.Fatalf("tok=%v err=%v", tok, err)
	}
	f.email = "" // no email: the subject is sub
	if tok, _, err := login(t, f, nil); err != nil || tok.Subject != "user-1234" || tok.Email != "" {
		t.Fatalf("tok=%v err=%v", tok, err)
	}
}

func TestInteractiveRequiresPKCE(t *testing.T) {
	t.Parallel()
	for _, methods := range [][]string{nil, {"plain"}} {
		f := newFakeIssuer(t)
		f.pkceMethods = methods
		_, term, err := login(t, f, nil)
		if !errors.Is(err, ErrNoPKCE) {
			t.Errorf("%q: err = %v, want ErrNoPKCE", methods, err)
		}
		if auth, _ := f.counts(); auth != 0 || term.String() != "" {
			t.Errorf("%q: the login started anyway (auth=%d, terminal %q)", methods, auth, term)
		}
	}
}

func TestInteractiveRefusesNonHTTPAuthEndpoint(t *testing.T) {
	t.Parallel()
	for _, ep := range []string{"file:///etc/passwd", "javascript:alert(1)", "x-scheme:open"} {
		f := newFakeIssuer(t)
		f.authEndpoint = ep
		_, term, err := login(t, f, nil)
		if err == nil || !strings.Contains(err.Error(), "is not an http(s) URL") {
			t.Errorf("%s: err = %v", ep, err)
		}
		if term.String() != "" {
			t.Errorf("%s: terminal %q", ep, term)
		}
	}
}

func TestInteractiveCallbackNeverComes(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	f.noRedirect = true
	start := time.Now()
	_, term, err := login(t, f, func(o *Options) { o.LoginTimeout = 700 * time.Millisecond })
	elapsed := time.Since(start)
	if !errors.Is(err, ErrLoginTimeout) || !strings.Contains(err.Error(), "after 700ms") {
		t.Fatalf("err = %v, want ErrLoginTimeout", err)
	}
	if elapsed < 700*time.Millisecond || elapsed > 10*time.Second {
		t.Errorf("gave up after %v", elapsed)
	}
	if _, tokenCalls := f.counts(); tokenCalls != 0 {
		t.Errorf("token endpoint called %d times", tokenCalls)
	}
	term.waitFor(t, "opener-helper: fetched, status 200\n") // the "Please sign in" page
}

func TestInteractiveMissingOpener(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	_, term, err := login(t, f, func(o *Options) {
		o.URLOpener = "gitsign-test-no-such-browser --new-tab {{.URL}}"
		o.LoginTimeout = 500 * time.Millisecond
	})
	if !errors.Is(err, ErrLoginTimeout) || !errors.Is(err, exec.ErrNotFound) || !strings.Contains(err.Error(), "gitsign-test-no-such-browser") {
		t.Fatalf("err = %v, want a timeout naming the missing opener", err)
	}
	out := term.String()
	urlAt := strings.Index(out, f.srv.URL+"/auth?")
	failAt := strings.Index(out, "Could not open a browser:")
	if urlAt < 0 || failAt < urlAt || !strings.Contains(out, "Open the URL above in a browser to continue.") {
		t.Errorf("terminal should show the URL, then the opener failure:\n%s", out)
	}
}

func TestInteractiveBadOpenerTemplate(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	_, term, err := login(t, f, func(o *Options) {
		o.URLOpener = "firefox --new-tab" // no {{.URL}}
		o.LoginTimeout = 300 * time.Millisecond
	})
	if !errors.Is(err, ErrLoginTimeout) || !strings.Contains(err.Error(), "{{.URL}}") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(term.String(), f.srv.URL+"/auth?") {
		t.Errorf("URL not printed:\n%s", term)
	}
}

func TestInteractiveHonoursCancel(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	f.noRedirect = true
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Get(ctx, Options{
		Provider: "interactive", Issuer: f.srv.URL, ClientID: testClientID,
		URLOpener: helperOpener(t), LoginTimeout: time.Minute, LookupEnv: env(nil),
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancellation took %v", d)
	}
}

func TestInteractiveUnreachableIssuer(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	f.srv.Close()
	_, term, err := login(t, f, nil)
	if err == nil || !strings.Contains(err.Error(), "discovering issuer "+f.srv.URL) {
		t.Fatalf("err = %v", err)
	}
	if term.String() != "" {
		t.Errorf("terminal: %q", term)
	}
}

// TestInteractiveDefaultBrowser covers URLOpener == "" (pkg/browser): a
// fake xdg-open on PATH fetches the URL (so the login can only succeed if
// it ran), and what it prints must reach the terminal, not our stdout.
func TestInteractiveDefaultBrowser(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("pkg/browser runs xdg-open only on Linux")
	}
	fakeXDGOpen(t)
	f := newFakeIssuer(t)
	tok, term, err := login(t, f, func(o *Options) { o.URLOpener = "" })
	if err != nil || tok.Subject != "alice@example.com" {
		t.Fatalf("tok=%v err=%v\nterminal:\n%s", tok, err, term)
	}
	// Printed before the login ended. (What the browser prints after the
	// login is discarded, so it cannot reach a terminal the caller closed.)
	term.waitFor(t, "xdg-open chatter\n")
}

// fakeXDGOpen puts an xdg-open that fetches its URL with the opener
// helper first (and alone) on PATH, for pkg/browser. It uses t.Setenv, so
// the test cannot be parallel.
func fakeXDGOpen(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("pkg/browser runs xdg-open only on Linux")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	script := "#!/bin/sh\necho xdg-open chatter\nexec " + joinCommand([]string{exe, openerHelperArg}) + " \"$1\"\n"
	if err := os.WriteFile(filepath.Join(dir, "xdg-open"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
}

// absentFile is a token file path that does not exist.
func absentFile(t *testing.T) string {
	return filepath.Join(t.TempDir(), "absent")
}
