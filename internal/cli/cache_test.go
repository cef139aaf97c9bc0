//go:build unix

package cli

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/internal/config"
	"github.com/gitsign-dev/gitsign/internal/inspect"
	"github.com/gitsign-dev/gitsign/internal/testcert"
)

func TestCacheKey(t *testing.T) {
	cfg := config.Default()
	cfg.Fulcio, cfg.Issuer, cfg.ClientID = "https://fulcio.example", "https://issuer.example", "client"
	want := cache.Key{Fulcio: "https://fulcio.example", Issuer: "https://issuer.example", ClientID: "client"}
	if got := cacheKey(cfg); got != want {
		t.Errorf("cacheKey = %+v; want %+v", got, want)
	}
}

func TestOpenCacheFollowsTheMode(t *testing.T) {
	dir := shortDir(t)
	sock := filepath.Join(dir, "missing.sock")
	for _, tt := range []struct {
		mode   cache.Mode
		socket string
		where  string // "" for no cache
	}{
		{cache.ModeOff, sock, ""},
		{cache.ModeKeyring, "", "the OS keyring"},
		{cache.ModeAgent, sock, "the agent at " + sock},
		{cache.ModeAuto, sock, "the agent at " + sock}, // a configured socket is used
	} {
		cfg := config.Default()
		cfg.Cache, cfg.CredentialCache = tt.mode, tt.socket
		c := openCache(cfg, func(err error) { t.Errorf("%s: warning on open: %v", tt.mode, err) })
		if c.Active() != (tt.where != "") || tt.where != "" && c.Where() != tt.where {
			t.Errorf("%s: openCache chose %q (active %v); want %q", tt.mode, c.Where(), c.Active(), tt.where)
		}
	}
	// A cache that cannot be used is one warning, then a miss.
	cfg := config.Default()
	cfg.Cache, cfg.CredentialCache = cache.ModeAgent, sock
	var warnings []error
	c := openCache(cfg, func(err error) { warnings = append(warnings, err) })
	for range 2 {
		if _, err := c.Get(cacheKey(cfg)); !errors.Is(err, cache.ErrNotFound) {
			t.Errorf("Get without an agent: %v; want ErrNotFound", err)
		}
	}
	var ue *cache.UnavailableError
	if len(warnings) != 1 || !errors.As(warnings[0], &ue) || !ue.AgentNotRunning() {
		t.Errorf("warnings = %v; want one *cache.UnavailableError for a missing agent", warnings)
	}
}

// `gitsign cache status` and `clear` against a running agent that holds
// one credential.
func TestCacheStatusAndClearWithAgent(t *testing.T) {
	dir := shortDir(t)
	sock := filepath.Join(dir, "agent", "cache.sock")
	l, err := cache.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	store := cache.NewStore(nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&cache.Server{Agent: store}).Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})

	t.Chdir(dir)
	t.Setenv("GIT_CEILING_DIRECTORIES", dir)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GITSIGN_CACHE", "agent")
	t.Setenv("GITSIGN_CREDENTIAL_CACHE", sock)
	cfg := config.Default()
	key := cacheKey(cfg) // the defaults: what status lists is whatever the agent holds
	notAfter := time.Now().Add(10 * time.Minute).Truncate(time.Second)
	if err := store.Put(key, fulcioLike(t, "alice@example.test", "https://issuer.example", notAfter)); err != nil {
		t.Fatal(err)
	}

	var out, errOut strings.Builder
	if code := run([]string{"cache", "status"}, streams{out: &out, err: &errOut}); code != 0 {
		t.Fatalf("cache status: exit %d, stderr %q", code, errOut.String())
	}
	want := `\Acache: the agent at ` + regexp.QuoteMeta(sock) + `
1 credential:
  identity  alice@example.test
  issuer    https://issuer\.example
  fulcio    ` + regexp.QuoteMeta(key.Fulcio) + `
  client id ` + regexp.QuoteMeta(key.ClientID) + `
  serial    42
  expires   \S+ \(in \S+; handed out until 2m0s before\)
\z`
	if !regexp.MustCompile(want).MatchString(out.String()) || errOut.Len() != 0 {
		t.Errorf("cache status printed\n%s\nstderr %q; want\n%s", out.String(), errOut.String(), want)
	}

	out.Reset()
	if code := run([]string{"cache", "status", "--json"}, streams{out: &out, err: &errOut}); code != 0 {
		t.Fatalf("cache status --json: exit %d, stderr %q", code, errOut.String())
	}
	var doc cacheStatus
	if err := json.Unmarshal([]byte(out.String()), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(doc.Credentials) != 1 {
		t.Fatalf("cache status --json: %d credentials, want 1\n%s", len(doc.Credentials), out.String())
	}
	cred := cachedCredential{
		Signer:   inspect.Signer{Identity: "alice@example.test", IdentityType: inspect.Email, Issuer: "https://issuer.example"},
		Fulcio:   key.Fulcio,
		ClientID: key.ClientID,
		Certificate: inspect.Certificate{Fingerprint: doc.Credentials[0].Certificate.Fingerprint, Serial: "2a",
			NotBefore: doc.Credentials[0].Certificate.NotBefore, NotAfter: notAfter.UTC()},
		UsableUntil: notAfter.Add(-cache.ExpiryMargin).UTC(),
	}
	if doc.Schema != 1 || doc.Mode != cache.ModeAgent || doc.Cache != "agent" || doc.Socket != sock || !doc.Reachable ||
		doc.Credentials[0] != cred || len(cred.Certificate.Fingerprint) != 40 {
		t.Errorf("cache status --json:\n%s\nwant one credential %+v", out.String(), cred)
	}
	checkAgainstSchema(t, "cache-status", out.String())

	out.Reset()
	if code := run([]string{"cache", "clear"}, streams{out: &out, err: &errOut}); code != 0 {
		t.Fatalf("cache clear: exit %d, stderr %q", code, errOut.String())
	}
	if got := out.String(); got != "cleared the agent at "+sock+"\n" || store.Len() != 0 {
		t.Errorf("cache clear printed %q and left %d entries; want the agent cleared", got, store.Len())
	}
	out.Reset()
	if code := run([]string{"cache", "status"}, streams{out: &out, err: &errOut}); code != 0 || !strings.HasSuffix(out.String(), "\nno credentials cached\n") {
		t.Errorf("cache status after clear: exit %d, %q", code, out.String())
	}
}

// shortDir is a temporary directory with a short path: unix socket paths
// are limited to about 100 bytes.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "gsc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// selfSigned is a credential whose certificate names email, valid until
// notAfter.
func selfSigned(t *testing.T, email string, notAfter time.Time) *cache.Credential {
	t.Helper()
	return fulcioLike(t, email, "", notAfter)
}

// fulcioLike is a credential whose certificate names email and, as Fulcio
// does, the OIDC issuer (unless empty), valid until notAfter.
func fulcioLike(t *testing.T, email, issuer string, notAfter time.Time) *cache.Credential {
	t.Helper()
	cert, key := testcert.New(t, testcert.Options{Serial: 42, Emails: []string{email}, Issuer: issuer, NotAfter: notAfter})
	return &cache.Credential{Key: key, Chain: []*x509.Certificate{cert}}
}
