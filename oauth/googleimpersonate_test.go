package oauth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestGoogleImpersonateProvider(t *testing.T) {
	g := newGoogleStandIn(t)
	gcloudHome := t.TempDir()
	wellKnown := filepath.Join(gcloudHome, ".config", "gcloud", "application_default_credentials.json")
	if err := os.MkdirAll(filepath.Dir(wellKnown), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(credentialsFile(t, g.userCredentials()), wellKnown); err != nil {
		t.Fatal(err)
	}
	meta := strings.TrimPrefix(g.URL, "http://")
	for _, tc := range []struct {
		name    string
		env     []string
		access  string // the access token generateIdToken must get
		project string // its X-Goog-User-Project
	}{
		{"user credentials", []string{EnvGoogleApplicationCredentials, credentialsFile(t, g.userCredentials())}, userAccess, quotaProject},
		{"quota project from the environment", []string{EnvGoogleApplicationCredentials, credentialsFile(t, g.userCredentials()), EnvGoogleQuotaProject, "other-project"}, userAccess, "other-project"},
		{"service account key", []string{EnvGoogleApplicationCredentials, credentialsFile(t, g.serviceAccountKey(t, g.key))}, keyAccess, ""},
		{"workload identity federation", []string{EnvGoogleApplicationCredentials, credentialsFile(t, g.externalAccount(t))}, stsAccess, ""},
		{"impersonated service account", []string{EnvGoogleApplicationCredentials, credentialsFile(t, g.impersonatedAccount())}, chainAccess, ""},
		{"gcloud's file", []string{"HOME", gcloudHome}, userAccess, quotaProject},
		{"the variable before gcloud's file", []string{"HOME", gcloudHome, EnvGoogleApplicationCredentials, credentialsFile(t, g.serviceAccountKey(t, g.key))}, keyAccess, ""},
		{"metadata server", []string{EnvGCEMetadataHost, meta}, gceAccess, ""},
		{"metadata server, quota project from the environment", []string{EnvGCEMetadataHost, meta, EnvGoogleQuotaProject, "other-project"}, gceAccess, "other-project"},
		{"IAM URL with a final slash", []string{EnvGCEMetadataHost, meta, EnvIAMCredentialsURL, g.URL + "/"}, gceAccess, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g.set(func(g *googleStandIn) { g.bearer, g.userProject, g.aud = "", "", "" })
			tok, err := Get(context.Background(), Options{Provider: "google-impersonate", LookupEnv: env(g.impersonateEnv(t, tc.env...))})
			if err != nil {
				t.Fatal(err)
			}
			if tok.Source != "google-impersonate" || tok.Subject != impersonated || tok.Email != impersonated || tok.Issuer != "https://accounts.google.com" ||
				len(tok.Audience) != 1 || tok.Audience[0] != "sigstore" {
				t.Errorf("%v, audience %q", tok, tok.Audience)
			}
			g.set(func(g *googleStandIn) {
				if g.bearer != tc.access || g.userProject != tc.project || g.aud != "sigstore" {
					t.Errorf("generateIdToken got access token %q, X-Goog-User-Project %q, audience %q; want %q, %q, sigstore", g.bearer, g.userProject, g.aud, tc.access, tc.project)
				}
			})
		})
	}

	t.Run("client ID is the audience", func(t *testing.T) {
		e := g.impersonateEnv(t, EnvGoogleApplicationCredentials, credentialsFile(t, g.userCredentials()))
		tok, err := Get(context.Background(), Options{Provider: "google-impersonate", ClientID: "my-fulcio", LookupEnv: env(e)})
		if err != nil {
			t.Fatal(err)
		}
		if tok.Audience[0] != "my-fulcio" {
			t.Errorf("audience %q", tok.Audience)
		}
	})

	// One failed attempt (a 5xx) of each request is tried again; a second
	// is not.
	t.Run("retries", func(t *testing.T) {
		e := g.impersonateEnv(t, EnvGoogleApplicationCredentials, credentialsFile(t, g.userCredentials()))
		g.set(func(g *googleStandIn) { g.tokenCalls, g.iamCalls, g.tokenFailure, g.iamFailures = 0, 0, 1, 1 })
		if _, err := Get(context.Background(), Options{Provider: "google-impersonate", LookupEnv: env(e)}); err != nil {
			t.Fatal(err)
		}
		g.set(func(g *googleStandIn) {
			if g.tokenCalls != 2 || g.iamCalls != 2 {
				t.Errorf("%d token requests, %d generateIdToken requests; want 2 and 2", g.tokenCalls, g.iamCalls)
			}
			g.tokenCalls, g.iamCalls, g.iamFailures = 0, 0, 2
		})
		_, err := Get(context.Background(), Options{Provider: "google-impersonate", LookupEnv: env(e)})
		want := "oauth: google-impersonate: Google's IAM Credentials API at " + g.URL + idTokenPrefix + impersonated + ":generateIdToken answered 503 Service Unavailable: UNAVAILABLE: The service is currently unavailable."
		if err == nil || err.Error() != want {
			t.Errorf("error %v\nwant  %s", err, want)
		}
		g.set(func(g *googleStandIn) {
			if g.iamCalls != 2 {
				t.Errorf("%d generateIdToken requests, want 2", g.iamCalls)
			}
			g.iamFailures = 0
		})
	})
}

func TestGoogleImpersonateFailures(t *testing.T) {
	g := newGoogleStandIn(t)
	user := credentialsFile(t, g.userCredentials())
	revoked := g.userCredentials()
	revoked["refresh_token"] = "1//revoked-secret"
	revokedFile := credentialsFile(t, revoked)
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	brokenKey := g.serviceAccountKey(t, g.key)
	brokenKey["private_key"] = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5LCBzZWNyZXQ=\n-----END PRIVATE KEY-----\n"
	badSource := g.externalAccount(t)
	badSource["audience"] = "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/pool/providers/other"
	chainDenied := g.impersonatedAccount()
	chainDenied["source_credentials"] = map[string]any{"type": "service_account_nope"}
	chainRefused := g.impersonatedAccount()
	chainRefused["service_account_impersonation_url"] = g.URL + idTokenPrefix + "other@demo.iam.gserviceaccount.com:generateAccessToken"
	notJSON := filepath.Join(t.TempDir(), "c.json")
	writeFile(t, notJSON, "client-secret-shh")
	tooLarge := filepath.Join(t.TempDir(), "c.json")
	writeFile(t, tooLarge, `{"type":"authorized_user","x":"`+strings.Repeat("a", maxCredentialsFile)+`"}`)
	home := t.TempDir()
	dir := t.TempDir()
	idURL := g.URL + idTokenPrefix + impersonated + ":generateIdToken"
	expired := g.signer.sign(t, map[string]any{"iss": "https://accounts.google.com", "sub": "1", "aud": "sigstore", "exp": time.Now().Add(-time.Minute).Unix()})
	for _, tc := range []struct {
		name   string
		env    []string
		change func(g *googleStandIn)
		want   string // the whole message, or a part when it starts with "..."
		is     error
	}{
		{name: "no service account", env: []string{EnvGoogleServiceAccountName, "<unset>"},
			want: "oauth: google-impersonate: no service account to impersonate: GOOGLE_SERVICE_ACCOUNT_NAME is not set", is: ErrNoServiceAccount},
		{name: "not a service account", env: []string{EnvGoogleServiceAccountName, "a/b"},
			want: "oauth: google-impersonate: GOOGLE_SERVICE_ACCOUNT_NAME must be a service account's email address, got a/b"},
		{name: "IAM URL not https", env: []string{EnvIAMCredentialsURL, "http://iam.example/"},
			want: "oauth: google-impersonate: GITSIGN_IAM_CREDENTIALS_URL must be an https URL (or http on a loopback address) with no query, got http://iam.example/"},
		{name: "IAM URL not a URL", env: []string{EnvIAMCredentialsURL, "iam.example"},
			want: "...GITSIGN_IAM_CREDENTIALS_URL must be an https URL (or http on a loopback address) with no query, got iam.example"},
		{name: "IAM URL of another scheme", env: []string{EnvIAMCredentialsURL, "ftp://127.0.0.1/"},
			want: "...GITSIGN_IAM_CREDENTIALS_URL must be an https URL"},
		{name: "no credentials", env: []string{"HOME", home},
			want: "oauth: google-impersonate: no Google credentials: GOOGLE_APPLICATION_CREDENTIALS is not set, there is no " + filepath.Join(home, ".config", "gcloud", "application_default_credentials.json") +
				" (gcloud auth application-default login writes it), and no metadata server at http://127.0.0.1:1/computeMetadata/v1/instance/service-accounts/default/token?scopes=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fcloud-platform: connection refused (GCE_METADATA_HOST names it)",
			is: ErrNoGoogleCredentials},
		{name: "credentials file missing", env: []string{EnvGoogleApplicationCredentials, "/nonexistent/c.json"},
			want: "oauth: google-impersonate: cannot read GOOGLE_APPLICATION_CREDENTIALS (/nonexistent/c.json): no such file or directory", is: fs.ErrNotExist},
		{name: "credentials file unreadable", env: []string{EnvGoogleApplicationCredentials, dir},
			want: "oauth: google-impersonate: cannot read GOOGLE_APPLICATION_CREDENTIALS (" + dir + "): is a directory"},
		{name: "not JSON", env: []string{EnvGoogleApplicationCredentials, notJSON},
			want: "oauth: google-impersonate: GOOGLE_APPLICATION_CREDENTIALS (" + notJSON + ") is not a Google credentials file: it is not a JSON object"},
		{name: "too large", env: []string{EnvGoogleApplicationCredentials, tooLarge},
			want: "oauth: google-impersonate: cannot read GOOGLE_APPLICATION_CREDENTIALS (" + tooLarge + "): it is larger than 65536 bytes, which is no credentials file"},
		{name: "an OAuth client's file", env: []string{EnvGoogleApplicationCredentials, credentialsFile(t, map[string]any{"installed": map[string]string{"client_id": "x", "client_secret": userSecret}})},
			want: `...) is not a Google credentials file: it has no "type"`},
		{name: "unknown kind", env: []string{EnvGoogleApplicationCredentials, credentialsFile(t, map[string]any{"type": "service_account_nope"})},
			want: `...: unknown credential type: "service_account_nope"`},
		{name: "refused grant", env: []string{EnvGoogleApplicationCredentials, revokedFile},
			want: "oauth: google-impersonate: getting an access token with GOOGLE_APPLICATION_CREDENTIALS (" + revokedFile + "): Google's token endpoint at " + g.URL + "/token answered 400 Bad Request: invalid_grant: Token has been expired or revoked."},
		{name: "key Google does not know", env: []string{EnvGoogleApplicationCredentials, credentialsFile(t, g.serviceAccountKey(t, otherKey))},
			want: "...): Google's token endpoint at " + g.URL + "/token answered 400 Bad Request: invalid_grant: Invalid JWT Signature."},
		{name: "broken private key", env: []string{EnvGoogleApplicationCredentials, credentialsFile(t, brokenKey)},
			want: "...: private key should be a PEM or plain PKCS1 or PKCS8"},
		{name: "federation refused", env: []string{EnvGoogleApplicationCredentials, credentialsFile(t, badSource)},
			want: "...): Google answered 400 Bad Request: invalid_grant: The audience in the subject token does not match."},
		{name: "impersonation chain refused", env: []string{EnvGoogleApplicationCredentials, credentialsFile(t, chainRefused)},
			want: "...): Google answered 403 Forbidden: PERMISSION_DENIED: Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist)."},
		{name: "impersonation chain of an unknown kind", env: []string{EnvGoogleApplicationCredentials, credentialsFile(t, chainDenied)},
			want: `...: unknown credential type: "service_account_nope"`},
		{name: "may not impersonate", env: []string{EnvGoogleApplicationCredentials, user, EnvGoogleServiceAccountName, "other@demo.iam.gserviceaccount.com"},
			want: "oauth: google-impersonate: Google's IAM Credentials API at " + g.URL + idTokenPrefix + "other@demo.iam.gserviceaccount.com:generateIdToken answered 403 Forbidden: PERMISSION_DENIED: Permission 'iam.serviceAccounts.getOpenIdToken' denied on resource (or it may not exist). (the credentials need the role Service Account OpenID Connect Identity Token Creator (roles/iam.serviceAccountOpenIdTokenCreator) on other@demo.iam.gserviceaccount.com)"},
		{name: "not a JWT", env: []string{EnvGoogleApplicationCredentials, user}, change: func(g *googleStandIn) { g.idToken = "not-a-jwt" },
			want: "oauth: google-impersonate: the IAM Credentials API's token: identity token is not a JWT: want 3 dot-separated parts, got 1", is: ErrNotJWT},
		{name: "another audience", env: []string{EnvGoogleApplicationCredentials, user},
			change: func(g *googleStandIn) {
				g.idToken = g.signer.sign(t, map[string]any{"iss": "https://accounts.google.com", "sub": "1", "aud": "other", "exp": time.Now().Add(time.Hour).Unix()})
			},
			want: `oauth: google-impersonate: the IAM Credentials API's token is for audience other, not the "sigstore" that was asked for`},
		{name: "expired", env: []string{EnvGoogleApplicationCredentials, user}, change: func(g *googleStandIn) { g.idToken = expired },
			want: "...oauth: google-impersonate: the IAM Credentials API's token: identity token from https://accounts.google.com expired at "},
		{name: "too large an answer", env: []string{EnvGoogleApplicationCredentials, user}, change: func(g *googleStandIn) { g.bigAnswer = true },
			want: "oauth: google-impersonate: the answer of Google's IAM Credentials API at " + idURL + " is larger than 69632 bytes, which is no token"},
		{name: "IAM API not there", env: []string{EnvGoogleApplicationCredentials, user, EnvIAMCredentialsURL, "http://127.0.0.1:1"},
			want: "oauth: google-impersonate: cannot reach Google's IAM Credentials API at http://127.0.0.1:1" + idTokenPrefix + impersonated + ":generateIdToken: connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g.set(func(g *googleStandIn) {
				g.idToken, g.bigAnswer = "", false
				if tc.change != nil {
					tc.change(g)
				}
			})
			tok, err := Get(context.Background(), Options{Provider: "google-impersonate", Timeout: 5 * time.Second, LookupEnv: env(g.impersonateEnv(t, tc.env...))})
			if err == nil {
				t.Fatalf("got %v", tok)
			}
			checkGoogleError(t, err, tc.want)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q does not match %v", err, tc.is)
			}
			if errors.Is(err, ErrNoMetadataServer) {
				t.Errorf("error %q matches ErrNoMetadataServer, whose hint is google-workload-identity's", err)
			}
		})
	}
}

// checkGoogleError checks err against want (its whole text, or a part
// when want starts with "..."), and that it is one line of a
// *SourceError that shows no secret.
func checkGoogleError(t *testing.T, err error, want string) {
	t.Helper()
	var se *SourceError
	if !errors.As(err, &se) || se.Provider != "google-impersonate" {
		t.Errorf("error %q is not google-impersonate's", err)
	}
	if part, ok := strings.CutPrefix(want, "..."); ok && !strings.Contains(err.Error(), part) || !ok && err.Error() != want {
		t.Errorf("error %s\nwant  %s", err, want)
	}
	secrets := append([]string{userSecret, refreshToken, "revoked-secret", subjectToken, "PRIVATE KEY", "bm90IGEga2V5", "\n"}, accessTokens...)
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error shows %q: %q", s, err)
		}
	}
}

// TestGoogleImpersonateTimeout: a server that does not answer costs one
// attempt of o.Timeout, not a retry, at the token endpoint and at the
// IAM Credentials API.
func TestGoogleImpersonateTimeout(t *testing.T) {
	g := newGoogleStandIn(t)
	user := credentialsFile(t, g.userCredentials())
	meta := strings.TrimPrefix(g.URL, "http://")
	const timeout = 300 * time.Millisecond
	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"token endpoint", []string{EnvGoogleApplicationCredentials, user},
			"oauth: google-impersonate: getting an access token with GOOGLE_APPLICATION_CREDENTIALS (" + user + "): " + g.URL + "/token gave no answer in time"},
		{"IAM Credentials API", []string{EnvGCEMetadataHost, meta},
			"oauth: google-impersonate: Google's IAM Credentials API at " + g.URL + idTokenPrefix + impersonated + ":generateIdToken gave no answer within 300ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g.set(func(g *googleStandIn) { g.stall, g.tokenCalls, g.iamCalls = 10*time.Second, 0, 0 })
			t.Cleanup(func() { g.set(func(g *googleStandIn) { g.stall = 0 }) })
			start := time.Now()
			_, err := Get(context.Background(), Options{Provider: "google-impersonate", Timeout: timeout, LookupEnv: env(g.impersonateEnv(t, tc.env...))})
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("took %s with a timeout of %s", took, timeout)
			}
			if err == nil {
				t.Fatal("no error")
			}
			checkGoogleError(t, err, tc.want)
			g.set(func(g *googleStandIn) {
				if g.tokenCalls+g.iamCalls != 1 {
					t.Errorf("%d stalled requests, want 1 (no retry after a timeout)", g.tokenCalls+g.iamCalls)
				}
			})
		})
	}
}

// TestRetryOnce: a POST is sent again with the same body after a 5xx
// answer or a failed connection, once.
func TestRetryOnce(t *testing.T) {
	var (
		mu     sync.Mutex
		bodies []string
	)
	status := []int{http.StatusBadGateway, http.StatusOK}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		bodies = append(bodies, string(b))
		code := http.StatusServiceUnavailable
		if len(status) > 0 {
			code, status = status[0], status[1:]
		}
		w.WriteHeader(code)
	}))
	defer srv.Close()
	hc := googleHTTPClient(time.Second)
	resp, err := hc.Post(srv.URL, "text/plain", strings.NewReader("grant"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mu.Lock()
	if resp.StatusCode != http.StatusOK || len(bodies) != 2 || bodies[1] != "grant" {
		t.Errorf("status %d after %q", resp.StatusCode, bodies)
	}
	bodies = nil
	mu.Unlock()
	resp, err = hc.Post(srv.URL, "text/plain", strings.NewReader("grant"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	if resp.StatusCode != http.StatusServiceUnavailable || len(bodies) != 2 {
		t.Errorf("status %d after %q, want 503 after two attempts", resp.StatusCode, bodies)
	}
}
