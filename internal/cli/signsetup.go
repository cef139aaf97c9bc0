package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/gitsign"
	"github.com/gitsign-dev/gitsign/internal/config"
	"github.com/gitsign-dev/gitsign/oauth"
)

// signFeedback is how signing talks to the person: the notices of a
// login (the URL to open, the device code), the terminal for what a
// browser prints, progress steps, and cache warnings.
type signFeedback struct {
	notify   func(oauth.Notice)
	terminal io.Writer
	step     func(what string) (done func(error))
	warn     func(error)
	// noTerminal: nobody reads the notices as they come (see
	// oauth.Options.NoTerminal).
	noTerminal bool
}

// signerOptions turns the configuration into the signing library's
// options: the services, the token source the configuration chooses and
// the credential cache. New (gitsign.New) checks the settings that depend
// on each other.
func signerOptions(cfg *config.Config, fb signFeedback) gitsign.Options {
	o := gitsign.Options{
		Fulcio:             cfg.Fulcio,
		Rekor:              cfg.Rekor,
		RekorVersion:       cfg.RekorVersion,
		TimestampAuthority: cfg.TimestampURL,
		Mode:               cfg.RekorMode,
		Timeout:            cfg.Timeout,
		Tokens:             &configTokens{cfg: cfg, fb: fb},
		Cache:              &announcedCache{cfg: cfg, fb: fb},
		CacheKey:           cacheKey(cfg),
		Progress:           fb.step,
	}
	if cfg.MatchCommitter {
		o.Committer = &gitsign.Committer{Name: cfg.CommitterName, Email: cfg.CommitterEmail}
	}
	return o
}

// configTokens is the token source the configuration chooses
// (gitsign.tokenProvider and the settings of each source). It is a
// gitsign.ExplicitTokenSource: a token in SIGSTORE_ID_TOKEN or the token
// file, when that is the source, decides which cached credential may be
// used (docs/login.md: "One login for many commits").
type configTokens struct {
	cfg *config.Config
	fb  signFeedback
}

var _ gitsign.ExplicitTokenSource = (*configTokens)(nil)

// ExplicitIdentity says who the token in SIGSTORE_ID_TOKEN or the token
// file names, when the configuration takes the token from there (nil
// otherwise). It reads the token without verifying it, and never logs in.
func (t *configTokens) ExplicitIdentity() (*oauth.Identity, error) {
	return oauth.ExplicitIdentity(oauth.Options{Provider: t.cfg.TokenProvider, TokenFile: t.cfg.TokenFile})
}

// Token gets an identity token. The client secret file is read only
// when a token is needed: a cached credential needs none.
func (t *configTokens) Token(ctx context.Context) (*oauth.IDToken, error) {
	cfg := t.cfg
	secret, err := clientSecret(cfg.ClientSecretFile)
	if err != nil {
		return nil, err
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
		Notify:       t.fb.notify,
		Terminal:     t.fb.terminal,
		Progress:     t.fb.step,
		NoTerminal:   t.fb.noTerminal,

		DisableAutoclose: !cfg.Autoclose,
		AutocloseTimeout: time.Duration(cfg.AutocloseTimeout) * time.Second,
	})
	var none *oauth.NoLoginError
	if errors.As(err, &none) {
		return nil, err // says "no identity token" itself
	}
	if err != nil {
		return nil, fmt.Errorf("getting an identity token: %w", err)
	}
	return tok, nil
}

// errClientSecretFile is a client secret file that cannot be read: the
// setup's mistake (exit 2), like an invalid setting.
var errClientSecretFile = errors.New("cannot read the OIDC client secret file")

// clientSecret reads the OIDC client secret file, when one is set.
func clientSecret(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errClientSecretFile, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// announcedCache is the credential cache the configuration chooses,
// opened when the signer first asks it (so that a request that cannot be
// signed fails before any cache is tried), with each use announced as a
// progress step. The cache session warns about a cache it cannot use
// (fb.warn), once, and then acts as an empty cache.
type announcedCache struct {
	cfg  *config.Config
	fb   signFeedback
	once sync.Once
	s    *cache.Session
}

func (c *announcedCache) session() *cache.Session {
	c.once.Do(func() { c.s = openCache(c.cfg, c.fb.warn) })
	return c.s
}

// Get asks the cache for a credential.
func (c *announcedCache) Get(k cache.Key) (*cache.Credential, error) {
	s := c.session()
	if !s.Active() {
		return nil, cache.ErrNotFound
	}
	done := c.fb.step("asking " + s.Where() + " for a credential")
	defer done(nil)
	return s.Get(k)
}

// Put gives the cache a new credential.
func (c *announcedCache) Put(k cache.Key, cred *cache.Credential) error {
	s := c.session()
	if !s.Active() {
		return nil
	}
	done := c.fb.step("storing the credential in " + s.Where())
	defer done(nil)
	return s.Put(k, cred)
}
