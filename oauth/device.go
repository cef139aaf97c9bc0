package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// ErrNoDeviceFlow means the issuer's discovery document has no
// device_authorization_endpoint.
var ErrNoDeviceFlow = errors.New("issuer does not offer the device flow (no device_authorization_endpoint in its discovery document)")

// ErrDeviceCodeExpired means nobody approved the device code before it
// expired.
var ErrDeviceCodeExpired = errors.New("the sign-in code expired before the sign-in was approved")

// ErrAccessDenied means the person refused the sign-in at the issuer.
var ErrAccessDenied = errors.New("the sign-in was refused at the issuer (access_denied)")

const deviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

// The device flow's clock, in seconds of deviceUnit (tests shorten it).
// The issuer's interval and expires_in are bounded so that a broken
// issuer cannot make gitsign poll in a tight loop or wait for hours.
var deviceUnit = time.Second

const (
	deviceDefaultInterval = 5    // RFC 8628 section 3.2
	deviceSlowDownStep    = 5    // RFC 8628 section 3.5
	deviceMaxInterval     = 60   // however slow the issuer asks us to be
	deviceDefaultExpiry   = 600  // when the issuer gives no expires_in
	deviceMaxExpiry       = 1800 // however long the issuer says the code lives
	deviceMaxPollFailures = 3    // consecutive network or 5xx failures
)

// deviceAuth is the device authorization response (RFC 8628 section 3.2).
type deviceAuth struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURL         string `json:"verification_url"` // Google's name
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// oauthError is an OAuth 2.0 error response body.
type oauthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *oauthError) Error() string {
	if e.Description == "" {
		return displayString(e.Code)
	}
	return displayString(e.Code) + ": " + displayString(e.Description)
}

// deviceToken runs the device authorization grant (RFC 8628): it shows a
// code and a URL on the terminal, polls the token endpoint until the person
// has approved the code on any device, and returns the verified ID token.
// A PKCE S256 challenge is sent when the issuer supports it, and a nonce,
// which must come back whenever the issuer puts one in the ID token (RFC
// 8628 defines none, and issuers such as oidc-provider and Dex leave it
// out; the token comes straight from the token endpoint in exchange for a
// device code only this process holds).
func deviceToken(ctx context.Context, o *Options) (*IDToken, error) {
	is, err := discover(ctx, o)
	if err != nil {
		return nil, err
	}
	if is.meta.DeviceEndpoint == "" {
		return nil, fmt.Errorf("%s: %w", is.url, ErrNoDeviceFlow)
	}
	if !webURL(is.meta.DeviceEndpoint) {
		return nil, fmt.Errorf("issuer %s: device endpoint %s is not an http(s) URL", is.url, displayString(is.meta.DeviceEndpoint))
	}
	nonce, err := randomString()
	if err != nil {
		return nil, err
	}
	form := url.Values{"client_id": {o.ClientID}, "scope": {"openid email"}, "nonce": {nonce}}
	verifier := ""
	if is.requireS256() == nil {
		verifier = oauth2.GenerateVerifier()
		form.Set("code_challenge", oauth2.S256ChallengeFromVerifier(verifier))
		form.Set("code_challenge_method", "S256")
	}
	if o.ClientSecret != "" {
		form.Set("client_secret", o.ClientSecret)
	}
	var da deviceAuth
	status, body, err := postForm(ctx, is.hc, is.meta.DeviceEndpoint, form)
	if err == nil && status != http.StatusOK {
		err = answerError(status, body)
	}
	if err == nil && json.Unmarshal(body, &da) != nil {
		err = errors.New("the answer is not JSON")
	}
	if err != nil {
		return nil, fmt.Errorf("requesting a sign-in code from %s: %w", is.url, err)
	}
	if da.VerificationURI == "" {
		da.VerificationURI = da.VerificationURL
	}
	switch {
	case da.DeviceCode == "" || da.UserCode == "":
		return nil, fmt.Errorf("issuer %s: the device authorization response has no device_code or user_code", is.url)
	case !webURL(da.VerificationURI):
		return nil, fmt.Errorf("issuer %s: verification URI %s is not an http(s) URL", is.url, displayString(da.VerificationURI))
	}
	expiresIn := da.ExpiresIn
	if expiresIn <= 0 {
		expiresIn = deviceDefaultExpiry
	}
	expiresIn = min(expiresIn, deviceMaxExpiry)
	interval := da.Interval
	if interval <= 0 {
		interval = deviceDefaultInterval
	}
	interval = min(interval, deviceMaxInterval)
	lifetime := time.Duration(expiresIn) * deviceUnit

	dc := DeviceCode{VerificationURI: da.VerificationURI, UserCode: da.UserCode, ExpiresIn: time.Duration(expiresIn) * time.Second}
	if da.VerificationURIComplete != "" && webURL(da.VerificationURIComplete) {
		dc.VerificationURIComplete = da.VerificationURIComplete
	}
	o.notify(dc)

	poll := url.Values{"grant_type": {deviceGrantType}, "device_code": {da.DeviceCode}, "client_id": {o.ClientID}}
	if verifier != "" {
		poll.Set("code_verifier", verifier)
	}
	if o.ClientSecret != "" {
		poll.Set("client_secret", o.ClientSecret)
	}
	done := o.Progress("waiting for the sign-in with the code")
	tok, err := func() (*IDToken, error) {
		expired := time.NewTimer(lifetime)
		defer expired.Stop()
		failures := 0
		for {
			wait := time.NewTimer(time.Duration(interval) * deviceUnit)
			select {
			case <-ctx.Done():
				wait.Stop()
				o.notify(Cancelled{Cause: context.Cause(ctx)})
				return nil, fmt.Errorf("waiting for the device sign-in: %w", context.Cause(ctx))
			case <-expired.C:
				wait.Stop()
				return nil, fmt.Errorf("%w (it was valid for %s)", ErrDeviceCodeExpired, time.Duration(expiresIn)*time.Second)
			case <-wait.C:
			}
			var tr struct {
				oauthError
				AccessToken string `json:"access_token"`
				IDToken     string `json:"id_token"`
			}
			status, body, err := postForm(ctx, is.hc, is.p.Endpoint().TokenURL, poll)
			if err == nil && status >= 500 {
				err = answerError(status, body)
			}
			if err != nil {
				if ctx.Err() != nil {
					return nil, fmt.Errorf("waiting for the device sign-in: %w", context.Cause(ctx))
				}
				if failures++; failures >= deviceMaxPollFailures {
					return nil, fmt.Errorf("polling %s for the device sign-in failed %d times in a row: %w", is.url, failures, err)
				}
				continue
			}
			if json.Unmarshal(body, &tr) != nil {
				return nil, fmt.Errorf("polling %s for the device sign-in: %w", is.url, answerError(status, body))
			}
			switch {
			case status == http.StatusOK:
				if tr.IDToken == "" {
					return nil, errors.New("the token response has no id_token")
				}
				idt, err := verifyIDToken(is.ctx, is.p, o.ClientID, tr.IDToken, tr.AccessToken, nonce, false)
				if err != nil {
					return nil, scrub(err, tr.IDToken)
				}
				return idt, nil
			}
			failures = 0
			switch tr.Code {
			case "authorization_pending":
			case "slow_down":
				interval = min(interval+deviceSlowDownStep, deviceMaxInterval)
			case "access_denied":
				return nil, ErrAccessDenied
			case "expired_token":
				return nil, ErrDeviceCodeExpired
			case "":
				return nil, fmt.Errorf("polling %s for the device sign-in: %w", is.url, answerError(status, body))
			default:
				return nil, fmt.Errorf("the issuer refused the device sign-in: %w", &tr.oauthError)
			}
		}
	}()
	done(err)
	return tok, err
}

// postForm posts form and returns the answer's status and body (at most
// maxTokenLen bytes). An error means no answer.
func postForm(ctx context.Context, hc *http.Client, endpoint string, form url.Values) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenLen+1))
	if err != nil {
		return 0, nil, err
	}
	if len(body) > maxTokenLen {
		return 0, nil, fmt.Errorf("the answer from %s is larger than %d bytes", endpoint, maxTokenLen)
	}
	return resp.StatusCode, body, nil
}

// answerError describes a non-200 answer, with its OAuth error if any.
func answerError(status int, body []byte) error {
	var oe oauthError
	if json.Unmarshal(body, &oe) == nil && oe.Code != "" {
		return fmt.Errorf("HTTP %d: %w", status, &oe)
	}
	return fmt.Errorf("HTTP %d %s", status, http.StatusText(status))
}
