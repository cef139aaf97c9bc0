package oauth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestCallbackIssuerParameter(t *testing.T) {
	t.Parallel()
	other, none := "https://evil.example", ""
	for _, tc := range []struct {
		name   string
		knob   func(*fakeIssuer)
		target error
		want   string
	}{
		{"another issuer", func(f *fakeIssuer) { f.issParam = &other }, ErrIssuerMismatch, "it names https://evil.example, not http://127.0.0.1:"},
		{"missing although promised", func(f *fakeIssuer) { f.issParam = &none }, ErrIssuerMismatch, "it has no iss parameter"},
		{"missing and not promised", func(f *fakeIssuer) { f.issParam = &none; f.noISSSupport = true }, nil, ""},
		{"wrong and not promised", func(f *fakeIssuer) { f.issParam = &other; f.noISSSupport = true }, ErrIssuerMismatch, "evil.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeIssuer(t)
			tc.knob(f)
			tok, term, err := login(t, f, nil)
			if tc.target == nil {
				if err != nil {
					t.Fatalf("%v\n%s", err, term)
				}
				return
			}
			if !errors.Is(err, tc.target) || tok != nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tc.target, tc.want)
			}
			if _, tokenCalls := f.counts(); tokenCalls != 0 {
				t.Errorf("the code was exchanged %d times", tokenCalls)
			}
			term.waitFor(t, "opener-helper: fetched, status 400\n")
		})
	}
}

// A callback sent twice (an attacker who saw the URL, then the browser) is
// handled once: the code is exchanged once, the second request is refused.
func TestCallbackReplayedWithinALogin(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	f.replayCode = true
	tok, term, err := login(t, f, nil)
	if err != nil || tok == nil {
		t.Fatalf("%v\n%s", err, term)
	}
	if _, tokenCalls := f.counts(); tokenCalls != 1 {
		t.Errorf("token endpoint called %d times, want 1", tokenCalls)
	}
	if status := <-f.replayed; status != http.StatusOK {
		t.Errorf("first callback got %d", status)
	}
	// The browser's copy comes second: refused, or the listener is gone.
	term.waitFor(t, "opener-helper: ")
	if out := term.String(); !strings.Contains(out, "status 409\n") && !strings.Contains(out, "connection refused") {
		t.Errorf("the second callback was not refused:\n%s", out)
	}
}

// A code from an earlier login (already redeemed) or from another login
// (another PKCE verifier), delivered with this login's state, is refused
// by the issuer, and the login fails.
func TestCallbackReplayedCode(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	if _, term, err := login(t, f, nil); err != nil {
		t.Fatalf("first login: %v\n%s", err, term)
	}
	f.mu.Lock()
	used := f.lastCode
	f.grants["unused-other-login"] = grant{challenge: "not-ours", nonce: "n"}
	f.mu.Unlock()
	for _, code := range []string{used, "unused-other-login"} {
		f.codeOverride = code
		tok, term, err := login(t, f, nil)
		if err == nil || tok != nil {
			t.Fatalf("code %s accepted", code)
		}
		if !strings.Contains(err.Error(), "exchanging the authorization code") || !strings.Contains(err.Error(), "invalid_grant") {
			t.Errorf("code %s: err = %v", code, err)
		}
		term.waitFor(t, "opener-helper: fetched, status 400\n")
	}
}

func TestSuccessPageAutoclose(t *testing.T) {
	for _, tc := range []struct {
		name      string
		autoclose time.Duration
		err       error
		want      []string
		script    bool
	}{
		{"default", DefaultAutocloseTimeout, nil, []string{"<title>Signed in</title>", `This tab closes in <span id="secs">6</span> s.`, "window.close()"}, true},
		{"rounded up", 1500 * time.Millisecond, nil, []string{`<span id="secs">2</span>`}, true},
		{"disabled", 0, nil, []string{"<title>Signed in</title>", "You can close this tab"}, false},
		{"failure stays open", DefaultAutocloseTimeout, errors.New("nope <b>"), []string{"<title>Sign-in failed</title>", "nope &lt;b&gt;"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			writePage(rec, http.StatusOK, tc.err, tc.autoclose)
			body := rec.Body.String()
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q:\n%s", w, body)
				}
			}
			csp := rec.Header().Get("Content-Security-Policy")
			m := regexp.MustCompile(`<script nonce="([A-Za-z0-9_-]{22})">`).FindStringSubmatch(body)
			if !tc.script {
				if strings.Contains(body, "<script") || csp != "default-src 'none'" {
					t.Errorf("unexpected script or CSP %q:\n%s", csp, body)
				}
				return
			}
			if m == nil || csp != "default-src 'none'; script-src 'nonce-"+m[1]+"'" {
				t.Errorf("script nonce and CSP %q do not match:\n%s", csp, body)
			}
			if rec.Header().Get("Referrer-Policy") != "no-referrer" || rec.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("headers %v", rec.Header())
			}
		})
	}
}

func TestInteractiveAutocloseOption(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		edit func(*Options)
		want string
	}{
		{nil, `autoclose <span id="secs">6</span>`},
		{func(o *Options) { o.AutocloseTimeout = 3 * time.Second }, `autoclose <span id="secs">3</span>`},
		{func(o *Options) { o.DisableAutoclose = true }, "autoclose off"},
	} {
		f := newFakeIssuer(t)
		_, term, err := login(t, f, tc.edit)
		if err != nil {
			t.Fatalf("%v\n%s", err, term)
		}
		term.waitFor(t, "opener-helper: fetched, status 200\n")
		if !strings.Contains(term.String(), "opener-helper: "+tc.want+"\n") {
			t.Errorf("success page: want %q; terminal:\n%s", tc.want, term)
		}
	}
}
