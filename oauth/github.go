package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gitsign-dev/gitsign/internal/httpx"
	"github.com/gitsign-dev/gitsign/internal/printable"
)

// The variables GitHub Actions sets in a job with `permissions: id-token:
// write`.
const (
	EnvActionsRequestURL   = "ACTIONS_ID_TOKEN_REQUEST_URL"
	EnvActionsRequestToken = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
)

// DefaultAudience is the audience requested from GitHub Actions when no
// client ID is configured; Fulcio's public instance expects it.
const DefaultAudience = "sigstore"

// githubActionsAvailable reports whether both GitHub Actions variables are
// set and not blank.
func githubActionsAvailable(lookupEnv func(string) (string, bool)) bool {
	u, _ := lookupEnv(EnvActionsRequestURL)
	t, _ := lookupEnv(EnvActionsRequestToken)
	return strings.TrimSpace(u) != "" && strings.TrimSpace(t) != ""
}

// githubActionsToken asks the GitHub Actions token service for an ID token
// with audience o.ClientID (DefaultAudience when empty), as the reference
// does. The request token is a bearer secret, so it is sent only over
// https, or plain http to a loopback address. Each attempt is bounded by
// o.Timeout and failed connections and 5xx answers are retried twice.
func githubActionsToken(ctx context.Context, o *Options) (*IDToken, error) {
	if !githubActionsAvailable(o.LookupEnv) {
		return nil, fmt.Errorf("%w: %s and %s must both be set (the workflow job needs `permissions: id-token: write`)",
			ErrNoToken, EnvActionsRequestURL, EnvActionsRequestToken)
	}
	rawURL, _ := o.LookupEnv(EnvActionsRequestURL)
	reqToken, _ := o.LookupEnv(EnvActionsRequestToken)
	reqToken = strings.TrimSpace(reqToken)
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || u.Host == "" || !(u.Scheme == "https" || (u.Scheme == "http" && loopbackHost(u.Hostname()))) {
		return nil, fmt.Errorf("%s must be an https URL (or http on a loopback address), got %s", EnvActionsRequestURL, displayString(rawURL))
	}
	aud := o.ClientID
	if aud == "" {
		aud = DefaultAudience
	}
	q := u.Query()
	q.Set("audience", aud)
	u.RawQuery = q.Encode()

	hc := httpx.New(o.Timeout).For(httpx.GitHubActions)
	done := o.Progress("asking GitHub Actions for an identity token")
	resp, err := hc.Do(ctx, http.MethodGet, u.String(), nil, http.Header{
		"Authorization": {"bearer " + reqToken},
		"Accept":        {"application/json"},
	})
	done(err)
	if err != nil {
		return nil, fmt.Errorf("requesting a token from GitHub Actions: %w", hideSecret(err, reqToken))
	}
	var body struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil {
		return nil, errors.New("the GitHub Actions token service answered something that is not JSON")
	}
	raw := trimToken(body.Value)
	if raw == "" {
		return nil, fmt.Errorf("%w: the GitHub Actions token service answered without a token", ErrNoToken)
	}
	tok, err := ParseUnverified(raw)
	if err != nil {
		return nil, fmt.Errorf("the GitHub Actions token: %w", err)
	}
	if !slices.Contains(tok.Audience, aud) {
		return nil, fmt.Errorf("the GitHub Actions token is for audience %s, not the %s that was asked for", displayString(strings.Join(tok.Audience, ",")), printable.Quote(aud))
	}
	return tok, nil
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// hideSecret replaces secret in an error message.
func hideSecret(err error, secret string) error {
	if secret != "" && strings.Contains(err.Error(), secret) {
		return errors.New(strings.ReplaceAll(err.Error(), secret, "[request token]"))
	}
	return err
}
