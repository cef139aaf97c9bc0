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

// Feedback is how signing talks to the person. This package prints
// nothing itself: the caller (the command line) decides how each thing is
// shown, and where. The zero value shows nothing.
type Feedback struct {
	// Terminal receives interactive text: the login URL, the device
	// code, what a browser prints. It must not be standard output.
	Terminal io.Writer
	// Progress is told of each step that may take a while (a login, a
	// request to Fulcio, the timestamp authority or the transparency
	// log, the credential cache).
	Progress Progress
	// Warn is told why the credential cache could not be used (a
	// *cache.UnavailableError); the login goes on without it.
	Warn func(error)
	// DeviceChosen is told why the automatic choice of token source took
	// the device flow (no browser can reach the person); see
	// oauth.Options.DeviceChosen.
	DeviceChosen func(why string)
}

// Progress is told when a step that may take a while starts; the function
// it returns is called with the step's outcome when it ends.
type Progress func(step string) (done func(err error))

// start announces step; a nil Progress announces nothing.
func (p Progress) start(step string) func(error) {
	if p == nil {
		return func(error) {}
	}
	return p(step)
}

// Login returns an identity to sign with. It first asks the credential
// cache (cfg.Cache: the agent or the OS keyring) for one issued by the same
// Fulcio to the same issuer and client; on a hit it returns it with a nil
// token. Otherwise it gets an OIDC identity token from the configured
// source, makes a fresh ephemeral P-256 key, asks Fulcio for a certificate
// binding the key to the token's identity, and stores the result in the
// cache. A cache that cannot be used is reported to fb.Warn, never a
// failed login.
func Login(ctx context.Context, cfg *config.Config, hc *httpx.Client, fb Feedback) (*Identity, *oauth.IDToken, error) {
	creds := OpenCache(cfg, fb.Warn)
	key := CacheKey(cfg)
	if creds.Active() {
		done := fb.Progress.start("asking " + creds.Where() + " for a credential")
		c := creds.Get(key)
		done(nil)
		if c != nil {
			if k, ok := c.Key.(*ecdsa.PrivateKey); ok {
				return &Identity{Key: k, Chain: c.Chain}, nil, nil
			}
		}
	}
	id, tok, err := login(ctx, cfg, hc, fb)
	if err != nil {
		return nil, nil, err
	}
	if creds.Active() {
		done := fb.Progress.start("storing the credential in " + creds.Where())
		creds.Put(key, &cache.Credential{Key: id.Key, Chain: id.Chain})
		done(nil)
	}
	return id, tok, nil
}

// CacheKey is what cached credentials are filed under: the Sigstore
// instance and OIDC client, so every repository using them shares one.
func CacheKey(cfg *config.Config) cache.Key {
	return cache.Key{Fulcio: cfg.Fulcio, Issuer: cfg.Issuer, ClientID: cfg.ClientID}
}

// OpenCache opens the credential cache cfg chooses. warn, when not nil, is
// told why the cache could not be used (a *cache.UnavailableError).
func OpenCache(cfg *config.Config, warn func(error)) *cache.Session {
	mode := cache.ModeAuto
	switch cfg.Cache {
	case config.CacheAgent:
		mode = cache.ModeAgent
	case config.CacheKeyring:
		mode = cache.ModeKeyring
	case config.CacheOff:
		mode = cache.ModeOff
	}
	return cache.Open(cache.Settings{Mode: mode, Socket: cfg.CredentialCache, Warn: warn})
}

// login runs the OIDC login and gets a Fulcio certificate for a new key.
func login(ctx context.Context, cfg *config.Config, hc *httpx.Client, fb Feedback) (*Identity, *oauth.IDToken, error) {
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
		Terminal:     fb.Terminal,
		Progress:     fb.Progress,
		DeviceChosen: fb.DeviceChosen,

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
	done := fb.Progress.start("getting a certificate from Fulcio")
	chain, err := fc.SigningCert(ctx, tok.Raw, tok.Subject, key)
	done(err)
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
