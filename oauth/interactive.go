package oauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// ErrNoPKCE means the issuer's discovery document does not advertise PKCE
// S256, so the flow refuses to run (an intercepted code would be usable).
var ErrNoPKCE = errors.New("issuer does not advertise PKCE S256 in code_challenge_methods_supported")

// ErrNonceMismatch means the ID token's nonce is not the one this flow
// sent: the token may be replayed from another login.
var ErrNonceMismatch = errors.New("ID token nonce does not match the login request")

// interactiveToken runs the authorization-code flow with PKCE S256 in the
// user's browser and returns the verified ID token.
func interactiveToken(ctx context.Context, o *Options) (*IDToken, error) {
	is, err := discover(ctx, o)
	if err != nil {
		return nil, err
	}
	if err := is.requireS256(); err != nil {
		return nil, err
	}
	// The URL is handed to a browser launcher; never let a discovery
	// document make it open a file: or custom-scheme URL.
	if authEndpoint := is.p.Endpoint().AuthURL; !webURL(authEndpoint) {
		return nil, fmt.Errorf("issuer %s: authorization endpoint %s is not an http(s) URL", o.Issuer, displayString(authEndpoint))
	}

	cb, err := listenCallback(o.RedirectURL)
	if err != nil {
		return nil, err
	}
	defer cb.close()

	state, err := randomString()
	if err != nil {
		return nil, err
	}
	nonce, err := randomString()
	if err != nil {
		return nil, err
	}
	verifier := oauth2.GenerateVerifier()
	cfg := &oauth2.Config{
		ClientID:     o.ClientID,
		ClientSecret: o.ClientSecret,
		Endpoint:     is.p.Endpoint(),
		RedirectURL:  cb.redirect,
		Scopes:       []string{oidc.ScopeOpenID, "email"},
	}
	params := []oauth2.AuthCodeOption{
		oauth2.AccessTypeOnline,
		oidc.Nonce(nonce),
		oauth2.S256ChallengeOption(verifier),
	}
	if o.ConnectorID != "" {
		params = append(params, oauth2.SetAuthURLParam("connector_id", o.ConnectorID))
	}
	authURL := cfg.AuthCodeURL(state, params...)

	cb.serve(callbackCheck{state: state, issuer: o.Issuer, issRequired: is.meta.ISSParameter}, o.autoclose())
	o.notify(BrowserOpening{URL: authURL})
	opened, detach := openURL(o.URLOpener, authURL, o.Terminal)
	defer detach()

	done := o.Progress("waiting for the browser login")
	code, err := cb.wait(ctx, o.LoginTimeout, opened, o.notify)
	done(err)
	if err != nil {
		cb.finish(err)
		return nil, err
	}
	tok, err := redeem(is, cfg, o.ClientID, code, verifier, nonce)
	cb.finish(err)
	return tok, err
}

// redeem exchanges the code (with the PKCE verifier) and verifies the ID
// token: signature against the issuer's keys, issuer, audience = clientID,
// expiry, nonce, and at_hash when present.
func redeem(is *issuer, cfg *oauth2.Config, clientID, code, verifier, nonce string) (*IDToken, error) {
	xctx := context.WithValue(is.ctx, oauth2.HTTPClient, is.hc)
	tok, err := cfg.Exchange(xctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("exchanging the authorization code: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return nil, errors.New("the token response has no id_token")
	}
	idt, err := verifyIDToken(is.ctx, is.p, clientID, raw, tok.AccessToken, nonce, true)
	if err != nil {
		return nil, scrub(err, raw)
	}
	return idt, nil
}

// verifyIDToken checks the ID token's signature against the issuer's keys,
// its issuer, audience (clientID) and expiry, then the nonce: it must
// match when requireNonce is set, and otherwise whenever the token carries
// one.
func verifyIDToken(ctx context.Context, p *oidc.Provider, clientID, raw, accessToken, nonce string, requireNonce bool) (*IDToken, error) {
	idt, err := p.VerifierContext(ctx, &oidc.Config{ClientID: clientID}).Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("verifying the ID token: %w", err)
	}
	if (requireNonce || idt.Nonce != "") && subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return nil, ErrNonceMismatch
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(accessToken); err != nil {
			return nil, fmt.Errorf("verifying the ID token's at_hash: %w", err)
		}
	}
	var c claims
	if err := idt.Claims(&c); err != nil {
		return nil, fmt.Errorf("reading ID token claims: %w", err)
	}
	subject := idt.Subject
	if c.Email != "" {
		if !emailVerified(c.EmailVerified) {
			return nil, fmt.Errorf("the issuer has not verified the email %s (email_verified is not true)", displayString(c.Email))
		}
		subject = c.Email
	}
	if subject == "" {
		return nil, missingClaim("sub")
	}
	return &IDToken{Raw: raw, Issuer: idt.Issuer, Subject: subject, Email: c.Email, Expiry: idt.Expiry, Audience: idt.Audience}, nil
}

// scrub guarantees an error never carries the token, whatever a library
// put in its message.
func scrub(err error, raw string) error {
	msg := err.Error()
	for _, part := range append([]string{raw}, strings.Split(raw, ".")...) {
		if len(part) >= 16 && strings.Contains(msg, part) {
			return errors.New("the ID token was rejected (details withheld because they contained the token)")
		}
	}
	return err
}

// randomString returns 128 random bits, base64url-encoded.
func randomString() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
