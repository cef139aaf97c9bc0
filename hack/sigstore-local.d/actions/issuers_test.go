package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// serve starts h on a test server whose URL is the issuer URL new gets.
func serve(t *testing.T, newHandler func(url string) http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.Config.Handler = newHandler("http://" + srv.Listener.Addr().String())
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func quiet() *log.Logger { return log.New(io.Discard, "", 0) }

// verifyWith checks a token (RS256 or ES256) against the key the issuer
// at base publishes, found through its discovery document, and returns
// the token's header and claims.
func verifyWith(t *testing.T, base, tok string) (map[string]string, map[string]any) {
	t.Helper()
	d := getJSON(t, newReq(t, "GET", base+"/.well-known/openid-configuration", nil), 200)
	if d["issuer"] != base {
		t.Errorf("discovery issuer %v, want %s", d["issuer"], base)
	}
	jwks := getJSON(t, newReq(t, "GET", d["jwks_uri"].(string), nil), 200)
	k := jwks["keys"].([]any)[0].(map[string]any)
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", tok)
	}
	var header map[string]string
	raw, _ := base64.RawURLEncoding.DecodeString(parts[0])
	json.Unmarshal(raw, &header)
	if header["kid"] != k["kid"] || header["alg"] != k["alg"] || header["typ"] != "JWT" {
		t.Errorf("header %v, key %v", header, k)
	}
	dec := func(name string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(k[name].(string))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch k["kty"] {
	case "RSA":
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(dec("n")), E: int(new(big.Int).SetBytes(dec("e")).Int64())}
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig); err != nil || header["alg"] != "RS256" {
			t.Fatalf("RS256 token does not verify with the JWKS (alg %s): %v", header["alg"], err)
		}
	case "EC":
		pt := append(append([]byte{4}, dec("x")...), dec("y")...)
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), pt)
		if err != nil {
			t.Fatal(err)
		}
		if len(sig) != 64 || header["alg"] != "ES256" ||
			!ecdsa.Verify(pub, h[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			t.Fatalf("ES256 token does not verify with the JWKS (alg %s)", header["alg"])
		}
	default:
		t.Fatalf("key type %v", k["kty"])
	}
	var c map[string]any
	raw, _ = base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return header, c
}

func checkClaims(t *testing.T, c map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if c[k] != v {
			t.Errorf("%s = %#v, want %#v", k, c[k], v)
		}
	}
}

func lifetime(c map[string]any) float64 { return c["exp"].(float64) - c["iat"].(float64) }

func testBuildkite(t *testing.T) (*buildkiteIssuer, *httptest.Server) {
	var bk *buildkiteIssuer
	srv := serve(t, func(u string) http.Handler {
		var err error
		if bk, err = newBuildkiteIssuer(u, quiet()); err != nil {
			t.Fatal(err)
		}
		return bk.handler()
	})
	return bk, srv
}

func TestBuildkiteMint(t *testing.T) {
	_, srv := testBuildkite(t)
	_, c := verifyWith(t, srv.URL, getJSON(t, newReq(t, "GET", srv.URL+"/mint", nil), 200)["value"].(string))
	commit, _ := c["build_commit"].(string)
	checkClaims(t, c, map[string]any{
		"iss": srv.URL, "aud": "sigstore",
		"sub":               "organization:acme:pipeline:app:ref:refs/heads/main:commit:" + commit + ":step:sign",
		"organization_slug": "acme", "pipeline_slug": "app", "build_branch": "main", "step_key": "sign",
		"build_source": "webhook", "runner_environment": "self-hosted",
	})
	if !shaRE.MatchString(commit) || !uuidRE.MatchString(c["job_id"].(string)) || !uuidRE.MatchString(c["agent_id"].(string)) {
		t.Errorf("build_commit %v, job_id %v, agent_id %v", c["build_commit"], c["job_id"], c["agent_id"])
	}
	if n, ok := c["build_number"].(float64); !ok || n < 1 {
		t.Errorf("build_number %#v, want a number (as Buildkite's)", c["build_number"])
	}
	if _, ok := c["build_tag"]; ok || lifetime(c) != 300 {
		t.Errorf("build_tag %v, lifetime %v", c["build_tag"], lifetime(c))
	}

	q := url.Values{"organization": {"octo-org"}, "pipeline": {"widget"}, "tag": {"v1.2.3"}, "commit": {strings.Repeat("ab", 20)},
		"step_key": {"release"}, "build_number": {"42"}, "build_source": {"api"}, "runner_environment": {"buildkite-hosted"},
		"ttl": {"5"}, "audience": {"other"}}
	_, c = verifyWith(t, srv.URL, getJSON(t, newReq(t, "POST", srv.URL+"/mint", strings.NewReader(q.Encode())), 200)["value"].(string))
	checkClaims(t, c, map[string]any{
		"aud": "other", "sub": "organization:octo-org:pipeline:widget:ref:refs/tags/v1.2.3:commit:" + strings.Repeat("ab", 20) + ":step:release",
		"build_tag": "v1.2.3", "build_number": float64(42), "build_source": "api", "runner_environment": "buildkite-hosted",
	})
	if lifetime(c) != 5 {
		t.Errorf("lifetime %v, want 5", lifetime(c))
	}
	for _, bad := range []string{"organization=Acme", "pipeline=a/b", "branch=a:b", "commit=abc", "step_key=a%20b",
		"build_number=0", "build_source=push", "runner_environment=cloud", "ttl=0", "audience=", "repo=x", "tag=a&tag=b"} {
		getJSON(t, newReq(t, "GET", srv.URL+"/mint?"+bad, nil), 400)
	}
}

func TestBuildkiteAgentAPI(t *testing.T) {
	bk, srv := testBuildkite(t)
	const defaultID = "0190b1c2-0000-4000-8000-000000000001"
	if err := bk.addJob(mustBKJob(t, url.Values{}), defaultID, "default-token"); err != nil {
		t.Fatal(err)
	}
	job := getJSON(t, newReq(t, "POST", srv.URL+"/jobs", strings.NewReader("organization=octo-org&pipeline=widget&build_number=7")), 201)
	id, tok := job["job_id"].(string), job["access_token"].(string)
	if job["endpoint"] != srv.URL+"/v3" || !uuidRE.MatchString(id) || !strings.HasPrefix(tok, "bkaj_") || job["build_number"] != float64(7) {
		t.Fatalf("job %v", job)
	}

	ask := func(id, auth, body string, status int) map[string]any {
		req := newReq(t, "POST", srv.URL+"/v3/jobs/"+id+"/oidc/tokens", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		return getJSON(t, req, status)
	}
	_, c := verifyWith(t, srv.URL, ask(id, "Token "+tok, `{"audience":"sigstore"}`, 201)["token"].(string))
	checkClaims(t, c, map[string]any{"aud": "sigstore", "job_id": id, "organization_slug": "octo-org", "pipeline_slug": "widget", "build_number": float64(7)})
	if lifetime(c) != 300 {
		t.Errorf("lifetime %v, want 300", lifetime(c))
	}
	_, c2 := verifyWith(t, srv.URL, ask(id, "Token "+tok, `{"audience":"sigstore"}`, 201)["token"].(string))
	if c2["agent_id"] != c["agent_id"] || c2["build_commit"] != c["build_commit"] {
		t.Errorf("two tokens of one job differ: %v then %v", c, c2)
	}
	_, c = verifyWith(t, srv.URL, ask(id, "Token "+tok, `{"lifetime":60}`, 201)["token"].(string))
	if c["aud"] != "https://buildkite.com/octo-org" || lifetime(c) != 60 {
		t.Errorf("default audience %v, lifetime %v", c["aud"], lifetime(c))
	}
	_, c = verifyWith(t, srv.URL, ask(defaultID, "Token default-token", "", 201)["token"].(string))
	checkClaims(t, c, map[string]any{"job_id": defaultID, "organization_slug": "acme", "aud": "https://buildkite.com/acme"})

	if m := ask(id, "Token default-token", `{}`, 401); m["message"] != "Unauthorized" {
		t.Errorf("another job's access token: %v", m)
	}
	ask(id, "", `{}`, 401)
	ask(id, "Bearer "+tok, `{}`, 401)
	ask("0190b1c2-0000-4000-8000-00000000dead", "Token "+tok, `{}`, 404)
	ask(id, "Token "+tok, `{"lifetime":-1}`, 422)
	ask(id, "Token "+tok, `{"audience":`, 400)
}

func mustBKJob(t *testing.T, v url.Values) *bkJob {
	t.Helper()
	j, err := parseBKJob(v)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestGoogleMint(t *testing.T) {
	srv := serve(t, func(u string) http.Handler {
		g, err := newGoogleIssuer(u, quiet())
		if err != nil {
			t.Fatal(err)
		}
		return g.handler()
	})
	if d := getJSON(t, newReq(t, "GET", srv.URL+"/.well-known/openid-configuration", nil), 200); d["jwks_uri"] != srv.URL+"/oauth2/v3/certs" {
		t.Errorf("jwks_uri %v", d["jwks_uri"])
	}
	_, c := verifyWith(t, srv.URL, getJSON(t, newReq(t, "GET", srv.URL+"/mint", nil), 200)["value"].(string))
	checkClaims(t, c, map[string]any{"iss": srv.URL, "aud": "sigstore", "email": "gitsign@acme-ci.iam.gserviceaccount.com", "email_verified": true})
	sub, _ := c["sub"].(string)
	if len(sub) != 21 || strings.Trim(sub, "0123456789") != "" || c["azp"] != sub || lifetime(c) != 3600 {
		t.Errorf("sub %v, azp %v, lifetime %v", c["sub"], c["azp"], lifetime(c))
	}
	ce, _ := c["google"].(map[string]any)["compute_engine"].(map[string]any)
	if ce["project_id"] != "acme-ci" || ce["zone"] == "" {
		t.Errorf("google.compute_engine %v", ce)
	}

	q := "email=builder@other-proj.iam.gserviceaccount.com&audience=https://example.test&ttl=10"
	_, c2 := verifyWith(t, srv.URL, getJSON(t, newReq(t, "GET", srv.URL+"/mint?"+q, nil), 200)["value"].(string))
	checkClaims(t, c2, map[string]any{"email": "builder@other-proj.iam.gserviceaccount.com", "aud": "https://example.test"})
	if c2["sub"] == sub || lifetime(c2) != 10 {
		t.Errorf("another account: sub %v, lifetime %v", c2["sub"], lifetime(c2))
	}

	_, c = verifyWith(t, srv.URL, getJSON(t, newReq(t, "GET", srv.URL+"/mint?format=standard", nil), 200)["value"].(string))
	for _, k := range []string{"email", "email_verified", "google"} {
		if _, ok := c[k]; ok {
			t.Errorf("a standard token has %s", k)
		}
	}
	if c["sub"] != sub {
		t.Errorf("sub %v, want %v", c["sub"], sub)
	}
	_, c = verifyWith(t, srv.URL, getJSON(t, newReq(t, "GET", srv.URL+"/mint?email_verified=false", nil), 200)["value"].(string))
	if c["email_verified"] != false {
		t.Errorf("email_verified %v", c["email_verified"])
	}
	for _, bad := range []string{"email=nobody", "email=a@b", "format=compact", "email_verified=yes", "audience=", "ttl=x", "scope=openid"} {
		getJSON(t, newReq(t, "GET", srv.URL+"/mint?"+bad, nil), 400)
	}
}

func TestSpiffeMint(t *testing.T) {
	srv := serve(t, func(u string) http.Handler {
		s, err := newSpiffeIssuer(u, "example.test", quiet())
		if err != nil {
			t.Fatal(err)
		}
		return s.handler()
	})
	header, c := verifyWith(t, srv.URL, getJSON(t, newReq(t, "GET", srv.URL+"/mint", nil), 200)["value"].(string))
	if header["alg"] != "ES256" {
		t.Errorf("alg %s, want ES256 (SPIRE's default key type)", header["alg"])
	}
	checkClaims(t, c, map[string]any{"iss": srv.URL, "sub": "spiffe://example.test/ns/ci/sa/signer"})
	if aud, _ := c["aud"].([]any); len(aud) != 1 || aud[0] != "sigstore" || lifetime(c) != 300 {
		t.Errorf("aud %#v, lifetime %v", c["aud"], lifetime(c))
	}
	_, c = verifyWith(t, srv.URL, getJSON(t, newReq(t, "GET", srv.URL+"/mint?spiffe_id=spiffe://other.test/w&audience=x&ttl=9", nil), 200)["value"].(string))
	if c["sub"] != "spiffe://other.test/w" || c["aud"].([]any)[0] != "x" || lifetime(c) != 9 {
		t.Errorf("claims %v", c)
	}
	for _, bad := range []string{"spiffe_id=https://example.test/w", "spiffe_id=spiffe://example.test/a/../b", "spiffe_id=spiffe://Example.test/w",
		"spiffe_id=spiffe://example.test/a//b", "spiffe_id=spiffe://example.test/w?x", "audience=", "ttl=-1", "sub=x"} {
		getJSON(t, newReq(t, "GET", srv.URL+"/mint?"+url.PathEscape(bad), nil), 400)
	}
	if _, err := newSpiffeIssuer("http://x", "Bad Domain", quiet()); err == nil {
		t.Error("a bad trust domain was accepted")
	}
}
