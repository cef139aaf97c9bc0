package main

import (
	"crypto"
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

func testIssuer(t *testing.T) (*issuer, *httptest.Server) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	iss, err := newIssuer("http://"+srv.Listener.Addr().String(), log.New(io.Discard, "", 0))
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = iss.handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return iss, srv
}

func getJSON(t *testing.T, req *http.Request, wantStatus int) map[string]any {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s: HTTP %d %v, want %d", req.Method, req.URL, resp.StatusCode, out, wantStatus)
	}
	return out
}

func newReq(t *testing.T, method, u string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return req
}

// verifyJWT checks an RS256 token against the issuer's published JWKS and
// returns its claims.
func verifyJWT(t *testing.T, base, tok string) map[string]any {
	t.Helper()
	jwks := getJSON(t, newReq(t, "GET", base+"/.well-known/jwks", nil), 200)
	k := jwks["keys"].([]any)[0].(map[string]any)
	n, _ := base64.RawURLEncoding.DecodeString(k["n"].(string))
	e, _ := base64.RawURLEncoding.DecodeString(k["e"].(string))
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", tok)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig); err != nil {
		t.Fatalf("token does not verify with the JWKS: %v", err)
	}
	var header map[string]string
	raw, _ := base64.RawURLEncoding.DecodeString(parts[0])
	json.Unmarshal(raw, &header)
	if header["alg"] != "RS256" || header["kid"] != k["kid"] {
		t.Errorf("header %v, want RS256 with kid %v", header, k["kid"])
	}
	var c map[string]any
	raw, _ = base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDiscovery(t *testing.T) {
	_, srv := testIssuer(t)
	d := getJSON(t, newReq(t, "GET", srv.URL+"/.well-known/openid-configuration", nil), 200)
	if d["issuer"] != srv.URL || d["jwks_uri"] != srv.URL+"/.well-known/jwks" {
		t.Errorf("discovery %v", d)
	}
}

func TestMintDefaults(t *testing.T) {
	_, srv := testIssuer(t)
	out := getJSON(t, newReq(t, "GET", srv.URL+"/mint", nil), 200)
	c := verifyJWT(t, srv.URL, out["value"].(string))
	want := map[string]string{
		"iss": srv.URL, "aud": "sigstore", "sub": "repo:acme/app:ref:refs/heads/main",
		"repository": "acme/app", "repository_owner": "acme", "ref": "refs/heads/main", "ref_type": "branch",
		"workflow": ".github/workflows/release.yml", "event_name": "push",
		"workflow_ref":       "acme/app/.github/workflows/release.yml@refs/heads/main",
		"job_workflow_ref":   "acme/app/.github/workflows/release.yml@refs/heads/main",
		"runner_environment": "github-hosted", "repository_visibility": "public", "run_attempt": "1", "actor": "alice",
	}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("%s = %v, want %q", k, c[k], v)
		}
	}
	if sha, _ := c["sha"].(string); len(sha) != 40 || c["workflow_sha"] != sha || c["job_workflow_sha"] != sha {
		t.Errorf("sha %v, workflow_sha %v, job_workflow_sha %v", c["sha"], c["workflow_sha"], c["job_workflow_sha"])
	}
	// Fulcio's GitHub workflow template needs each of these.
	for _, k := range []string{"repository_id", "repository_owner_id", "run_id", "run_number", "actor_id"} {
		if s, _ := c[k].(string); s == "" || strings.Trim(s, "0123456789") != "" {
			t.Errorf("%s = %v, want a decimal string", k, c[k])
		}
	}
	if exp, iat := c["exp"].(float64), c["iat"].(float64); exp-iat != 600 {
		t.Errorf("lifetime %v s, want 600", exp-iat)
	}
}

func TestMintParameters(t *testing.T) {
	_, srv := testIssuer(t)
	q := url.Values{"repository": {"octo/tool"}, "ref": {"refs/tags/v1.0.0"}, "workflow": {".github/workflows/ci.yaml"},
		"workflow_name": {"CI"}, "event": {"release"}, "sha": {strings.Repeat("ab", 20)}, "audience": {"other"}, "ttl": {"5"}}
	out := getJSON(t, newReq(t, "POST", srv.URL+"/mint", strings.NewReader(q.Encode())), 200)
	c := verifyJWT(t, srv.URL, out["value"].(string))
	for k, v := range map[string]string{
		"sub": "repo:octo/tool:ref:refs/tags/v1.0.0", "ref_type": "tag", "workflow": "CI", "event_name": "release",
		"aud": "other", "sha": strings.Repeat("ab", 20), "job_workflow_ref": "octo/tool/.github/workflows/ci.yaml@refs/tags/v1.0.0",
	} {
		if c[k] != v {
			t.Errorf("%s = %v, want %q", k, c[k], v)
		}
	}
	if c["exp"].(float64)-c["iat"].(float64) != 5 {
		t.Errorf("ttl not applied")
	}

	env := getJSON(t, newReq(t, "GET", srv.URL+"/mint?environment=prod", nil), 200)
	if c := verifyJWT(t, srv.URL, env["value"].(string)); c["sub"] != "repo:acme/app:environment:prod" || c["environment"] != "prod" {
		t.Errorf("environment job: sub %v, environment %v", c["sub"], c["environment"])
	}
	pr := getJSON(t, newReq(t, "GET", srv.URL+"/mint?event=pull_request&ref=refs/pull/7/merge", nil), 200)
	if c := verifyJWT(t, srv.URL, pr["value"].(string)); c["sub"] != "repo:acme/app:pull_request" {
		t.Errorf("pull request job: sub %v", c["sub"])
	}

	for _, bad := range []string{"repository=noslash", "ref=main", "workflow=release.yml", "sha=abc", "ttl=0",
		"runner_environment=cloud", "visibility=secret", "reponame=x", "audience=", "ref=a&ref=b", "environment=a:b"} {
		getJSON(t, newReq(t, "GET", srv.URL+"/mint?"+bad, nil), 400)
	}
}

func TestActionsTokenService(t *testing.T) {
	iss, srv := testIssuer(t)
	if _, err := iss.addJob("default-token", mustJob(t, url.Values{})); err != nil {
		t.Fatal(err)
	}
	job := getJSON(t, newReq(t, "POST", srv.URL+"/jobs", strings.NewReader("repository=octo/tool&ref=refs/heads/dev")), 201)
	reqURL, reqTok := job["request_url"].(string), job["request_token"].(string)
	if !strings.HasPrefix(reqURL, srv.URL+"/actions/token?") || !strings.HasPrefix(reqTok, "job-") {
		t.Fatalf("job %v", job)
	}

	ask := func(tok, aud string, status int) map[string]any {
		u := reqURL
		if aud != "" {
			u += "&audience=" + url.QueryEscape(aud)
		}
		req := newReq(t, "GET", u, nil)
		if tok != "" {
			req.Header.Set("Authorization", "bearer "+tok)
		}
		return getJSON(t, req, status)
	}
	c := verifyJWT(t, srv.URL, ask(reqTok, "sigstore", 200)["value"].(string))
	if c["aud"] != "sigstore" || c["repository"] != "octo/tool" || c["ref"] != "refs/heads/dev" {
		t.Errorf("job token claims %v", c)
	}
	// Two tokens of one job are of one run.
	if c2 := verifyJWT(t, srv.URL, ask(reqTok, "sigstore", 200)["value"].(string)); c2["run_id"] != c["run_id"] || c2["jti"] == c["jti"] {
		t.Errorf("run_id %v then %v, jti %v then %v", c["run_id"], c2["run_id"], c["jti"], c2["jti"])
	}
	if c := verifyJWT(t, srv.URL, ask(reqTok, "", 200)["value"].(string)); c["aud"] != "https://github.com/octo" {
		t.Errorf("default audience %v", c["aud"])
	}
	if c := verifyJWT(t, srv.URL, ask("default-token", "sigstore", 200)["value"].(string)); c["repository"] != "acme/app" {
		t.Errorf("default job repository %v", c["repository"])
	}
	ask("", "sigstore", 401)
	ask("job-unknown", "sigstore", 401)
}

func mustJob(t *testing.T, v url.Values) *job {
	t.Helper()
	j, err := parseJob(v)
	if err != nil {
		t.Fatal(err)
	}
	return j
}
