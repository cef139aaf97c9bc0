package gitsign

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/gitsign-dev/gitsign/internal/config"
	"github.com/gitsign-dev/gitsign/internal/fulcio"
	"github.com/gitsign-dev/gitsign/internal/httpx"
	"github.com/gitsign-dev/gitsign/oauth"
)

// Login gets an OIDC identity token from the configured source, makes a
// fresh ephemeral P-256 key and asks Fulcio for a certificate binding the
// key to the token's identity. term receives interactive text (the login
// URL); it must not be standard output.
func Login(ctx context.Context, cfg *config.Config, hc *httpx.Client, term io.Writer) (*Identity, *oauth.IDToken, error) {
	secret, err := clientSecret(cfg.ClientSecretFile)
	if err != nil {
		return nil, nil, err
	}
	tok, err := oauth.Get(ctx, oauth.Options{
		Provider:     cfg.TokenProvider,
		Issuer:       cfg.Issuer,
		ClientID:     cfg.ClientID,
		ClientSecret: secret,
		RedirectURL:  cfg.RedirectURL,
		ConnectorID:  cfg.ConnectorID,
		TokenFile:    cfg.TokenFile,
		URLOpener:    cfg.URLOpener,
		Timeout:      cfg.Timeout,
		Terminal:     term,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("getting an identity token: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating a key: %w", err)
	}
	fc := &fulcio.Client{URL: cfg.Fulcio, HTTP: hc}
	chain, err := fc.SigningCert(ctx, tok.Raw, tok.Subject, key)
	if err != nil {
		return nil, nil, err
	}
	if tok.Email != "" && !slices.Contains(chain[0].EmailAddresses, tok.Email) {
		return nil, nil, fmt.Errorf("fulcio issued a certificate for %v, not for the token's %s", chain[0].EmailAddresses, tok.Email)
	}
	return &Identity{Key: key, Chain: chain}, tok, nil
}

func clientSecret(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the OIDC client secret file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
