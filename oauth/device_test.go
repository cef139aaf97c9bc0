package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// deviceKnobs make the fake issuer's device flow misbehave. Times are in
// deviceUnit, which TestMain shortens.
type deviceKnobs struct {
	noEndpoint  bool   // no device_authorization_endpoint in discovery
	interval    int64  // "interval" (0: left out)
	expiresIn   int64  // "expires_in" (0: left out)
	pending     int    // polls answered authorization_pending before approval
	slowDown    int    // of those, how many are answered slow_down first
	never       bool   // never approve
	deny        bool   // answer access_denied
	expire      bool   // answer expired_token
	pollStatus  int    // answer every poll with this HTTP status
	pollError   string // answer every poll with this OAuth error
	verifyURI   string // verification_uri ("" = the issuer's /device)
	authError   string // the device authorization request fails with this error
	echoNonce   bool   // put the request's nonce into the ID token
	noChallenge bool   // accept a request without PKCE
}

type deviceGrant struct {
	challenge, nonce string
	polls            int
}

const testDeviceCode = "device-code-0123456789"

func (f *fakeIssuer) deviceAuth(w http.ResponseWriter, r *http.Request) {
	d := f.dev
	if r.PostFormValue("client_id") != testClientID || r.PostFormValue("scope") != "openid email" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	if d.authError != "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": d.authError, "error_description": "not for you"})
		return
	}
	if !d.noChallenge && (r.PostFormValue("code_challenge_method") != "S256" || r.PostFormValue("code_challenge") == "") {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "PKCE required"})
		return
	}
	f.mu.Lock()
	f.devices[testDeviceCode] = &deviceGrant{challenge: r.PostFormValue("code_challenge"), nonce: r.PostFormValue("nonce")}
	f.mu.Unlock()
	uri := f.srv.URL + "/device"
	if d.verifyURI != "" {
		uri = d.verifyURI
	}
	resp := map[string]any{
		"device_code": testDeviceCode, "user_code": "WDJB-MJHT",
		"verification_uri": uri, "verification_uri_complete": uri + "?user_code=WDJB-MJHT",
	}
	if d.interval > 0 {
		resp["interval"] = d.interval
	}
	if d.expiresIn > 0 {
		resp["expires_in"] = d.expiresIn
	}
	writeJSON(w, http.StatusOK, resp)
}

func (f *fakeIssuer) deviceToken(w http.ResponseWriter, r *http.Request) {
	d := f.dev
	f.mu.Lock()
	f.polls = append(f.polls, time.Now())
	g, ok := f.devices[r.PostFormValue("device_code")]
	if ok {
		g.polls++
	}
	f.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	switch {
	case d.pollStatus != 0:
		w.WriteHeader(d.pollStatus)
		return
	case d.pollError != "":
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": d.pollError, "error_description": "no such grant"})
		return
	case !ok || r.PostFormValue("client_id") != testClientID:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	case !d.noChallenge && base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "PKCE verification failed"})
		return
	case d.deny:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "access_denied"})
		return
	case d.expire:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "expired_token"})
		return
	case g.polls <= d.slowDown:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "slow_down"})
		return
	case d.never || g.polls <= d.pending:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "authorization_pending"})
		return
	}
	nonce := ""
	if d.echoNonce {
		nonce = g.nonce
	}
	f.mu.Lock()
	delete(f.devices, testDeviceCode)
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, f.tokenResponse(nonce))
}

func (f *fakeIssuer) pollTimes() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.polls...)
}

// deviceLogin runs the device flow against f.
func deviceLogin(t *testing.T, f *fakeIssuer, edit func(*Options)) (*IDToken, *syncBuffer, error) {
	t.Helper()
	term := &syncBuffer{}
	o := Options{
		Provider: "device", Issuer: f.srv.URL, ClientID: testClientID,
		Timeout: 5 * time.Second, Terminal: term, Notify: tellTerminal(term), LookupEnv: env(nil),
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

func TestDeviceGoodFlow(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	f.dev = deviceKnobs{interval: 2, pending: 2, echoNonce: true}
	start := time.Now()
	tok, term, err := deviceLogin(t, f, nil)
	if err != nil {
		t.Fatalf("device login: %v\nterminal:\n%s", err, term)
	}
	if tok.Source != "device" || tok.Subject != "alice@example.com" || tok.Issuer != f.srv.URL {
		t.Errorf("token %v", tok)
	}
	out := term.String()
	for _, want := range []string{
		"open this page in a browser on any device:\n\n    " + f.srv.URL + "/device\n",
		"and enter the code  WDJB-MJHT\n",
		"(or open " + f.srv.URL + "/device?user_code=WDJB-MJHT, which fills in the code)",
		"the code expires in 10m0s", // the RFC's default lifetime when expires_in is left out
		"press Ctrl-C to cancel",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal lacks %q:\n%s", want, out)
		}
	}
	polls := f.pollTimes()
	if len(polls) != 3 {
		t.Fatalf("%d polls, want 3 (two pending, then the token)", len(polls))
	}
	// The server's interval is honoured before every poll.
	prev := start
	for i, p := range polls {
		if gap := p.Sub(prev); gap < 2*deviceUnit {
			t.Errorf("poll %d came %v after the previous one, want >= %v", i, gap, 2*deviceUnit)
		}
		prev = p
	}
}

func TestDeviceSlowDown(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	f.dev = deviceKnobs{interval: 1, pending: 2, slowDown: 2}
	if _, term, err := deviceLogin(t, f, nil); err != nil {
		t.Fatalf("%v\n%s", err, term)
	}
	polls := f.pollTimes()
	if len(polls) != 3 {
		t.Fatalf("%d polls, want 3", len(polls))
	}
	// interval 1, then +5 after each slow_down: 6, then 11.
	for i, want := range []time.Duration{6 * deviceUnit, 11 * deviceUnit} {
		if gap := polls[i+1].Sub(polls[i]); gap < want {
			t.Errorf("gap %d = %v, want >= %v after slow_down", i, gap, want)
		}
	}
}

func TestDeviceFailures(t *testing.T) {
	t.Parallel()
	wrong := "not-the-nonce"
	for _, tc := range []struct {
		name   string
		knobs  deviceKnobs
		spoil  func(*fakeIssuer)
		target error
		want   string
		polls  int // -1: do not check
	}{
		{"expires", deviceKnobs{interval: 1, expiresIn: 4, never: true}, nil, ErrDeviceCodeExpired, "it was valid for", -1},
		{"denied", deviceKnobs{interval: 1, deny: true}, nil, ErrAccessDenied, "refused at the issuer", 1},
		{"expired_token", deviceKnobs{interval: 1, expire: true}, nil, ErrDeviceCodeExpired, "expired", 1},
		{"issuer down while polling", deviceKnobs{interval: 1, pollStatus: 503}, nil, nil, "failed 3 times in a row: HTTP 503", 3},
		{"unknown poll error", deviceKnobs{interval: 1, pollError: "invalid_grant"}, nil, nil, `refused the device sign-in: invalid_grant: "no such grant"`, 1},
		{"wrong nonce", deviceKnobs{interval: 1}, func(f *fakeIssuer) { f.nonce = &wrong }, ErrNonceMismatch, "nonce", 1},
		{"wrong audience", deviceKnobs{interval: 1}, func(f *fakeIssuer) { f.aud = "someone-else" }, nil, `expected audience "gitsign-test"`, 1},
		{"unpublished key", deviceKnobs{interval: 1}, func(f *fakeIssuer) { f.foreignKey = true }, nil, "verifying the ID token", 1},
		{"expired ID token", deviceKnobs{interval: 1}, func(f *fakeIssuer) { f.expired = true }, nil, "expired", 1},
		{"refused request", deviceKnobs{authError: "unauthorized_client"}, nil, nil, "requesting a sign-in code from", 0},
		{"javascript verification URI", deviceKnobs{verifyURI: "javascript:alert(1)"}, nil, nil, "verification URI javascript:alert(1) is not an http(s) URL", 0},
		{"no device endpoint", deviceKnobs{noEndpoint: true}, nil, ErrNoDeviceFlow, "device_authorization_endpoint", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeIssuer(t)
			f.dev = tc.knobs
			if tc.spoil != nil {
				tc.spoil(f)
			}
			tok, term, err := deviceLogin(t, f, nil)
			if err == nil || tok != nil {
				t.Fatalf("accepted: %v", tok)
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
			if tc.polls >= 0 && len(f.pollTimes()) != tc.polls {
				t.Errorf("%d polls, want %d", len(f.pollTimes()), tc.polls)
			}
			if tc.polls == 0 && strings.Contains(term.String(), "enter the code") {
				t.Errorf("a code was shown although the flow could not start:\n%s", term)
			}
		})
	}
}

func TestDeviceNonceOptionalButChecked(t *testing.T) {
	t.Parallel()
	// Without a nonce in the ID token (oidc-provider, Dex) the token is
	// accepted; with the right one too; a wrong one is covered above.
	for _, echo := range []bool{false, true} {
		f := newFakeIssuer(t)
		f.dev = deviceKnobs{interval: 1, echoNonce: echo}
		if _, term, err := deviceLogin(t, f, nil); err != nil {
			t.Errorf("echo=%v: %v\n%s", echo, err, term)
		}
	}
}

func TestDeviceWithoutPKCESupport(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	f.pkceMethods = nil
	f.dev = deviceKnobs{interval: 1, noChallenge: true}
	if _, term, err := deviceLogin(t, f, nil); err != nil {
		t.Fatalf("%v\n%s", err, term)
	}
}

func TestDeviceCancel(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	f.dev = deviceKnobs{interval: 1, never: true}
	ctx, cancel := context.WithCancel(context.Background())
	term := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		_, err := Get(ctx, Options{Provider: "device", Issuer: f.srv.URL, ClientID: testClientID, Terminal: term, Notify: tellTerminal(term), LookupEnv: env(nil)})
		done <- err
	}()
	term.waitFor(t, "enter the code")
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "waiting for the device sign-in") {
			t.Errorf("err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the device flow did not stop when cancelled")
	}
}

// In auto mode a machine without a display uses the device flow, and falls
// back to the browser flow when the issuer has none.
func TestAutoHeadlessUsesDevice(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	f.dev = deviceKnobs{interval: 1}
	var chosen string
	var steps []string
	tok, term, err := deviceLogin(t, f, func(o *Options) {
		o.Provider = ""
		o.TokenFile = absentFile(t)
		o.LookupEnv = env(map[string]string{"SSH_CONNECTION": "10.0.0.1 5555 10.0.0.2 22", "DISPLAY": ":0"})
		render := o.Notify
		o.Notify = func(n Notice) {
			if dc, ok := n.(DeviceChosen); ok {
				chosen = dc.Why
			}
			render(n)
		}
		o.Progress = func(step string) func(error) {
			steps = append(steps, "start "+step)
			return func(err error) { steps = append(steps, fmt.Sprintf("end %s: %v", step, err)) }
		}
	})
	if err != nil || tok.Source != "device" {
		t.Fatalf("tok=%v err=%v\n%s", tok, err, term)
	}
	if !strings.Contains(term.String(), "No browser can be opened here (this is an SSH session: SSH_CONNECTION is set)") {
		t.Errorf("the terminal does not say why:\n%s", term)
	}
	if strings.Contains(term.String(), "gitsign.") || strings.Contains(term.String(), "GITSIGN_") {
		t.Errorf("the library names gitsign's settings:\n%s", term)
	}
	if chosen != "this is an SSH session: SSH_CONNECTION is set" {
		t.Errorf("DeviceChosen got %q", chosen)
	}
	want := []string{"start waiting for the sign-in with the code", "end waiting for the sign-in with the code: <nil>"}
	if strings.Join(steps, "|") != strings.Join(want, "|") {
		t.Errorf("progress %q, want %q", steps, want)
	}
}

// TestAutoFallsBackToBrowser: auto mode on a machine without a display
// picks the device flow; an issuer without one gets the browser flow
// (here a fake xdg-open, so it is not parallel).
func TestAutoFallsBackToBrowser(t *testing.T) {
	fakeXDGOpen(t)
	f := newFakeIssuer(t)
	f.dev = deviceKnobs{noEndpoint: true}
	tok, term, err := login(t, f, func(o *Options) {
		o.Provider = ""
		o.TokenFile = absentFile(t)
		o.URLOpener = ""
		o.LookupEnv = env(nil) // no DISPLAY
	})
	if err != nil || tok.Source != "interactive" {
		t.Fatalf("tok=%v err=%v\n%s", tok, err, term)
	}
	if !strings.Contains(term.String(), "The issuer does not offer the device flow; signing in with a browser instead.") {
		t.Errorf("terminal:\n%s", term)
	}
}

func TestDeviceTerminalTextIsSafe(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	f.dev = deviceKnobs{interval: 1, verifyURI: "https://evil.example/\x1b]0;owned\x07"}
	_, term, err := deviceLogin(t, f, nil)
	if err == nil {
		t.Fatal("a verification URI with control characters was accepted")
	}
	if strings.ContainsAny(term.String(), "\x1b\x07") {
		t.Errorf("control characters reached the terminal: %q", term)
	}
	if !regexp.MustCompile(`verification URI "https://evil\.example/\\x1b\]0;owned\\a" is not an http\(s\) URL`).MatchString(err.Error()) {
		t.Errorf("err = %v", err)
	}
}
