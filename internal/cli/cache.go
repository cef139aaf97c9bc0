package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/internal/certinfo"
	"github.com/gitsign-dev/gitsign/internal/config"
	"github.com/gitsign-dev/gitsign/internal/inspect"
	"github.com/gitsign-dev/gitsign/internal/printable"
)

// openCache opens the credential cache cfg chooses; warn is told why it
// cannot be used (a *cache.UnavailableError).
func openCache(cfg *config.Config, warn func(error)) *cache.Session {
	return cache.Open(cache.Settings{Mode: cfg.Cache, Socket: cfg.CredentialCache, Warn: warn})
}

// cacheKey is what credentials are filed under for cfg: the Sigstore
// instance and OIDC client, so every repository using them shares one.
func cacheKey(cfg *config.Config) cache.Key {
	return cache.Key{Fulcio: cfg.Fulcio, Issuer: cfg.Issuer, ClientID: cfg.ClientID}
}

// newCacheCommand is `gitsign cache status|clear`.
func newCacheCommand(s streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Show or clear the cached credentials",
		Long: `gitsign caches the key and certificate of a login so that many signatures
need one login: in the gitsign-credential-cache agent (gitsign.cache=auto, the
default, uses it when GITSIGN_CREDENTIAL_CACHE is set or the agent's default
socket exists; gitsign.cache=agent always) or in the OS keyring
(gitsign.cache=keyring). gitsign.cache=off turns caching off.`,
		Args: cobra.NoArgs, // a stray word is an unknown command (errors.go)
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	var asJSON bool
	status := &cobra.Command{
		Use:   "status",
		Short: "Show what is cached and until when (never the keys)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCacheStatus(cmd, s, asJSON)
		},
	}
	status.Flags().BoolVar(&asJSON, "json", false, "print one JSON object: the cache, whether it answered, and each credential's signer and expiry (fields: docs/json.md)")
	cmd.AddCommand(status, &cobra.Command{
		Use:   "clear",
		Short: "Forget the cached credentials, so that the next signature logs in",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCacheClear(cmd, s)
		},
	})
	return cmd
}

// warnTo renders the credential cache's warnings, with their hints, on w
// (for the cache subcommands, which do not log in).
func warnTo(w io.Writer) func(error) {
	return func(err error) {
		fmt.Fprintf(w, "gitsign: warning: %s\n", printable.String(err.Error()))
		for _, h := range hintsOf(err) {
			fmt.Fprintf(w, "gitsign: hint: %s\n", printable.String(h))
		}
	}
}

// cacheWarning words why the cache was not used while signing, and what
// gitsign does instead.
func cacheWarning(err error) string {
	var ke *cache.KeyringError
	if errors.As(err, &ke) {
		return err.Error() + "; logging in without a cache"
	}
	return err.Error() + "; logging in without it"
}

func runCacheStatus(cmd *cobra.Command, s streams, asJSON bool) error {
	cfg, err := loadConfigWarning(cmd.Context(), s.err)
	if err != nil {
		return err
	}
	c := openCache(cfg, warnTo(s.err))
	if asJSON {
		return writeCacheStatus(s.out, cfg, c)
	}
	if !c.Active() {
		fmt.Fprintf(s.out, "cache: none (gitsign.cache=%s)\n", cfg.Cache)
		if cfg.Cache != cache.ModeOff {
			if p, err := cache.DefaultSocketPath(); err == nil {
				fmt.Fprintf(s.out, "no agent at %s: start gitsign-credential-cache, or set gitsign.cache=keyring\n", p)
			}
		}
		return nil
	}
	fmt.Fprintf(s.out, "cache: %s\n", c.Where())
	entries, err := c.List()
	if err != nil {
		return err
	}
	printEntries(s.out, entries, time.Now())
	return nil
}

// cacheStatus is what `gitsign cache status --json` prints (docs/json.md).
type cacheStatus struct {
	Schema int `json:"schema"` // jsonSchema
	// Mode is the gitsign.cache setting.
	Mode cache.Mode `json:"mode"`
	// Cache is what the mode chose: "agent", "keyring" or "none".
	Cache string `json:"cache"`
	// Socket is the agent's socket: the one used, or, with no cache in
	// auto or agent mode, the default one no agent listens on.
	Socket string `json:"socket,omitempty"`
	// Reachable: the cache answered.
	Reachable   bool               `json:"reachable"`
	Credentials []cachedCredential `json:"credentials"`
}

// cachedCredential is one credential the cache would hand out.
type cachedCredential struct {
	Signer      inspect.Signer      `json:"signer"`
	Fulcio      string              `json:"fulcio"`
	ClientID    string              `json:"clientId"`
	Certificate inspect.Certificate `json:"certificate"`
	// UsableUntil is when the cache stops handing it out: ExpiryMargin
	// before the certificate expires.
	UsableUntil time.Time `json:"usableUntil"`
}

// writeCacheStatus prints c's status as JSON. A cache that does not
// answer is "reachable": false and, after the document, the error.
func writeCacheStatus(w io.Writer, cfg *config.Config, c *cache.Session) error {
	doc := cacheStatus{Schema: jsonSchema, Mode: cfg.Cache, Cache: "none", Credentials: []cachedCredential{}}
	socket := cfg.CredentialCache
	if socket == "" {
		socket, _ = cache.DefaultSocketPath()
	}
	var listErr error
	switch {
	case c.Active() && cfg.Cache == cache.ModeKeyring:
		doc.Cache = "keyring"
	case c.Active():
		doc.Cache, doc.Socket = "agent", socket
	case cfg.Cache != cache.ModeOff && cfg.Cache != cache.ModeKeyring:
		doc.Socket = socket
	}
	if c.Active() {
		var entries []cache.Entry
		entries, listErr = c.List()
		doc.Reachable = listErr == nil
		for _, e := range entries {
			doc.Credentials = append(doc.Credentials, credentialOf(e))
		}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if _, err := w.Write(printable.JSON(append(b, '\n'))); err != nil {
		return err
	}
	return listErr
}

func credentialOf(e cache.Entry) cachedCredential {
	signer := inspect.Signer{IdentityType: inspect.IdentityTypeOf(e.Leaf), Issuer: e.Key.Issuer}
	if sum, err := certinfo.Of(e.Leaf); err == nil {
		signer.Identity = sum.Identity
		if sum.Issuer != "" {
			signer.Issuer = sum.Issuer
		}
	}
	return cachedCredential{
		Signer:      signer,
		Fulcio:      e.Key.Fulcio,
		ClientID:    e.Key.ClientID,
		Certificate: inspect.CertificateOf(e.Leaf),
		UsableUntil: e.Leaf.NotAfter.Add(-cache.ExpiryMargin).UTC(),
	}
}

func printEntries(w io.Writer, entries []cache.Entry, now time.Time) {
	switch len(entries) {
	case 0:
		fmt.Fprintln(w, "no credentials cached")
		return
	case 1:
		fmt.Fprintln(w, "1 credential:")
	default:
		fmt.Fprintf(w, "%d credentials:\n", len(entries))
	}
	for _, e := range entries {
		who, issuer := certinfo.Names(e.Leaf)
		if issuer == certinfo.Unknown {
			issuer = e.Key.Issuer
		}
		left := e.Leaf.NotAfter.Sub(now).Round(time.Second)
		fmt.Fprintf(w, "  identity  %s\n  issuer    %s\n  fulcio    %s\n  client id %s\n  serial    %s\n  expires   %s (in %s; handed out until %s before)\n",
			printable.String(who), printable.String(issuer), printable.String(e.Key.Fulcio), printable.String(e.Key.ClientID), e.Leaf.SerialNumber,
			e.Leaf.NotAfter.Local().Format(time.RFC3339), left, cache.ExpiryMargin)
	}
}

func runCacheClear(cmd *cobra.Command, s streams) error {
	cfg, err := loadConfigWarning(cmd.Context(), s.err)
	if err != nil {
		return err
	}
	c := openCache(cfg, warnTo(s.err))
	if !c.Active() {
		fmt.Fprintf(s.out, "cache: none (gitsign.cache=%s); nothing to clear\n", cfg.Cache)
		return nil
	}
	if err := c.Clear(); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "cleared %s\n", c.Where())
	return nil
}
