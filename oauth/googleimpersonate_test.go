package oauth

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	impersonated = "signer@demo.iam.gserviceaccount.com"
	accessToken  = "ya29.access-secret"
	refreshToken = "1//refresh-secret"
)

// googleStandIn serves, on one loopback server, Google's OAuth 2.0 token
// endpoint (/token: the refresh_token grant of user credentials, the
// jwt-bearer grant of a service account key, whose RS256 assertion it
// verifies) and the IAM Credentials API's generateIdToken, as they
// answer: JSON errors ({"error": "invalid_grant", ...} from the token
// endpoint; {"error": {"code", "message", "status"}} from the API), a
// 401 without the access token, a 403 for a service account the caller
// may not impersonate. It mints tokens with s.
type googleStandIn struct {
	*httptest.Server
	key    *rsa.PrivateKey
	signer *signer
	expiry time.Time
}

func newGoogleStandIn(t *testing.T) *googleStandIn {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	g := &googleStandIn{key: key, signer: newSigner(t), expiry: time.Now().Add(time.Hour)}
	apiError := func(w http.ResponseWriter, code int, status, msg string) {
		writeJSON(w, code, map[string]any{"error": map[string]any{"code": code, "message": msg, "status": status}})
	}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/token":
			if err := r.ParseForm(); err != nil {
				t.Error(err)
			}
			ok := false
			switch r.PostForm.Get("grant_type") {
			case "refresh_token":
				ok = r.PostForm.Get("client_id") == "client.apps.googleusercontent.com" && r.PostForm.Get("refresh_token") == refreshToken
			case "urn:ietf:params:oauth:grant-type:jwt-bearer":
				ok = g.verifyAssertion(r.PostForm.Get("assertion"), g.URL+"/token")
			}
			if !ok {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "Bad Request"})
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"access_token": accessToken, "expires_in": 3599, "token_type": "Bearer"})
		case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/v1/projects/-/serviceAccounts/") && strings.HasSuffix(r.URL.Path, ":generateIdToken"):
			if r.Header.Get("Authorization") != "Bearer "+accessToken {
				apiError(w, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.")
				return
			}
			sa := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v1/projects/-/serviceAccounts/"), ":generateIdToken")
			if sa != impersonated {
				apiError(w, 403, "PERMISSION_DENIED", "Permission 'iam.serviceAccounts.getOpenIdToken' denied on resource (or it may not exist).")
				return
			}
			var body struct {
				Audience     string `json:"audience"`
				IncludeEmail bool   `json:"includeEmail"`
			}
			if json.NewDecoder(r.Body).Decode(&body) != nil || body.Audience == "" {
				apiError(w, 400, "INVALID_ARGUMENT", "Invalid value for audience")
				return
			}
			claims := map[string]any{"iss": "https://accounts.google.com", "sub": "111", "aud": body.Audience, "exp": g.expiry.Unix()}
			if body.IncludeEmail {
				claims["email"], claims["email_verified"] = sa, true
			}
			writeJSON(w, http.StatusOK, map[string]string{"token": g.signer.sign(t, claims)})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(g.Close)
	old := iamCredentialsURL
	iamCredentialsURL = g.URL
	t.Cleanup(func() { iamCredentialsURL = old })
	return g
}

func (g *googleStandIn) verifyAssertion(a, aud string) bool {
	parts := strings.Split(a, ".")
	if len(parts) != 3 {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&g.key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return false
	}
	var c struct {
		Iss, Scope, Aud string
		Iat, Exp        int64
	}
	p, _ := base64.RawURLEncoding.DecodeString(parts[1])
	return json.Unmarshal(p, &c) == nil && c.Iss == "builder@demo.iam.gserviceaccount.com" && c.Scope == cloudPlatformScope && c.Aud == aud && c.Exp > time.Now().Unix()
}

func (g *googleStandIn) credentials(t *testing.T, kind string) string {
	t.Helper()
	var v map[string]string
	switch kind {
	case "authorized_user":
		v = map[string]string{"type": kind, "client_id": "client.apps.googleusercontent.com", "client_secret": "client-secret", "refresh_token": refreshToken, "token_uri": g.URL + "/token"}
	case "service_account":
		der, err := x509.MarshalPKCS8PrivateKey(g.key)
		if err != nil {
			t.Fatal(err)
		}
		v = map[string]string{"type": kind, "client_email": "builder@demo.iam.gserviceaccount.com", "private_key_id": "k1",
			"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "token_uri": g.URL + "/token"}
	default:
		v = map[string]string{"type": kind}
	}
	b, _ := json.Marshal(v)
	path := filepath.Join(t.TempDir(), "credentials.json")
	writeFile(t, path, string(b))
	return path
}

func TestGoogleImpersonateProvider(t *testing.T) {
	g := newGoogleStandIn(t)
	meta, _ := metadataServer(t, func(string, string) string { return "" })
	metaToken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Metadata-Flavor", "Google")
		if r.Header.Get("Metadata-Flavor") != "Google" || r.URL.Path != "/computeMetadata/v1/instance/service-accounts/default/token" {
			meta.Config.Handler.ServeHTTP(w, r)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"access_token": accessToken, "expires_in": 3599, "token_type": "Bearer"})
	}))
	t.Cleanup(metaToken.Close)
	for _, tc := range []struct {
		name string
		env  map[string]string
	}{
		{"user credentials", map[string]string{EnvGoogleApplicationCredentials: g.credentials(t, "authorized_user")}},
		{"service account key", map[string]string{EnvGoogleApplicationCredentials: g.credentials(t, "service_account")}},
		{"gcloud's file", map[string]string{"CLOUDSDK_CONFIG": filepath.Dir(g.credentials(t, "authorized_user"))}},
		{"metadata server", map[string]string{"CLOUDSDK_CONFIG": t.TempDir(), EnvGCEMetadataHost: strings.TrimPrefix(metaToken.URL, "http://")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if dir := tc.env["CLOUDSDK_CONFIG"]; dir != "" && tc.name == "gcloud's file" {
				if err := os.Rename(filepath.Join(dir, "credentials.json"), filepath.Join(dir, "application_default_credentials.json")); err != nil {
					t.Fatal(err)
				}
			}
			tc.env[EnvGoogleServiceAccountName] = impersonated
			tok, err := Get(context.Background(), Options{Provider: "google-impersonate", LookupEnv: env(tc.env)})
			if err != nil {
				t.Fatal(err)
			}
			if tok.Source != "google-impersonate" || tok.Subject != impersonated || tok.Issuer != "https://accounts.google.com" || tok.Audience[0] != "sigstore" {
				t.Errorf("%v", tok)
			}
		})
	}
}

func TestGoogleImpersonateFailures(t *testing.T) {
	g := newGoogleStandIn(t)
	user := g.credentials(t, "authorized_user")
	badGrant := filepath.Join(t.TempDir(), "c.json")
	writeFile(t, badGrant, fmt.Sprintf(`{"type":"authorized_user","client_id":"other","client_secret":"client-secret","refresh_token":%q,"token_uri":%q}`, refreshToken, g.URL+"/token"))
	notJSON := filepath.Join(t.TempDir(), "c.json")
	writeFile(t, notJSON, "client-secret")
	noTarget := map[string]string{EnvGoogleApplicationCredentials: user}
	for _, tc := range []struct {
		name   string
		env    map[string]string
		expire bool
		want   string
	}{
		{"no service account", noTarget, false, "oauth: google-impersonate: no identity token: GOOGLE_SERVICE_ACCOUNT_NAME is not set: it names the service account to impersonate"},
		{"not an email", map[string]string{EnvGoogleServiceAccountName: "a/b"}, false, "GOOGLE_SERVICE_ACCOUNT_NAME must be a service account's email address, got a/b"},
		{"no credentials", map[string]string{EnvGoogleServiceAccountName: impersonated, "CLOUDSDK_CONFIG": "/nonexistent", EnvGCEMetadataHost: "127.0.0.1:1"}, false,
			"no Google credentials: GOOGLE_APPLICATION_CREDENTIALS is not set, there is no /nonexistent/application_default_credentials.json (gcloud auth application-default login writes it), and no metadata server at http://127.0.0.1:1/computeMetadata/v1/instance/service-accounts/default/token?scopes=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fcloud-platform: connection refused (GCE_METADATA_HOST names it)"},
		{"credentials file missing", map[string]string{EnvGoogleServiceAccountName: impersonated, EnvGoogleApplicationCredentials: "/nonexistent/c.json"}, false,
			"reading Google credentials: open /nonexistent/c.json: no such file or directory"},
		{"not a credentials file", map[string]string{EnvGoogleServiceAccountName: impersonated, EnvGoogleApplicationCredentials: notJSON}, false,
			"GOOGLE_APPLICATION_CREDENTIALS (" + notJSON + ") is not a Google credentials file"},
		{"other kind", map[string]string{EnvGoogleServiceAccountName: impersonated, EnvGoogleApplicationCredentials: g.credentials(t, "external_account")}, false,
			"holds external_account credentials, which gitsign cannot use yet"},
		{"refused grant", map[string]string{EnvGoogleServiceAccountName: impersonated, EnvGoogleApplicationCredentials: badGrant}, false,
			"with GOOGLE_APPLICATION_CREDENTIALS (" + badGrant + "): Google's token endpoint at " + g.URL + "/token answered 400 Bad Request: invalid_grant Bad Request"},
		{"may not impersonate", map[string]string{EnvGoogleServiceAccountName: "other@demo.iam.gserviceaccount.com", EnvGoogleApplicationCredentials: user}, false,
			"the IAM Credentials API at " + g.URL + "/v1/projects/-/serviceAccounts/other@demo.iam.gserviceaccount.com:generateIdToken answered 403 Forbidden: PERMISSION_DENIED Permission 'iam.serviceAccounts.getOpenIdToken' denied on resource (or it may not exist). (the credentials need the role Service Account OpenID Connect Identity Token Creator on other@demo.iam.gserviceaccount.com)"},
		{"expired", map[string]string{EnvGoogleServiceAccountName: impersonated, EnvGoogleApplicationCredentials: user}, true,
			"the IAM Credentials API's token: identity token from https://accounts.google.com expired at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g.expiry = time.Now().Add(time.Hour)
			if tc.expire {
				g.expiry = time.Now().Add(-time.Minute)
			}
			tok, err := Get(context.Background(), Options{Provider: "google-impersonate", Timeout: time.Second, LookupEnv: env(tc.env)})
			if err == nil {
				t.Fatalf("got %v", tok)
			}
			var se *SourceError
			if !errors.As(err, &se) || se.Provider != "google-impersonate" || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant %q", err, tc.want)
			}
			for _, secret := range []string{refreshToken, accessToken, "client-secret", "\n"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error shows %q: %q", secret, err)
				}
			}
		})
	}
}
