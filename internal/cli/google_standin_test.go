package cli

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// The stand-in's secrets and the one service account it lets the
// credentials impersonate.
const (
	standInRefreshToken = "1//cli-refresh-secret"
	standInAccessToken  = "ya29.cli-access-secret"
	standInSigner       = "signer@demo.iam.gserviceaccount.com"
)

// googleStandIn is the script command `google-standin FILE`: it starts,
// until the script ends, a loopback stand-in of Google's OAuth 2.0 token
// endpoint (/token: the refresh_token grant of user credentials) and of
// the IAM Credentials API's generateIdToken, sets GITSIGN_IAM_CREDENTIALS_URL
// to it, and writes to FILE user credentials (authorized_user) whose
// token_uri is the stand-in's. generateIdToken answers with an unsigned
// JWT for the audience asked for (gitsign checks its claims; Fulcio, its
// signature), or Google's 403 for any other service account than
// signer@demo.iam.gserviceaccount.com.
func googleStandIn(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: google-standin FILE")
	}
	srv := httptest.NewServer(http.HandlerFunc(serveGoogleStandIn))
	ts.Defer(srv.Close)
	ts.Setenv("GITSIGN_IAM_CREDENTIALS_URL", srv.URL)
	creds, err := json.Marshal(map[string]string{"type": "authorized_user", "client_id": "cli.apps.googleusercontent.com",
		"client_secret": "cli-client-secret", "refresh_token": standInRefreshToken, "token_uri": srv.URL + "/token"})
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), creds, 0o600))
}

func serveGoogleStandIn(w http.ResponseWriter, r *http.Request) {
	reply := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(v)
	}
	const prefix, suffix = "/v1/projects/-/serviceAccounts/", ":generateIdToken"
	switch p := r.URL.Path; {
	case r.Method == http.MethodPost && p == "/token":
		if r.ParseForm() != nil || r.PostForm.Get("grant_type") != "refresh_token" || r.PostForm.Get("refresh_token") != standInRefreshToken {
			reply(http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "Bad Request"})
			return
		}
		reply(http.StatusOK, map[string]any{"access_token": standInAccessToken, "expires_in": 3599, "token_type": "Bearer"})
	case r.Method == http.MethodPost && strings.HasPrefix(p, prefix) && strings.HasSuffix(p, suffix):
		var body struct {
			Audience     string `json:"audience"`
			IncludeEmail bool   `json:"includeEmail"`
		}
		sa := strings.TrimSuffix(strings.TrimPrefix(p, prefix), suffix)
		switch {
		case r.Header.Get("Authorization") != "Bearer "+standInAccessToken:
			reply(http.StatusUnauthorized, googleError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."))
		case sa != standInSigner:
			reply(http.StatusForbidden, googleError(403, "PERMISSION_DENIED", "Permission 'iam.serviceAccounts.getOpenIdToken' denied on resource (or it may not exist)."))
		case json.NewDecoder(r.Body).Decode(&body) != nil || body.Audience == "" || !body.IncludeEmail:
			reply(http.StatusBadRequest, googleError(400, "INVALID_ARGUMENT", "Invalid value for audience or includeEmail"))
		default:
			enc := func(v any) string {
				b, _ := json.Marshal(v)
				return base64.RawURLEncoding.EncodeToString(b)
			}
			claims := map[string]any{"iss": "https://accounts.google.com", "sub": "111", "aud": body.Audience,
				"email": sa, "email_verified": true, "exp": 4102444800}
			reply(http.StatusOK, map[string]string{"token": enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(claims) + ".c2ln"})
		}
	default:
		http.NotFound(w, r)
	}
}

func googleError(code int, status, msg string) map[string]any {
	return map[string]any{"error": map[string]any{"code": code, "message": msg, "status": status}}
}
