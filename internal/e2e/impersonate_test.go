//go:build e2e

package e2e

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The google-impersonate test signs as a service account impersonated
// with another one's key, as a CI job holding a key file would: gitsign
// reads the key (GOOGLE_APPLICATION_CREDENTIALS), gets an access token
// for it from Google's OAuth 2.0 token endpoint with a signed jwt-bearer
// assertion, and asks the IAM Credentials API's generateIdToken for an
// identity token of GOOGLE_SERVICE_ACCOUNT_NAME, which goes to the
// stack's real Fulcio. The token endpoint and the IAM Credentials API
// are stand-ins in the test (googleAPIs); the identity token comes from
// the stack's Google-shaped issuer, which Fulcio trusts as the public
// instance trusts https://accounts.google.com.

// cloudPlatformScope is the scope gitsign asks the access token for.
const cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

// generateIdTokenPath is the IAM Credentials API's resource prefix.
const generateIdTokenPath = "/v1/projects/-/serviceAccounts/"

// googleAPIs stands in for the two Google services google-impersonate
// talks to, each on its own loopback server, answering as Google does:
//
//   - token (POST /token), the OAuth 2.0 token endpoint: the jwt-bearer
//     grant of a service account key. It verifies the assertion as
//     Google does (RS256, signed by the key private_key_id names, of
//     the account it claims as iss, for this endpoint, with a scope, at
//     most an hour long and current) and answers a fresh access token;
//     a refusal is 400 {"error": "invalid_grant", ...} (or
//     unsupported_grant_type, invalid_scope).
//   - iam, the IAM Credentials API: POST
//     /v1/projects/-/serviceAccounts/NAME:generateIdToken with
//     Authorization: Bearer ACCESS_TOKEN (one it handed out, else 401
//     UNAUTHENTICATED), for an account the caller may impersonate (else
//     403 PERMISSION_DENIED, with Google's message), with the JSON body
//     {"audience", "includeEmail"} (else 400 INVALID_ARGUMENT). It answers
//     {"token": JWT} with a token from the stack's Google issuer for
//     NAME and the audience, in the full format (with the email) when
//     includeEmail is true.
//
// Errors are Google's JSON: {"error": {"code", "message", "status"}}.
// The handlers fail no test: what they saw is recorded for the test to
// check.
type googleAPIs struct {
	token, iam *httptest.Server
	issuer     string         // the stack's Google issuer
	metadata   string         // GCE_METADATA_HOST: a loopback address nothing listens on
	caller     string         // the account whose key the credentials are
	keys       map[string]any // the caller's keys by ID (*rsa.PublicKey)
	may        string         // the one account caller may impersonate

	mu         sync.Mutex
	access     map[string]string // access tokens handed out, to their account
	assertions []string          // each token request: "iss kid scope" or why it was refused
	idRequests []string          // each generateIdToken request: "NAME BODY user-project=P"
}

func newGoogleAPIs(t *testing.T, caller, may string) (*googleAPIs, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	g := &googleAPIs{issuer: stackEnv(t, "GITSIGN_LOCAL_GOOGLE_ISSUER"), metadata: closedLoopback(t), caller: caller, may: may,
		keys: map[string]any{"k1-" + randomHex(t, 8): &key.PublicKey}, access: map[string]string{}}
	g.token = httptest.NewServer(http.HandlerFunc(g.serveToken))
	t.Cleanup(g.token.Close)
	g.iam = httptest.NewServer(http.HandlerFunc(g.serveIAM))
	t.Cleanup(g.iam.Close)
	return g, key
}

func (g *googleAPIs) tokenURL() string { return g.token.URL + "/token" }

// keyFile writes a service account key file of caller, as the console
// or `gcloud iam service-accounts keys create` writes it, with key as
// key ID kid and the stand-in's token_uri, and returns its path.
func (g *googleAPIs) keyFile(t *testing.T, key *rsa.PrivateKey, kid string) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	project := g.caller[strings.Index(g.caller, "@")+1 : strings.Index(g.caller, ".iam.")]
	b, err := json.MarshalIndent(map[string]string{
		"type":            "service_account",
		"project_id":      project,
		"private_key_id":  kid,
		"private_key":     string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":    g.caller,
		"client_id":       "104857309512345678901",
		"token_uri":       g.tokenURL(),
		"universe_domain": "googleapis.com",
	}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// kid is the ID of the caller's key.
func (g *googleAPIs) kid() string {
	for k := range g.keys {
		return k
	}
	return ""
}

func googleJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// googleAPIError is a Google API's error answer.
func googleAPIError(w http.ResponseWriter, code int, status, msg string, details ...any) {
	e := map[string]any{"code": code, "message": msg, "status": status}
	if len(details) > 0 {
		e["details"] = details
	}
	googleJSON(w, code, map[string]any{"error": e})
}

func (g *googleAPIs) serveToken(w http.ResponseWriter, r *http.Request) {
	refuse := func(code, desc string) {
		g.mu.Lock()
		g.assertions = append(g.assertions, "refused: "+code+": "+desc)
		g.mu.Unlock()
		googleJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": desc})
	}
	if r.Method != http.MethodPost || r.URL.Path != "/token" {
		http.NotFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		refuse("invalid_request", "Bad Request")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		refuse("unsupported_grant_type", "Invalid grant_type: "+gt)
		return
	}
	parts := strings.Split(r.PostForm.Get("assertion"), ".")
	var head struct{ Alg, Typ, Kid string }
	var claims struct {
		Iss, Scope, Aud, Sub string
		Iat, Exp             int64
	}
	if len(parts) != 3 || decodeSegment(parts[0], &head) != nil || decodeSegment(parts[1], &claims) != nil {
		refuse("invalid_grant", "Invalid JWT: the assertion is not a JWT.")
		return
	}
	if claims.Iss != g.caller {
		refuse("invalid_grant", "Invalid grant: account not found")
		return
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	pub, _ := g.keys[head.Kid].(*rsa.PublicKey)
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err != nil || head.Alg != "RS256" || pub == nil || rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) != nil {
		refuse("invalid_grant", "Invalid JWT Signature.")
		return
	}
	if claims.Aud != g.tokenURL() {
		refuse("invalid_grant", "Invalid JWT: Failed audience check. The expected audience is "+g.tokenURL()+".")
		return
	}
	now := time.Now().Unix()
	if claims.Iat > now+300 || claims.Exp < now || claims.Exp-claims.Iat > 3600 {
		refuse("invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
		return
	}
	if claims.Scope == "" || claims.Sub != "" {
		refuse("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
		return
	}
	access := "ya29.c." + rand.Text()
	g.mu.Lock()
	g.access[access] = claims.Iss
	g.assertions = append(g.assertions, claims.Iss+" "+head.Kid+" "+claims.Scope)
	g.mu.Unlock()
	googleJSON(w, http.StatusOK, map[string]any{"access_token": access, "expires_in": 3599, "token_type": "Bearer"})
}

func decodeSegment(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func (g *googleAPIs) serveIAM(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, generateIdTokenPath)
	name, ok2 := strings.CutSuffix(name, ":generateIdToken")
	if r.Method != http.MethodPost || !ok || !ok2 || name == "" || strings.Contains(name, "/") {
		googleAPIError(w, http.StatusNotFound, "NOT_FOUND", "The requested URL was not found on this server.")
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	g.mu.Lock()
	g.idRequests = append(g.idRequests, name+" "+strings.TrimSpace(string(body))+" user-project="+r.Header.Get("X-Goog-User-Project"))
	bearer, isBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	caller := g.access[bearer]
	g.mu.Unlock()
	if !isBearer || caller == "" {
		googleAPIError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.")
		return
	}
	if name != g.may {
		googleAPIError(w, http.StatusForbidden, "PERMISSION_DENIED", "Permission 'iam.serviceAccounts.getOpenIdToken' denied on resource (or it may not exist).",
			map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "IAM_PERMISSION_DENIED",
				"domain": "iam.googleapis.com", "metadata": map[string]string{"permission": "iam.serviceAccounts.getOpenIdToken"}})
		return
	}
	var req struct {
		Audience     string   `json:"audience"`
		IncludeEmail bool     `json:"includeEmail"`
		Delegates    []string `json:"delegates"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || dec.Decode(&req) != nil {
		googleAPIError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received.")
		return
	}
	if req.Audience == "" {
		googleAPIError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Audience cannot be empty.")
		return
	}
	format := "standard"
	if req.IncludeEmail {
		format = "full"
	}
	tok, err := mintToken(g.issuer, url.Values{"email": {name}, "audience": {req.Audience}, "format": {format}})
	if err != nil {
		googleAPIError(w, http.StatusInternalServerError, "INTERNAL", "Internal error encountered: "+err.Error())
		return
	}
	googleJSON(w, http.StatusOK, map[string]string{"token": tok})
}

// seen is what each stand-in was asked: the token endpoint's assertions
// and the generateIdToken requests.
func (g *googleAPIs) seen() (assertions, idRequests []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.assertions...), append([]string(nil), g.idRequests...)
}

// accessTokens are the access tokens the token endpoint handed out.
func (g *googleAPIs) accessTokens() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for a := range g.access {
		out = append(out, a)
	}
	return out
}

// env is the environment google-impersonate runs with here: the key
// file, the account to impersonate, the IAM stand-in, and nothing of
// the machine's (no metadata server to fall back to, no quota project).
func (g *googleAPIs) env(keyFile, account string) []string {
	return []string{
		"GOOGLE_APPLICATION_CREDENTIALS=" + keyFile,
		"GOOGLE_SERVICE_ACCOUNT_NAME=" + account,
		"GITSIGN_IAM_CREDENTIALS_URL=" + g.iam.URL,
		"GCE_METADATA_HOST=" + g.metadata,
		"GOOGLE_CLOUD_QUOTA_PROJECT=",
	}
}

// closedLoopback is a loopback address nothing listens on.
func closedLoopback(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// noSecretsLogged checks that gitsign's log holds none of the access
// tokens handed out and no line of the key.
func noSecretsLogged(t *testing.T, r *repo, g *googleAPIs, key *rsa.PrivateKey) {
	t.Helper()
	log := r.readLog()
	for _, a := range g.accessTokens() {
		if strings.Contains(log, a) {
			t.Error("the log holds the access token")
		}
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	for _, l := range strings.Split(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "\n")[1:3] {
		if strings.Contains(log, l) {
			t.Error("the log holds the private key")
		}
	}
}

// TestProviderGoogleImpersonate: with a service account key as
// Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS),
// GOOGLE_SERVICE_ACCOUNT_NAME naming another account the key's account
// may impersonate, and gitsign.tokenProvider google-impersonate,
// `git commit -S` signs as the impersonated account: gitsign gets an
// access token from the token endpoint with the key's signed assertion,
// asks generateIdToken once for a token for audience sigstore with the
// email, Fulcio names that account's email (not the key's) in the
// certificate, and gitsign verify accepts that account and refuses any
// other.
func TestProviderGoogleImpersonate(t *testing.T) {
	issuer := stackEnv(t, "GITSIGN_LOCAL_GOOGLE_ISSUER")
	const (
		caller  = "ci-runner@acme-ci.iam.gserviceaccount.com"
		account = "release-signer@acme-ci.iam.gserviceaccount.com"
	)
	g, key := newGoogleAPIs(t, caller, account)
	r := loginRepo(t, g.env(g.keyFile(t, key, g.kid()), account)...)
	r.git("config", "gitsign.tokenProvider", "google-impersonate")

	r.commit("signed as an impersonated service account")
	s, sum := signedCert(t, r, "HEAD")
	assertions, idRequests := g.seen()
	if want := caller + " " + g.kid() + " " + cloudPlatformScope; len(assertions) != 1 || assertions[0] != want {
		t.Errorf("token endpoint requests %q, want one: %q", assertions, want)
	}
	if want := account + ` {"audience":"sigstore","includeEmail":true} user-project=`; len(idRequests) != 1 || idRequests[0] != want {
		t.Errorf("generateIdToken requests %q, want one: %q", idRequests, want)
	}
	checkAccountCert(t, r, s, sum, account, issuer)
	noSecretsLogged(t, r, g, key)

	if code, out := verifyExit(t, r, "--certificate-identity", account, "--certificate-oidc-issuer", issuer); code != 0 {
		t.Fatalf("gitsign verify as the impersonated account: exit %d\n%s", code, out)
	}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"service account (the key's own)", []string{"--certificate-identity", caller, "--certificate-oidc-issuer", issuer}},
		{"project", []string{"--certificate-identity", "release-signer@other-proj.iam.gserviceaccount.com", "--certificate-oidc-issuer", issuer}},
		{"issuer (the people's)", []string{"--certificate-identity", account, "--certificate-oidc-issuer", stackEnv(t, "GITSIGN_OIDC_ISSUER")}},
		{"issuer (Google's own)", []string{"--certificate-identity", account, "--certificate-oidc-issuer", "https://accounts.google.com"}},
	} {
		code, out := verifyExit(t, r, c.args...)
		if code != 1 || !strings.Contains(out, "not accepted by") {
			t.Errorf("gitsign verify with another %s: exit %d, want 1 with \"not accepted by\"\n%s", c.name, code, out)
		}
	}

	// Each failure below is seen twice by the stand-ins: failsOneLine
	// signs through git, then runs gitsign itself. The provider is
	// chosen by GITSIGN_TOKEN_PROVIDER here.
	const provider = "GITSIGN_TOKEN_PROVIDER=google-impersonate"
	calls := func(t *testing.T, g *googleAPIs, tokens, ids int) {
		t.Helper()
		a, i := g.seen()
		if len(a) != tokens || len(i) != ids {
			t.Errorf("%d token requests %q and %d generateIdToken requests %q, want %d and %d", len(a), a, len(i), i, tokens, ids)
		}
	}
	hinted := func(t *testing.T, r *repo, hint string) {
		t.Helper()
		if log := r.readLog(); !strings.Contains(log, "gitsign: hint: "+hint) {
			t.Errorf("the log has no hint %q:\n%s", hint, log)
		}
	}
	t.Run("permission denied", func(t *testing.T) {
		// The key's account may not impersonate this one: IAM's 403, in
		// Google's words, with the role it takes.
		const other = "prod-deployer@acme-ci.iam.gserviceaccount.com"
		g, key := newGoogleAPIs(t, caller, account)
		r := loginRepo(t, append(g.env(g.keyFile(t, key, g.kid()), other), provider)...)
		failsOneLine(t, r, "oauth: google-impersonate: Google's IAM Credentials API at "+g.iam.URL+generateIdTokenPath+other+":generateIdToken answered 403 Forbidden: "+
			"PERMISSION_DENIED: Permission 'iam.serviceAccounts.getOpenIdToken' denied on resource (or it may not exist). "+
			"(the credentials need the role Service Account OpenID Connect Identity Token Creator (roles/iam.serviceAccountOpenIdTokenCreator) on "+other+")")
		calls(t, g, 2, 2)
		noSecretsLogged(t, r, g, key)
	})
	t.Run("no service account", func(t *testing.T) {
		g, key := newGoogleAPIs(t, caller, account)
		r := loginRepo(t, append(g.env(g.keyFile(t, key, g.kid()), ""), provider)...)
		failsOneLine(t, r, "oauth: google-impersonate: no service account to impersonate: GOOGLE_SERVICE_ACCOUNT_NAME is not set")
		hinted(t, r, "set GOOGLE_SERVICE_ACCOUNT_NAME to the email address of the service account to sign as")
		calls(t, g, 0, 0)
	})
	t.Run("credentials file missing", func(t *testing.T) {
		g, _ := newGoogleAPIs(t, caller, account)
		missing := filepath.Join(t.TempDir(), "key.json")
		r := loginRepo(t, append(g.env(missing, account), provider)...)
		failsOneLine(t, r, "oauth: google-impersonate: cannot read GOOGLE_APPLICATION_CREDENTIALS ("+missing+"): no such file or directory")
		calls(t, g, 0, 0)
	})
	t.Run("no credentials", func(t *testing.T) {
		// No GOOGLE_APPLICATION_CREDENTIALS, no gcloud file in HOME and
		// no metadata server: nothing to impersonate with.
		g, _ := newGoogleAPIs(t, caller, account)
		r := loginRepo(t, append(g.env("", account), provider)...)
		wellKnown := filepath.Join(filepath.Dir(r.log), ".config", "gcloud", "application_default_credentials.json")
		failsOneLine(t, r, "oauth: google-impersonate: no Google credentials: GOOGLE_APPLICATION_CREDENTIALS is not set, there is no "+wellKnown+
			" (gcloud auth application-default login writes it), and no metadata server at http://"+g.metadata+
			"/computeMetadata/v1/instance/service-accounts/default/token?scopes=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fcloud-platform: connection refused (GCE_METADATA_HOST names it)")
		hinted(t, r, "log in with gcloud auth application-default login, or set GOOGLE_APPLICATION_CREDENTIALS to a credentials file")
		calls(t, g, 0, 0)
	})
	t.Run("token endpoint refuses", func(t *testing.T) {
		// A key Google does not know (deleted, or another account's):
		// the token endpoint refuses its assertion, and IAM is not asked.
		g, _ := newGoogleAPIs(t, caller, account)
		stale, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		file := g.keyFile(t, stale, "k0-"+randomHex(t, 8))
		r := loginRepo(t, append(g.env(file, account), provider)...)
		failsOneLine(t, r, "oauth: google-impersonate: getting an access token with GOOGLE_APPLICATION_CREDENTIALS ("+file+"): Google's token endpoint at "+g.tokenURL()+
			" answered 400 Bad Request: invalid_grant: Invalid JWT Signature.")
		if a, i := g.seen(); len(a) != 2 || a[0] != "refused: invalid_grant: Invalid JWT Signature." || len(i) != 0 {
			t.Errorf("token endpoint requests %q and generateIdToken requests %q, want two refused and none", a, i)
		}
		noSecretsLogged(t, r, g, stale)
	})
	t.Run("fulcio refuses the audience", func(t *testing.T) {
		// The client ID is the audience IAM is asked for; Fulcio, whose
		// client ID is sigstore, refuses a token for another.
		g, key := newGoogleAPIs(t, caller, account)
		r := loginRepo(t, append(g.env(g.keyFile(t, key, g.kid()), account), provider, "GITSIGN_OIDC_CLIENT_ID=other-client")...)
		failsOneLine(t, r, "fulcio refused the certificate request (400)")
		if _, i := g.seen(); len(i) == 0 || !strings.HasPrefix(i[0], account+` {"audience":"other-client","includeEmail":true}`) {
			t.Errorf("generateIdToken requests %q", i)
		}
	})
}
