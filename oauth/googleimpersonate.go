package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/gitsign-dev/gitsign/internal/httpx"
	"github.com/gitsign-dev/gitsign/internal/printable"
)

// ProviderGoogleImpersonate asks Google's IAM Credentials API for an
// identity token of another service account, with the credentials at hand.
const ProviderGoogleImpersonate = "google-impersonate"

// The variables google-impersonate reads (besides GCE_METADATA_HOST, and
// HOME or APPDATA for gcloud's credentials file).
const (
	// EnvGoogleServiceAccountName names the service account to
	// impersonate (the reference's variable).
	EnvGoogleServiceAccountName = "GOOGLE_SERVICE_ACCOUNT_NAME"
	// EnvGoogleApplicationCredentials names the credentials file of
	// Application Default Credentials.
	EnvGoogleApplicationCredentials = "GOOGLE_APPLICATION_CREDENTIALS"
	// EnvGoogleQuotaProject names the project the IAM Credentials API
	// request is billed to, over the credentials file's
	// quota_project_id, as in Google's libraries.
	EnvGoogleQuotaProject = "GOOGLE_CLOUD_QUOTA_PROJECT"
	// EnvIAMCredentialsURL replaces DefaultIAMCredentialsURL: an https
	// URL, or http on a loopback address (a stand-in, in tests).
	EnvIAMCredentialsURL = "GITSIGN_IAM_CREDENTIALS_URL"
)

// DefaultIAMCredentialsURL is the IAM Credentials API.
const DefaultIAMCredentialsURL = "https://iamcredentials.googleapis.com"

// cloudPlatformScope is the scope the access token of Application
// Default Credentials is asked for, as Google's impersonate library asks.
const cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

// defaultGoogleTimeout bounds each attempt of google-impersonate's
// requests when Options.Timeout is zero.
const defaultGoogleTimeout = 10 * time.Second

// maxCredentialsFile bounds the credentials file read; service account
// keys, the largest kind, are about 2 KiB.
const maxCredentialsFile = 64 << 10

// maxGoogleAnswer bounds an answer holding a token (an access token from
// the metadata server, an identity token from the IAM Credentials API).
const maxGoogleAnswer = maxTokenLen + 4<<10

// tokenCreatorRole is the role generateIdToken needs on the service
// account (iam.serviceAccounts.getOpenIdToken).
const tokenCreatorRole = "Service Account OpenID Connect Identity Token Creator (roles/iam.serviceAccountOpenIdTokenCreator)"

// ErrNoGoogleCredentials is wrapped when google-impersonate finds no
// Application Default Credentials to impersonate with.
var ErrNoGoogleCredentials = errors.New("no Google credentials")

// ErrNoServiceAccount is wrapped when GOOGLE_SERVICE_ACCOUNT_NAME is not
// set.
var ErrNoServiceAccount = errors.New("no service account to impersonate")

// googleImpersonateToken gets an identity token for audience o.ClientID
// (DefaultAudience when empty) of the service account
// GOOGLE_SERVICE_ACCOUNT_NAME, as the reference does with Google's
// impersonate library:
//
//	POST https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/SA:generateIdToken
//	{"audience": AUD, "includeEmail": true}
//
// authorized by an access token (scope cloud-platform) of Application
// Default Credentials (see googleAccessToken). Each request is bounded
// by o.Timeout (10 seconds when zero) and tried once more after a failed
// connection or a 5xx answer.
func googleImpersonateToken(ctx context.Context, o *Options) (*IDToken, error) {
	target, _ := o.LookupEnv(EnvGoogleServiceAccountName)
	target = strings.TrimSpace(target)
	if target == "" {
		return nil, fmt.Errorf("%w: %s is not set", ErrNoServiceAccount, EnvGoogleServiceAccountName)
	}
	if strings.ContainsAny(target, "/?#:% \t") || !printable.Safe(target) {
		return nil, fmt.Errorf("%s must be a service account's email address, got %s", EnvGoogleServiceAccountName, displayString(target))
	}
	base, err := iamCredentialsURL(o.LookupEnv)
	if err != nil {
		return nil, err
	}
	aud := o.ClientID
	if aud == "" {
		aud = DefaultAudience
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = defaultGoogleTimeout
	}

	done := o.Progress("getting an access token of Google's Application Default Credentials")
	creds, err := googleAccessToken(ctx, o, timeout)
	done(err)
	if err != nil {
		return nil, err
	}

	endpoint := base + "/v1/projects/-/serviceAccounts/" + url.PathEscape(target) + ":generateIdToken"
	body, _ := json.Marshal(struct {
		Audience     string `json:"audience"`
		IncludeEmail bool   `json:"includeEmail"`
	}{aud, true})
	header := http.Header{
		"Authorization": {"Bearer " + creds.access},
		"Content-Type":  {"application/json"},
	}
	quota := creds.quotaProject
	if v, _ := o.LookupEnv(EnvGoogleQuotaProject); strings.TrimSpace(v) != "" {
		quota = strings.TrimSpace(v)
	}
	if quota != "" {
		header.Set("X-Goog-User-Project", quota)
	}
	hc := &httpx.Client{Timeout: timeout, Retries: 1, Backoff: 200 * time.Millisecond, UserAgent: "gitsign"}
	done = o.Progress("asking Google's IAM Credentials API for an identity token of " + target)
	resp, err := hc.Do(ctx, http.MethodPost, endpoint, body, header)
	done(err)
	if err != nil {
		return nil, hideSecrets(iamError(endpoint, target, timeout, err), creds.access)
	}
	if len(resp.Body) > maxGoogleAnswer {
		return nil, fmt.Errorf("the answer of Google's IAM Credentials API at %s is larger than %d bytes, which is no token", endpoint, maxGoogleAnswer)
	}
	var answer struct {
		Token string `json:"token"`
	}
	if json.Unmarshal(resp.Body, &answer) != nil {
		return nil, fmt.Errorf("the answer of Google's IAM Credentials API at %s is not JSON", endpoint)
	}
	raw := trimToken(answer.Token)
	if raw == "" {
		return nil, fmt.Errorf("%w: Google's IAM Credentials API at %s answered without a token", ErrNoToken, endpoint)
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

// iamCredentialsURL is GITSIGN_IAM_CREDENTIALS_URL, without a final
// slash, else DefaultIAMCredentialsURL. The access token goes there, so
// it must be https, or plain http to a loopback address.
func iamCredentialsURL(lookupEnv func(string) (string, bool)) (string, error) {
	v, _ := lookupEnv(EnvIAMCredentialsURL)
	if strings.TrimSpace(v) == "" {
		return DefaultIAMCredentialsURL, nil
	}
	u, err := url.Parse(strings.TrimSpace(v))
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" ||
		!(u.Scheme == "https" || (u.Scheme == "http" && loopbackHost(u.Hostname()))) {
		return "", fmt.Errorf("%s must be an https URL (or http on a loopback address) with no query, got %s", EnvIAMCredentialsURL, displayString(v))
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// googleCredentials is an access token of Application Default
// Credentials and the project to bill requests made with it to (the
// credentials file's quota_project_id; GOOGLE_CLOUD_QUOTA_PROJECT wins
// over it).
type googleCredentials struct {
	access       string
	quotaProject string
}

// googleAccessToken gets an access token (scope cloud-platform) of
// Application Default Credentials, found where Google's libraries look:
// the file GOOGLE_APPLICATION_CREDENTIALS names, else gcloud's file
// (`gcloud auth application-default login`), else the metadata server's
// service account. A file may hold any kind golang.org/x/oauth2/google
// reads (authorized_user, service_account, external_account,
// external_account_authorized_user, impersonated_service_account); its
// requests are bounded by timeout and tried once more after a failed
// connection or a 5xx answer. The metadata server is asked as
// google-workload-identity asks it (metadataGet): x/oauth2/google's
// ComputeTokenSource asks it with no context, so neither gitsign's
// timeout nor its cancellation would bound it.
func googleAccessToken(ctx context.Context, o *Options, timeout time.Duration) (*googleCredentials, error) {
	path, where := "", ""
	wellKnown := wellKnownCredentials(o.LookupEnv)
	if v, _ := o.LookupEnv(EnvGoogleApplicationCredentials); strings.TrimSpace(v) != "" {
		path, where = v, EnvGoogleApplicationCredentials+" ("+printable.String(v)+")"
	} else if wellKnown != "" {
		if _, err := os.Stat(wellKnown); !errors.Is(err, fs.ErrNotExist) {
			path, where = wellKnown, "gcloud's credentials file "+printable.String(wellKnown)
		}
	}
	if path == "" {
		return metadataAccessToken(ctx, o, wellKnown)
	}

	b, err := readCredentialsFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", where, err)
	}
	var head struct {
		Type         string `json:"type"`
		QuotaProject string `json:"quota_project_id"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("%s is not a Google credentials file: it is not a JSON object", where)
	}
	if head.Type == "" {
		return nil, fmt.Errorf("%s is not a Google credentials file: it has no \"type\"", where)
	}
	secrets := credentialSecrets(b)
	lctx := context.WithValue(ctx, oauth2.HTTPClient, googleHTTPClient(timeout))
	creds, err := google.CredentialsFromJSONWithTypeAndParams(lctx, b, google.CredentialsType(head.Type),
		google.CredentialsParams{Scopes: []string{cloudPlatformScope}})
	if err != nil {
		return nil, hideSecrets(fmt.Errorf("%s: %s", where, displayLine(err.Error())), secrets...)
	}
	tok, err := creds.TokenSource.Token()
	if err != nil {
		return nil, hideSecrets(tokenEndpointError(where, err), secrets...)
	}
	if tok.AccessToken == "" {
		return nil, fmt.Errorf("with %s: Google gave no access token", where)
	}
	return &googleCredentials{access: tok.AccessToken, quotaProject: head.QuotaProject}, nil
}

// wellKnownCredentials is where gcloud writes Application Default
// Credentials, as Google's libraries look for it: %APPDATA%\gcloud on
// Windows, ~/.config/gcloud elsewhere; "" when neither is set.
func wellKnownCredentials(lookupEnv func(string) (string, bool)) string {
	const name = "application_default_credentials.json"
	dir, sub := "HOME", filepath.Join(".config", "gcloud")
	if runtime.GOOS == "windows" {
		dir, sub = "APPDATA", "gcloud"
	}
	v, _ := lookupEnv(dir)
	if v == "" {
		return ""
	}
	return filepath.Join(v, sub, name)
}

// readCredentialsFile reads a credentials file of at most
// maxCredentialsFile bytes; its errors say why, not the path again.
func readCredentialsFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, pathCause(err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCredentialsFile+1))
	if err != nil {
		return nil, pathCause(err)
	}
	if len(b) > maxCredentialsFile {
		return nil, fmt.Errorf("it is larger than %d bytes, which is no credentials file", maxCredentialsFile)
	}
	return b, nil
}

// pathCause is the cause of a *fs.PathError (e.g. "no such file or
// directory"), which still matches fs.ErrNotExist and the like.
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// credentialSecrets are the secrets a credentials file holds, which no
// message may show: the refresh token, client secret and private key,
// at the top and in source_credentials.
func credentialSecrets(b []byte) []string {
	var f struct {
		RefreshToken string          `json:"refresh_token"`
		ClientSecret string          `json:"client_secret"`
		PrivateKey   string          `json:"private_key"`
		Source       json.RawMessage `json:"source_credentials"`
	}
	if json.Unmarshal(b, &f) != nil {
		return nil
	}
	out := []string{f.RefreshToken, f.ClientSecret, f.PrivateKey}
	if len(f.Source) > 0 {
		out = append(out, credentialSecrets(f.Source)...)
	}
	return out
}

// hideSecrets replaces each secret in err's message, keeping what err
// wraps.
func hideSecrets(err error, secrets ...string) error {
	msg := err.Error()
	for _, s := range secrets {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "[hidden]")
		}
	}
	if msg == err.Error() {
		return err
	}
	return &lineError{msg: msg, err: err}
}

// metadataAccessToken asks the metadata server for its service
// account's access token; when there is none, no credentials were found
// (wellKnown is gcloud's file, which does not exist).
func metadataAccessToken(ctx context.Context, o *Options, wellKnown string) (*googleCredentials, error) {
	resp, endpoint, err := metadataGet(ctx, o, "instance/service-accounts/default/token?"+url.Values{"scopes": {cloudPlatformScope}}.Encode())
	if errors.Is(err, ErrNoMetadataServer) {
		noFile := "there is no gcloud credentials file (HOME is not set)"
		if wellKnown != "" {
			noFile = "there is no " + printable.String(wellKnown) + " (gcloud auth application-default login writes it)"
		}
		// The metadata server's error is text here: the hint for no
		// credentials is not google-workload-identity's.
		return nil, fmt.Errorf("%w: %s is not set, %s, and %s", ErrNoGoogleCredentials, EnvGoogleApplicationCredentials, noFile, err.Error())
	}
	if err != nil {
		return nil, fmt.Errorf("getting an access token of the metadata server's service account: %w", err)
	}
	var answer struct {
		AccessToken string `json:"access_token"`
	}
	if len(resp.Body) > maxGoogleAnswer || json.Unmarshal(resp.Body, &answer) != nil || answer.AccessToken == "" {
		return nil, fmt.Errorf("the metadata server at %s answered without an access token", endpoint)
	}
	return &googleCredentials{access: answer.AccessToken}, nil
}

// googleHTTPClient is the client x/oauth2/google sends its requests
// with: each attempt bounded by timeout and its answer by httpx's limit,
// and tried once more (a POST too: a refresh-token, jwt-bearer or token
// exchange grant can be sent again) after a failed connection that was
// not a timeout, or a 5xx or 429 answer.
func googleHTTPClient(timeout time.Duration) *http.Client {
	inner := (&httpx.Client{Timeout: timeout, UserAgent: "gitsign"}).HTTPClient()
	return &http.Client{Transport: &retryOnce{next: inner.Transport, backoff: 200 * time.Millisecond}}
}

// retryOnce sends a request again, once, when its first attempt failed
// for a reason worth retrying.
type retryOnce struct {
	next    http.RoundTripper
	backoff time.Duration
}

func (r *retryOnce) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	again := err != nil && !httpx.IsTimeout(err) ||
		err == nil && (resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests)
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	if !again || !replayable || req.Context().Err() != nil {
		return resp, err
	}
	retry := req.Clone(req.Context())
	if req.GetBody != nil {
		body, gerr := req.GetBody()
		if gerr != nil {
			return resp, err
		}
		retry.Body = body
	}
	if resp != nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}
	select {
	case <-req.Context().Done():
		if retry.Body != nil {
			retry.Body.Close()
		}
		return nil, context.Cause(req.Context())
	case <-time.After(r.backoff):
	}
	return r.next.RoundTrip(retry)
}

// tokenEndpointError makes a failure to get an access token with the
// credentials where names one line, with Google's own error text.
func tokenEndpointError(where string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		at := ""
		if re.Response.Request != nil {
			at = " at " + re.Response.Request.URL.Redacted()
		}
		msg := fmt.Sprintf("getting an access token with %s: Google's token endpoint%s answered %d %s", where, at, re.Response.StatusCode, http.StatusText(re.Response.StatusCode))
		switch text := googleErrorText(re.Body); {
		case text != "":
			msg += ": " + googleText(text)
		case re.ErrorCode != "":
			msg += ": " + googleText(strings.TrimSuffix(re.ErrorCode+": "+re.ErrorDescription, ": "))
		default:
			msg += serverLine(string(re.Body))
		}
		return &lineError{msg: msg, err: err}
	}
	// The security token service and the impersonation of a service
	// account answer a refusal as "oauth2/google: status code N: BODY".
	if rest, ok := strings.CutPrefix(err.Error(), "oauth2/google: status code "); ok {
		code, body, _ := strings.Cut(rest, ": ")
		if n, cerr := strconv.Atoi(code); cerr == nil {
			msg := fmt.Sprintf("getting an access token with %s: Google answered %d %s", where, n, http.StatusText(n))
			if text := googleErrorText([]byte(body)); text != "" {
				msg += ": " + googleText(text)
			} else {
				msg += serverLine(body)
			}
			return &lineError{msg: msg, err: err}
		}
	}
	var ue *url.Error
	switch {
	case errors.As(err, &ue) && httpx.IsTimeout(err):
		return &lineError{msg: fmt.Sprintf("getting an access token with %s: %s gave no answer in time", where, printable.String(ue.URL)), err: err}
	case errors.As(err, &ue) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded):
		return &lineError{msg: fmt.Sprintf("getting an access token with %s: cannot reach %s: %s", where, printable.String(ue.URL), lastWords(err)), err: err}
	}
	return &lineError{msg: fmt.Sprintf("getting an access token with %s: %s", where, displayLine(err.Error())), err: err}
}

// iamError makes a failed generateIdToken request one line: the status
// and Google's own error text, or why nothing answered.
func iamError(endpoint, target string, timeout time.Duration, err error) error {
	var se *httpx.StatusError
	switch {
	case errors.As(err, &se):
		msg := fmt.Sprintf("Google's IAM Credentials API at %s answered %d %s", endpoint, se.Status, http.StatusText(se.Status))
		if text := googleErrorText([]byte(se.Body)); text != "" {
			msg += ": " + googleText(text)
		} else {
			msg += serverLine(se.Body)
		}
		if se.Status == http.StatusForbidden {
			msg += " (the credentials need the role " + tokenCreatorRole + " on " + target + ")"
		}
		return &lineError{msg: msg, err: err}
	case httpx.IsTimeout(err):
		return &lineError{msg: fmt.Sprintf("Google's IAM Credentials API at %s gave no answer within %s", endpoint, timeout), err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("asking Google's IAM Credentials API at %s: %w", endpoint, err)
	}
	return &lineError{msg: fmt.Sprintf("cannot reach Google's IAM Credentials API at %s: %s", endpoint, lastWords(err)), err: err}
}

// googleErrorText is the error a Google API or token endpoint put in its
// JSON answer: {"error": "invalid_grant", "error_description": "..."}
// or {"error": {"code": 403, "message": "...", "status": "PERMISSION_DENIED"}};
// "" for any other answer.
func googleErrorText(body []byte) string {
	var v struct {
		Error json.RawMessage `json:"error"`
		Desc  string          `json:"error_description"`
	}
	if json.Unmarshal(body, &v) != nil || len(v.Error) == 0 {
		return ""
	}
	var code string
	if json.Unmarshal(v.Error, &code) == nil {
		if v.Desc != "" {
			return code + ": " + v.Desc
		}
		return code
	}
	var obj struct {
		Message string `json:"message"`
		Status  string `json:"status"`
	}
	if json.Unmarshal(v.Error, &obj) != nil {
		return ""
	}
	if obj.Status != "" && obj.Message != "" {
		return obj.Status + ": " + obj.Message
	}
	return obj.Status + obj.Message
}

// googleText shows Google's error text in one line: escaped
// (printable.String), cut after 400 bytes, which keeps the longest of
// Google's messages whole, with their links.
func googleText(s string) string {
	const maxLen = 400
	s = strings.TrimSpace(s)
	if len(s) > maxLen {
		return printable.String(strings.ToValidUTF8(s[:maxLen], "")) + "..."
	}
	return printable.String(s)
}

// lineError is a one-line message that still matches what it explains.
type lineError struct {
	msg string
	err error
}

func (e *lineError) Error() string { return e.msg }
func (e *lineError) Unwrap() error { return e.err }
