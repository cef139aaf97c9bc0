package oauth

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

const testClientID = "gitsign-test"

// fakeIssuer is an in-process OIDC issuer: discovery, JWKS, an /auth that
// redirects straight back with a code, and a /token that checks PKCE and
// returns an ES256 id_token carrying the nonce it saw. The knobs are set
// before the flow starts and make it misbehave in one specific way.
type fakeIssuer struct {
	t      *testing.T
	srv    *httptest.Server
	signer *signer
	other  *signer // a key the issuer does not publish

	pkceMethods   []string // code_challenge_methods_supported
	tamperState   bool     // redirect with a state other than the one sent
	noRedirect    bool     // /auth answers 200 and never redirects
	authError     string   // redirect with error=<authError>
	nonce         *string  // id_token nonce instead of the one sent
	aud           string   // id_token audience instead of the client ID
	email         string   // email claim ("" = none)
	emailVerified any      // email_verified claim
	badAtHash     bool     // at_hash that does not match the access token
	foreignKey    bool     // sign the id_token with an unpublished key
	expired       bool     // id_token already expired
	authEndpoint  string   // advertised authorization_endpoint ("" = /auth)
	issParam      *string  // iss on the callback (nil: the issuer's URL)
	noISSSupport  bool     // do not advertise authorization_response_iss_parameter_supported
	replayCode    bool     // the callback is requested twice with the same code
	codeOverride  string   // redirect with this code instead of a fresh one
	strayFirst    bool     // before redirecting, send the callback stray requests (strays)

	// Device flow (RFC 8628): see device_test.go.
	dev deviceKnobs

	mu         sync.Mutex
	authQuery  url.Values
	authCalls  int
	tokenCalls int
	grants     map[string]grant
	devices    map[string]*deviceGrant
	polls      []time.Time
	lastCode   string
	replayed   chan int // status of the replayed callback
	strays     []string // "path status" of each stray request strayFirst sent
}

type grant struct{ challenge, nonce, redirect string }

func newFakeIssuer(t *testing.T) *fakeIssuer {
	f := &fakeIssuer{
		t: t, signer: newSigner(t), other: newSigner(t),
		pkceMethods: []string{"plain", "S256"}, email: "alice@example.com", emailVerified: true,
		grants: map[string]grant{}, devices: map[string]*deviceGrant{}, replayed: make(chan int, 1),
	}
	f.other.kid = f.signer.kid // same kid, wrong key
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", f.discovery)
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(f.signer.jwks(t))
	})
	mux.HandleFunc("GET /auth", f.auth)
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("POST /device/auth", f.deviceAuth)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeIssuer) discovery(w http.ResponseWriter, r *http.Request) {
	u := f.srv.URL
	authEndpoint := u + "/auth"
	if f.authEndpoint != "" {
		authEndpoint = f.authEndpoint
	}
	doc := map[string]any{
		"issuer": u, "authorization_endpoint": authEndpoint, "token_endpoint": u + "/token", "jwks_uri": u + "/keys",
		"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": []string{"ES256"},
		"code_challenge_methods_supported":      f.pkceMethods,
		"device_authorization_endpoint":         u + "/device/auth",
	}
	if f.dev.noEndpoint {
		delete(doc, "device_authorization_endpoint")
	}
	if !f.noISSSupport {
		doc["authorization_response_iss_parameter_supported"] = true
	}
	writeJSON(w, http.StatusOK, doc)
}

func (f *fakeIssuer) auth(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	f.authCalls++
	f.authQuery = q
	f.mu.Unlock()
	if q.Get("client_id") != testClientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	if f.noRedirect {
		fmt.Fprintln(w, "<p>Please sign in</p>")
		return
	}
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	v := back.Query()
	state := q.Get("state")
	if f.tamperState {
		state = "forged-" + state
	}
	v.Set("state", state)
	switch {
	case f.issParam == nil:
		v.Set("iss", f.srv.URL)
	case *f.issParam != "":
		v.Set("iss", *f.issParam)
	}
	if f.authError != "" {
		v.Set("error", f.authError)
		v.Set("error_description", "the user said no")
	} else {
		code := randomCode(f.t)
		f.mu.Lock()
		f.grants[code] = grant{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), redirect: q.Get("redirect_uri")}
		f.lastCode = code
		if f.codeOverride != "" {
			delete(f.grants, code)
			code = f.codeOverride
			if g, ok := f.grants[code]; ok {
				// Another login's unused code: only PKCE tells them apart.
				g.redirect = q.Get("redirect_uri")
				f.grants[code] = g
			}
		}
		f.mu.Unlock()
		v.Set("code", code)
	}
	back.RawQuery = v.Encode()
	if f.replayCode {
		// An attacker who saw the callback URL sends it first; the
		// browser's own request then finds the login already handled.
		go func() {
			resp, err := http.Get(back.String())
			if err != nil {
				f.t.Error(err)
				return
			}
			resp.Body.Close()
			f.replayed <- resp.StatusCode
		}()
		time.Sleep(200 * time.Millisecond)
	}
	if f.strayFirst {
		f.sendStrays(back)
	}
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// sendStrays sends what another local process could send to the callback
// before the browser's genuine request: the callback with this login's
// code and a forged state, with no state, and a request for a favicon.
func (f *fakeIssuer) sendStrays(back *url.URL) {
	forged, none, favicon := *back, *back, *back
	q := back.Query()
	q.Set("state", "forged-"+q.Get("state"))
	forged.RawQuery = q.Encode()
	q.Del("state")
	none.RawQuery = q.Encode()
	favicon.Path, favicon.RawQuery = "/favicon.ico", ""
	for _, u := range []*url.URL{&forged, &none, &favicon} {
		resp, err := http.Get(u.String())
		if err != nil {
			f.t.Error(err)
			return
		}
		resp.Body.Close()
		f.mu.Lock()
		f.strays = append(f.strays, fmt.Sprintf("%s %d", u.Path, resp.StatusCode))
		f.mu.Unlock()
	}
}

func (f *fakeIssuer) token(w http.ResponseWriter, r *http.Request) {
	if r.PostFormValue("grant_type") == deviceGrantType {
		f.deviceToken(w, r)
		return
	}
	f.mu.Lock()
	f.tokenCalls++
	g, ok := f.grants[r.FormValue("code")]
	delete(f.grants, r.FormValue("code")) // codes are single use
	f.mu.Unlock()

	clientID, _, basic := r.BasicAuth()
	if !basic {
		clientID = r.PostFormValue("client_id")
	}
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	switch {
	case r.PostFormValue("grant_type") != "authorization_code" || !ok:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	case clientID != testClientID:
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	case r.PostFormValue("redirect_uri") != g.redirect:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "redirect_uri mismatch"})
		return
	case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "PKCE verification failed"})
		return
	}

	writeJSON(w, http.StatusOK, f.tokenResponse(g.nonce))
}

// tokenResponse mints an access token and an ID token carrying nonce,
// spoiled as the knobs say.
func (f *fakeIssuer) tokenResponse(nonce string) map[string]any {
	access := "access-" + randomCode(f.t)
	ah := sha256.Sum256([]byte(access))
	if f.badAtHash {
		ah = sha256.Sum256([]byte("another access token"))
	}
	now := time.Now()
	claims := map[string]any{
		"iss": f.srv.URL, "sub": "user-1234", "aud": testClientID,
		"iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
		"at_hash": base64.RawURLEncoding.EncodeToString(ah[:16]),
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if f.nonce != nil {
		claims["nonce"] = *f.nonce
	}
	if f.aud != "" {
		claims["aud"] = f.aud
	}
	if f.email != "" {
		claims["email"], claims["email_verified"] = f.email, f.emailVerified
	}
	if f.expired {
		claims["iat"], claims["exp"] = now.Add(-time.Hour).Unix(), now.Add(-time.Minute).Unix()
	}
	s := f.signer
	if f.foreignKey {
		s = f.other
	}
	return map[string]any{
		"access_token": access, "token_type": "Bearer", "expires_in": 600,
		"id_token": s.sign(f.t, claims),
	}
}

func (f *fakeIssuer) counts() (auth, token int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.authCalls, f.tokenCalls
}

func (f *fakeIssuer) lastAuthQuery() url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.authQuery
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func randomCode(t *testing.T) string {
	s, err := randomString()
	if err != nil {
		t.Error(err)
	}
	return s
}
