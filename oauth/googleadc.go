package oauth

// Application Default Credentials: the access token google-impersonate
// is authorized by, found where Google's libraries look for it.

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

// cloudPlatformScope is the scope the access token of Application
// Default Credentials is asked for, as Google's impersonate library asks.
const cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

// maxCredentialsFile bounds the credentials file read; service account
// keys, the largest kind, are about 2 KiB.
const maxCredentialsFile = 64 << 10

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
