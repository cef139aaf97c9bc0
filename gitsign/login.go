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
	"time"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/internal/config"
	"github.com/gitsign-dev/gitsign/internal/fulcio"
	"github.com/gitsign-dev/gitsign/internal/httpx"
	"github.com/gitsign-dev/gitsign/oauth"
)

// Login returns an identity to sign with. It first asks the credential
// cache (cfg.Cache: the agent or the OS keyring) for one issued by the same
// Fulcio to the same issuer and client; on a hit it returns it with a nil
// token. Otherwise it gets an OIDC identity token from the configured
// source, makes a fresh ephemeral P-256 key, asks Fulcio for a certificate
// binding the key to the token's identity, and stores the result in the
// cache. A cache that cannot be used costs one warning on term, never a
// failed login. term receives interactive text (the login URL, warnings);
// it must not be standard output.
func Login(ctx context.Context, cfg *config.Config, hc *httpx.Client, term io.Writer) (*Identity, *oauth.IDToken, error) {
	creds := OpenCache(cfg, term)
	key := CacheKey(cfg)
	if c := creds.Get(key); c != nil {
		if k, ok := c.Key.(*ecdsa.PrivateKey); ok {
			return &Identity{Key: k, Chain: c.Chain}, nil, nil
		}
	}
	id, tok, err := login(ctx, cfg, hc, term)
	if err != nil {
		return nil, nil, err
	}
	creds.Put(key, &cache.Credential{Key: id.Key, Chain: id.Chain})
	return id, tok, nil
}

// CacheKey is what cached credentials are filed under: the Sigstore
// instance and OIDC client, so every repository using them shares one.
func CacheKey(cfg *config.Config) cache.Key {
	return cache.Key{Fulcio: cfg.Fulcio, Issuer: cfg.Issuer, ClientID: cfg.ClientID}
}

// OpenCache opens the credential cache cfg chooses; warnings go to term.
func OpenCache(cfg *config.Config, term io.Writer) *cache.Session {
	mode := cache.ModeAuto
	switch cfg.Cache {
	case config.CacheAgent:
		mode = cache.ModeAgent
	case config.CacheKeyring:
		mode = cache.ModeKeyring
	case config.CacheOff:
		mode = cache.ModeOff
	}
	return cache.Open(cache.Settings{Mode: mode, Socket: cfg.CredentialCache, Warn: term})
}

// login runs the OIDC login and gets a Fulcio certificate for a new key.
func login(ctx context.Context, cfg *config.Config, hc *httpx.Client, term io.Writer) (*Identity, *oauth.IDToken, error) {
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

		DisableAutoclose: !cfg.Autoclose,
		AutocloseTimeout: time.Duration(cfg.AutocloseTimeout) * time.Second,
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
