package cli

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/internal/certinfo"
	"github.com/gitsign-dev/gitsign/internal/config"
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
	cmd.AddCommand(&cobra.Command{
		Use:   "status",
		Short: "Show what is cached and until when (never the keys)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCacheStatus(cmd, s)
		},
	}, &cobra.Command{
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

func runCacheStatus(cmd *cobra.Command, s streams) error {
	cfg, err := loadConfigWarning(cmd.Context(), s.err)
	if err != nil {
		return err
	}
	c := openCache(cfg, warnTo(s.err))
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
