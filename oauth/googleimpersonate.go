package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

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

// defaultGoogleTimeout bounds each attempt of google-impersonate's
// requests when Options.Timeout is zero.
const defaultGoogleTimeout = 10 * time.Second

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
