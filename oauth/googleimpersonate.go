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
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/gitsign-dev/gitsign/internal/httpx"
	"github.com/gitsign-dev/gitsign/internal/printable"
)

// ProviderGoogleImpersonate asks Google's IAM Credentials API for an
// identity token of another service account, with the credentials at hand.
const ProviderGoogleImpersonate = "google-impersonate"

// The variables google-impersonate reads.
const (
	// EnvGoogleServiceAccountName names the service account to
	// impersonate (the reference's variable).
	EnvGoogleServiceAccountName = "GOOGLE_SERVICE_ACCOUNT_NAME"
	// EnvGoogleApplicationCredentials names the credentials file of
	// Application Default Credentials.
	EnvGoogleApplicationCredentials = "GOOGLE_APPLICATION_CREDENTIALS"
)

// ErrNoGoogleCredentials is wrapped when google-impersonate finds no
// credentials to impersonate with.
var ErrNoGoogleCredentials = errors.New("no Google credentials")

// iamCredentialsURL is the IAM Credentials API (a variable for tests).
var iamCredentialsURL = "https://iamcredentials.googleapis.com"

// googleTokenURL is Google's OAuth 2.0 token endpoint, used when a
// credentials file names none.
const googleTokenURL = "https://oauth2.googleapis.com/token"

// cloudPlatformScope is the scope the base credentials' access token is
// asked for, as Google's impersonate library asks.
const cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

// maxCredentialsFile bounds the credentials file read.
const maxCredentialsFile = 64 << 10

// googleImpersonateToken gets an identity token for audience o.ClientID
// (DefaultAudience when empty) of the service account
// GOOGLE_SERVICE_ACCOUNT_NAME, as the reference does with Google's
// impersonate library:
//
//	POST https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/SA:generateIdToken
//	{"audience": AUD, "includeEmail": true}
//
// authorized by an access token of Application Default Credentials: the
// file GOOGLE_APPLICATION_CREDENTIALS names, else the one `gcloud auth
// application-default login` writes, else the metadata server's service
// account. Of credentials files, user credentials (authorized_user) and
// service account keys (service_account) are supported; the other kinds
// are refused by name.
func googleImpersonateToken(ctx context.Context, o *Options) (*IDToken, error) {
	target, _ := o.LookupEnv(EnvGoogleServiceAccountName)
	target = strings.TrimSpace(target)
	if target == "" {
		return nil, fmt.Errorf("%w: %s is not set: it names the service account to impersonate", ErrNoToken, EnvGoogleServiceAccountName)
	}
	if strings.ContainsAny(target, "/?#:% \t") || !printable.Safe(target) {
		return nil, fmt.Errorf("%s must be a service account's email address, got %s", EnvGoogleServiceAccountName, displayString(target))
	}
	aud := o.ClientID
	if aud == "" {
		aud = DefaultAudience
	}
	hc := httpx.New(o.Timeout)
	access, err := googleAccessToken(ctx, o, hc)
	if err != nil {
		return nil, err
	}
	endpoint := iamCredentialsURL + "/v1/projects/-/serviceAccounts/" + url.PathEscape(target) + ":generateIdToken"
	body, _ := json.Marshal(map[string]any{"audience": aud, "includeEmail": true})
	done := o.Progress("asking Google's IAM Credentials API for an identity token of " + target)
	resp, err := hc.Do(ctx, http.MethodPost, endpoint, body, http.Header{
		"Authorization": {"Bearer " + access},
		"Content-Type":  {"application/json"},
	})
	done(err)
	if err != nil {
		err = googleAPIError("the IAM Credentials API", endpoint, hideSecret(err, access))
		var se *httpx.StatusError
		if errors.As(err, &se) && se.Status == http.StatusForbidden {
			return nil, fmt.Errorf("%w (the credentials need the role Service Account OpenID Connect Identity Token Creator on %s)", err, target)
		}
		return nil, err
	}
	var answer struct {
		Token string `json:"token"`
	}
	if json.Unmarshal(resp.Body, &answer) != nil {
		return nil, fmt.Errorf("the IAM Credentials API at %s answered something that is not JSON", endpoint)
	}
	raw := trimToken(answer.Token)
	if raw == "" {
		return nil, fmt.Errorf("%w: the IAM Credentials API answered without a token", ErrNoToken)
	}
	tok, err := ParseUnverified(raw)
	if err != nil {
		return nil, fmt.Errorf("the IAM Credentials API's token: %w", err)
	}
	if err := checkAudience(tok, aud, "the IAM Credentials API's token"); err != nil {
		return nil, err
	}
	return tok, nil
}

// googleCredentials is the part of a credentials file gitsign reads.
type googleCredentials struct {
	Type         string `json:"type"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	RefreshToken string `json:"refresh_token"`
	ClientEmail  string `json:"client_email"`
	PrivateKey   string `json:"private_key"`
	PrivateKeyID string `json:"private_key_id"`
	TokenURI     string `json:"token_uri"`
}

// wellKnownCredentials is where gcloud writes application default
// credentials: CLOUDSDK_CONFIG, else %APPDATA%\gcloud on Windows and
// ~/.config/gcloud elsewhere.
func wellKnownCredentials(o *Options) string {
	const name = "application_default_credentials.json"
	if dir, _ := o.LookupEnv("CLOUDSDK_CONFIG"); dir != "" {
		return filepath.Join(dir, name)
	}
	if runtime.GOOS == "windows" {
		appData, _ := o.LookupEnv("APPDATA")
		return filepath.Join(appData, "gcloud", name)
	}
	home, _ := o.LookupEnv("HOME")
	return filepath.Join(home, ".config", "gcloud", name)
}

// googleAccessToken returns an access token of the base credentials.
func googleAccessToken(ctx context.Context, o *Options, hc *httpx.Client) (string, error) {
	path, named := o.LookupEnv(EnvGoogleApplicationCredentials)
	path = strings.TrimSpace(path)
	where := EnvGoogleApplicationCredentials + " (" + path + ")"
	if !named || path == "" {
		path, where = wellKnownCredentials(o), "the gcloud credentials file "+wellKnownCredentials(o)
		if _, err := os.Stat(path); err != nil {
			access, merr := metadataAccessToken(ctx, o)
			if merr != nil {
				return "", fmt.Errorf("%w: %s is not set, there is no %s (gcloud auth application-default login writes it), and %w", ErrNoGoogleCredentials, EnvGoogleApplicationCredentials, path, merr)
			}
			return access, nil
		}
	}
	creds, err := readGoogleCredentials(path, where)
	if err != nil {
		return "", err
	}
	tokenURL := creds.TokenURI
	if tokenURL == "" {
		tokenURL = googleTokenURL
	}
	if u, err := url.Parse(tokenURL); err != nil || u.Host == "" || !(u.Scheme == "https" || (u.Scheme == "http" && loopbackHost(u.Hostname()))) {
		return "", fmt.Errorf("%s: token_uri must be an https URL, got %s", where, displayString(tokenURL))
	}
	form := url.Values{}
	var secret string
	switch creds.Type {
	case "authorized_user":
		if creds.ClientID == "" || creds.RefreshToken == "" {
			return "", fmt.Errorf("%s: user credentials without a client_id or refresh_token", where)
		}
		form = url.Values{"grant_type": {"refresh_token"}, "client_id": {creds.ClientID}, "client_secret": {creds.ClientSecret}, "refresh_token": {creds.RefreshToken}}
		secret = creds.RefreshToken
	case "service_account":
		assertion, err := serviceAccountAssertion(creds, tokenURL, time.Now())
		if err != nil {
			return "", fmt.Errorf("%s: %w", where, err)
		}
		form = url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {assertion}}
		secret = assertion
	case "":
		return "", fmt.Errorf("%s is not a Google credentials file (it has no \"type\")", where)
	default:
		return "", fmt.Errorf("%s holds %s credentials, which gitsign cannot use yet (it uses authorized_user and service_account files, and the metadata server)", where, displayString(creds.Type))
	}
	resp, err := hc.Do(ctx, http.MethodPost, tokenURL, []byte(form.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	if err != nil {
		err = hideSecret(hideSecret(err, secret), creds.ClientSecret)
		return "", fmt.Errorf("with %s: %w", where, googleAPIError("Google's token endpoint", tokenURL, err))
	}
	var answer struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(resp.Body, &answer) != nil || answer.AccessToken == "" {
		return "", fmt.Errorf("with %s: Google's token endpoint at %s answered without an access token", where, tokenURL)
	}
	return answer.AccessToken, nil
}

func readGoogleCredentials(path, where string) (*googleCredentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading Google credentials: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCredentialsFile+1))
	if err != nil {
		return nil, fmt.Errorf("reading Google credentials: %w", err)
	}
	var c googleCredentials
	if len(b) > maxCredentialsFile || json.Unmarshal(b, &c) != nil {
		return nil, fmt.Errorf("%s is not a Google credentials file (not a JSON object of at most %d bytes)", where, maxCredentialsFile)
	}
	return &c, nil
}

// serviceAccountAssertion is the signed JWT a service account key
// exchanges for an access token (RFC 7523).
func serviceAccountAssertion(c *googleCredentials, aud string, now time.Time) (string, error) {
	if c.ClientEmail == "" || c.PrivateKey == "" {
		return "", errors.New("a service account key without client_email or private_key")
	}
	block, _ := pem.Decode([]byte(c.PrivateKey))
	if block == nil {
		return "", errors.New("its private_key is not PEM")
	}
	var key any
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	}
	rk, ok := key.(*rsa.PrivateKey)
	if err != nil || !ok {
		return "", errors.New("its private_key is not an RSA key")
	}
	header := map[string]string{"alg": "RS256", "typ": "JWT"}
	if c.PrivateKeyID != "" {
		header["kid"] = c.PrivateKeyID
	}
	h, _ := json.Marshal(header)
	p, _ := json.Marshal(map[string]any{"iss": c.ClientEmail, "scope": cloudPlatformScope, "aud": aud, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, rk, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("signing with its private_key: %w", err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// metadataAccessToken asks the metadata server for its service account's
// access token.
func metadataAccessToken(ctx context.Context, o *Options) (string, error) {
	resp, endpoint, err := metadataGet(ctx, o, "instance/service-accounts/default/token?"+url.Values{"scopes": {cloudPlatformScope}}.Encode())
	if err != nil {
		return "", err
	}
	var answer struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(resp.Body, &answer) != nil || answer.AccessToken == "" {
		return "", fmt.Errorf("the metadata server at %s answered without an access token", endpoint)
	}
	return answer.AccessToken, nil
}

// googleAPIError makes a failed request to a Google API one line: the
// status and the API's own error message (its JSON "error": a string with
// an "error_description", or an object with a "message").
func googleAPIError(what, endpoint string, err error) error {
	var se *httpx.StatusError
	if !errors.As(err, &se) {
		return fmt.Errorf("%s at %s: %w", what, endpoint, err)
	}
	var body struct {
		Error json.RawMessage `json:"error"`
		Desc  string          `json:"error_description"`
	}
	msg := ""
	if json.Unmarshal([]byte(se.Body), &body) == nil && len(body.Error) > 0 {
		var s string
		var obj struct {
			Message string `json:"message"`
			Status  string `json:"status"`
		}
		switch {
		case json.Unmarshal(body.Error, &s) == nil:
			msg = strings.TrimSpace(s + " " + body.Desc)
		case json.Unmarshal(body.Error, &obj) == nil:
			msg = strings.TrimSpace(obj.Status + " " + obj.Message)
		}
	}
	if msg == "" {
		return &apiError{msg: fmt.Sprintf("%s at %s answered %d %s%s", what, endpoint, se.Status, http.StatusText(se.Status), serverLine(se.Body)), err: se}
	}
	return &apiError{msg: fmt.Sprintf("%s at %s answered %d %s: %s", what, endpoint, se.Status, http.StatusText(se.Status), displayLine(msg)), err: se}
}

// apiError is a one-line message that still matches the *httpx.StatusError.
type apiError struct {
	msg string
	err error
}

func (e *apiError) Error() string { return e.msg }
func (e *apiError) Unwrap() error { return e.err }
