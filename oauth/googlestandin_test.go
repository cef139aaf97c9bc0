package oauth

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	impersonated  = "signer@demo.iam.gserviceaccount.com"
	builder       = "builder@demo.iam.gserviceaccount.com"
	userClientID  = "client.apps.googleusercontent.com"
	userSecret    = "client-secret-shh"
	refreshToken  = "1//refresh-secret"
	subjectToken  = "external-subject-secret"
	quotaProject  = "billing-project"
	userAccess    = "ya29.user-access-secret"
	keyAccess     = "ya29.key-access-secret"
	stsAccess     = "ya29.sts-access-secret"
	chainAccess   = "ya29.chain-access-secret"
	gceAccess     = "ya29.gce-access-secret"
	stsAudience   = "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/pool/providers/ci"
	idTokenPrefix = "/v1/projects/-/serviceAccounts/"
)

// googleStandIn serves, on one loopback server, what google-impersonate
// talks to, as Google answers:
//
//   - /token, Google's OAuth 2.0 token endpoint: the refresh_token grant
//     of user credentials and the jwt-bearer grant of a service account
//     key, whose RS256 assertion it verifies with the test key; a
//     refused grant is 400 {"error": "invalid_grant", ...};
//   - /sts, the security token service of workload identity federation
//     (token exchange of the subject token);
//   - the IAM Credentials API: generateAccessToken for builder (the
//     impersonated_service_account kind) and generateIdToken, which
//     checks the Bearer access token, the path and the body (audience,
//     includeEmail) and refuses with Google's JSON errors
//     ({"error": {"code", "message", "status"}});
//   - /computeMetadata/v1/instance/service-accounts/default/token, the
//     metadata server's access token (only with Metadata-Flavor: Google).
//
// Its fields change what it answers; mu guards them and what it saw.
type googleStandIn struct {
	*httptest.Server
	key    *rsa.PrivateKey
	signer *signer

	mu           sync.Mutex
	expiry       time.Time
	idToken      string // answered as the token when set
	bigAnswer    bool   // an answer larger than any token
	stall        time.Duration
	iamFailures  int // 503s before generateIdToken answers
	tokenFailure int // 500s before the token endpoint answers
	iamCalls     int
	tokenCalls   int
	bearer       string // the access token generateIdToken got
	userProject  string // its X-Goog-User-Project
	aud          string // the audience it was asked for
}

var accessTokens = []string{userAccess, keyAccess, stsAccess, chainAccess, gceAccess}

func newGoogleStandIn(t *testing.T) *googleStandIn {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	g := &googleStandIn{key: key, signer: newSigner(t), expiry: time.Now().Add(time.Hour)}
	g.Server = httptest.NewServer(http.HandlerFunc(g.serve(t)))
	t.Cleanup(g.Close)
	return g
}

func googleAPIError(w http.ResponseWriter, code int, status, msg string) {
	writeJSON(w, code, map[string]any{"error": map[string]any{"code": code, "message": msg, "status": status}})
}

// stalled, when g.stall is set, holds the request (g.mu held on entry
// and on return) until the client gives up or g.stall passes, and
// reports that it did.
func (g *googleStandIn) stalled(r *http.Request) bool {
	if g.stall <= 0 {
		return false
	}
	// Read first: the server sees the client go only then.
	io.Copy(io.Discard, r.Body)
	g.mu.Unlock()
	select {
	case <-r.Context().Done():
	case <-time.After(g.stall):
	}
	g.mu.Lock()
	return true
}

func (g *googleStandIn) serve(t *testing.T) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		defer g.mu.Unlock()
		if r.Method != http.MethodPost && r.URL.Path != "/computeMetadata/v1/instance/service-accounts/default/token" {
			http.NotFound(w, r)
			return
		}
		switch p := r.URL.Path; {
		case p == "/token":
			g.tokenCalls++
			if g.tokenFailure > 0 {
				g.tokenFailure--
				http.Error(w, "backend error", http.StatusInternalServerError)
				return
			}
			if g.stalled(r) {
				return
			}
			if err := r.ParseForm(); err != nil {
				t.Error(err)
			}
			access := ""
			switch r.PostForm.Get("grant_type") {
			case "refresh_token":
				if r.PostForm.Get("client_id") == userClientID && r.PostForm.Get("client_secret") == userSecret && r.PostForm.Get("refresh_token") == refreshToken {
					access = userAccess
				}
			case "urn:ietf:params:oauth:grant-type:jwt-bearer":
				if g.verifyAssertion(r.PostForm.Get("assertion"), g.URL+"/token") {
					access = keyAccess
				} else {
					writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
					return
				}
			}
			if access == "" {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"access_token": access, "expires_in": 3599, "token_type": "Bearer", "scope": cloudPlatformScope})
		case p == "/sts":
			if err := r.ParseForm(); err != nil {
				t.Error(err)
			}
			f := r.PostForm
			if f.Get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange" || f.Get("subject_token") != subjectToken ||
				f.Get("audience") != stsAudience || f.Get("scope") != cloudPlatformScope {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "The audience in the subject token does not match."})
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"access_token": stsAccess, "issued_token_type": "urn:ietf:params:oauth:token-type:access_token", "token_type": "Bearer", "expires_in": 3600})
		case p == "/computeMetadata/v1/instance/service-accounts/default/token":
			w.Header().Set("Metadata-Flavor", "Google")
			if r.Header.Get("Metadata-Flavor") != "Google" || r.URL.Query().Get("scopes") != cloudPlatformScope {
				http.Error(w, "Missing Metadata-Flavor:Google header.", http.StatusForbidden)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"access_token": gceAccess, "expires_in": 3599, "token_type": "Bearer"})
		case strings.HasPrefix(p, idTokenPrefix) && strings.HasSuffix(p, ":generateAccessToken"):
			if r.Header.Get("Authorization") != "Bearer "+userAccess || p != idTokenPrefix+builder+":generateAccessToken" {
				googleAPIError(w, 403, "PERMISSION_DENIED", "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).")
				return
			}
			writeJSON(w, http.StatusOK, map[string]string{"accessToken": chainAccess, "expireTime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
		case strings.HasPrefix(p, idTokenPrefix) && strings.HasSuffix(p, ":generateIdToken"):
			g.iamCalls++
			if g.iamFailures > 0 {
				g.iamFailures--
				googleAPIError(w, 503, "UNAVAILABLE", "The service is currently unavailable.")
				return
			}
			if g.stalled(r) {
				return
			}
			bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			known := false
			for _, a := range accessTokens {
				known = known || ok && bearer == a
			}
			if !known {
				googleAPIError(w, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.")
				return
			}
			g.bearer, g.userProject = bearer, r.Header.Get("X-Goog-User-Project")
			sa := strings.TrimSuffix(strings.TrimPrefix(p, idTokenPrefix), ":generateIdToken")
			if sa != impersonated {
				googleAPIError(w, 403, "PERMISSION_DENIED", "Permission 'iam.serviceAccounts.getOpenIdToken' denied on resource (or it may not exist).")
				return
			}
			var body struct {
				Audience     string `json:"audience"`
				IncludeEmail bool   `json:"includeEmail"`
			}
			if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&body) != nil || body.Audience == "" || !body.IncludeEmail {
				googleAPIError(w, 400, "INVALID_ARGUMENT", "Invalid value for audience or includeEmail")
				return
			}
			g.aud = body.Audience
			switch {
			case g.bigAnswer:
				writeJSON(w, http.StatusOK, map[string]string{"token": strings.Repeat("x", maxGoogleAnswer)})
			case g.idToken != "":
				writeJSON(w, http.StatusOK, map[string]string{"token": g.idToken})
			default:
				claims := map[string]any{"iss": "https://accounts.google.com", "sub": "111", "azp": "111", "aud": body.Audience,
					"exp": g.expiry.Unix(), "email": sa, "email_verified": true}
				writeJSON(w, http.StatusOK, map[string]string{"token": g.signer.sign(t, claims)})
			}
		default:
			http.NotFound(w, r)
		}
	}
}

// verifyAssertion checks a jwt-bearer assertion as Google's token
// endpoint does: RS256 with the key of the file, for the token
// endpoint, from builder, with the cloud-platform scope, not expired.
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
	var h struct{ Alg, Kid string }
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var c struct {
		Iss, Scope, Aud string
		Iat, Exp        int64
	}
	p, _ := base64.RawURLEncoding.DecodeString(parts[1])
	return json.Unmarshal(hb, &h) == nil && h.Alg == "RS256" && h.Kid == "k1" &&
		json.Unmarshal(p, &c) == nil && c.Iss == builder && c.Scope == cloudPlatformScope && c.Aud == aud && c.Exp > time.Now().Unix()
}

func (g *googleStandIn) set(f func(g *googleStandIn)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f(g)
}

// userCredentials is an authorized_user file, as gcloud auth
// application-default login writes it.
func (g *googleStandIn) userCredentials() map[string]any {
	return map[string]any{"type": "authorized_user", "client_id": userClientID, "client_secret": userSecret,
		"refresh_token": refreshToken, "quota_project_id": quotaProject, "token_uri": g.URL + "/token"}
}

// serviceAccountKey is a service account key file signed with key.
func (g *googleStandIn) serviceAccountKey(t *testing.T, key *rsa.PrivateKey) map[string]any {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"type": "service_account", "project_id": "demo", "client_email": builder, "client_id": "1234", "private_key_id": "k1",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "token_uri": g.URL + "/token"}
}

// externalAccount is a workload identity federation configuration whose
// subject token is a file.
func (g *googleStandIn) externalAccount(t *testing.T) map[string]any {
	t.Helper()
	subject := filepath.Join(t.TempDir(), "subject-token")
	writeFile(t, subject, subjectToken)
	return map[string]any{"type": "external_account", "audience": stsAudience, "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
		"token_url": g.URL + "/sts", "credential_source": map[string]any{"file": subject}}
}

// impersonatedAccount is what gcloud auth application-default login
// --impersonate-service-account writes: user credentials that act as
// builder.
func (g *googleStandIn) impersonatedAccount() map[string]any {
	return map[string]any{"type": "impersonated_service_account", "delegates": []string{},
		"service_account_impersonation_url": g.URL + idTokenPrefix + builder + ":generateAccessToken",
		"source_credentials":                g.userCredentials()}
}

// credentialsFile writes v as JSON to a new file and returns its path.
func credentialsFile(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "credentials.json")
	writeFile(t, path, string(b))
	return path
}

// impersonateEnv is an environment with nothing of a real machine's:
// an empty home, no metadata server, the stand-in's IAM API.
func (g *googleStandIn) impersonateEnv(t *testing.T, kv ...string) map[string]string {
	t.Helper()
	m := map[string]string{
		"HOME":                      t.TempDir(),
		"APPDATA":                   t.TempDir(),
		EnvGCEMetadataHost:          "127.0.0.1:1",
		EnvIAMCredentialsURL:        g.URL,
		EnvGoogleServiceAccountName: impersonated,
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<unset>" {
			delete(m, kv[i])
		} else {
			m[kv[i]] = kv[i+1]
		}
	}
	return m
}
