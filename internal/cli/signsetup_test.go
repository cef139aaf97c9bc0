//go:build unix

package cli

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/gitsign"
	"github.com/gitsign-dev/gitsign/internal/config"
	"github.com/gitsign-dev/gitsign/oauth"
)

// recordSteps is a signFeedback that records the steps announced and the
// warnings given.
func recordSteps(steps *[]string, warnings *[]error) signFeedback {
	return signFeedback{
		step: func(what string) func(error) {
			*steps = append(*steps, what)
			return func(error) {}
		},
		warn: func(err error) { *warnings = append(*warnings, err) },
	}
}

// TestSignerOptions: each setting reaches its option; the committer is
// required only with gitsign.matchCommitter; the cache key is cacheKey's.
func TestSignerOptions(t *testing.T) {
	cfg := config.Default()
	cfg.Fulcio, cfg.Rekor, cfg.RekorVersion = "https://fulcio.example.test", "https://rekor.example.test", 2
	cfg.TimestampURL, cfg.Timeout = "https://tsa.example.test/api/v1/timestamp", 7*time.Second
	cfg.Issuer, cfg.ClientID = "https://issuer.example.test", "client"
	cfg.CommitterName, cfg.CommitterEmail = "Alice", "alice@example.test"
	o := signerOptions(cfg, signFeedback{})
	if o.Fulcio != cfg.Fulcio || o.Rekor != cfg.Rekor || o.RekorVersion != 2 || o.TimestampAuthority != cfg.TimestampURL ||
		o.Timeout != 7*time.Second || o.Mode != gitsign.Offline || o.Committer != nil || o.CacheKey != cacheKey(cfg) ||
		o.Tokens == nil || o.Cache == nil {
		t.Errorf("signerOptions = %+v", o)
	}
	if _, err := gitsign.New(o); err != nil {
		t.Errorf("New: %v", err)
	}

	cfg.RekorMode, cfg.MatchCommitter = gitsign.Online, true
	o = signerOptions(cfg, signFeedback{})
	if o.Mode != gitsign.Online || o.Committer == nil || *o.Committer != (gitsign.Committer{Name: "Alice", Email: "alice@example.test"}) {
		t.Errorf("online, matchCommitter: Mode %v, Committer %+v", o.Mode, o.Committer)
	}
	if _, err := gitsign.New(o); !errors.Is(err, gitsign.ErrOnlineNeedsRekorV1) {
		t.Errorf("online with Rekor v2: New = %v", err)
	}
}

// TestConfigTokens: the token source reads the client secret file only
// when asked for a token, says which file failed, and words oauth's
// errors as "getting an identity token".
func TestConfigTokens(t *testing.T) {
	cfg := config.Default()
	cfg.TokenProvider = oauth.ProviderEnvVar
	t.Setenv(oauth.EnvIDToken, unexpiredToken)
	ts := &configTokens{cfg: cfg}
	tok, err := ts.Token(context.Background())
	if err != nil || tok.Email != "a@example.test" {
		t.Fatalf("Token = %v, %v", tok, err)
	}

	cfg.ClientSecretFile = filepath.Join(t.TempDir(), "missing")
	if _, err := ts.Token(context.Background()); err == nil || !errors.Is(err, errClientSecretFile) {
		t.Errorf("missing secret file: %v", err)
	}
	if err := os.WriteFile(cfg.ClientSecretFile, []byte(" s3cret \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if secret, err := clientSecret(cfg.ClientSecretFile); err != nil || secret != "s3cret" {
		t.Errorf("clientSecret = %q, %v", secret, err)
	}

	t.Setenv(oauth.EnvIDToken, "not-a-jwt")
	var se *oauth.SourceError
	if _, err := ts.Token(context.Background()); !errors.As(err, &se) || !strings.HasPrefix(err.Error(), "getting an identity token: ") {
		t.Errorf("bad token: %v", err)
	}
}

// TestAnnouncedCache: the configured cache is opened on first use; each
// use of a cache is a progress step, none when caching is off; a missing
// agent is one warning and a miss; a running agent keeps what is put.
func TestAnnouncedCache(t *testing.T) {
	dir := shortDir(t)
	cred := selfSigned(t, "alice@example.test", time.Now().Add(10*time.Minute))
	cfg := config.Default()
	key := cacheKey(cfg)

	var steps []string
	var warnings []error
	cfg.Cache = cache.ModeOff
	c := &announcedCache{cfg: cfg, fb: recordSteps(&steps, &warnings)}
	if got, err := c.Get(key); got != nil || !errors.Is(err, cache.ErrNotFound) || c.Put(key, cred) != nil || len(steps)+len(warnings) != 0 {
		t.Errorf("cache off: Get = %v, %v; steps %q, warnings %v", got, err, steps, warnings)
	}

	missing := filepath.Join(dir, "missing.sock")
	cfg = config.Default()
	cfg.Cache, cfg.CredentialCache = cache.ModeAgent, missing
	c = &announcedCache{cfg: cfg, fb: recordSteps(&steps, &warnings)}
	if c.s != nil {
		t.Error("the cache was opened before it was used")
	}
	got, err := c.Get(key)
	if got != nil || !errors.Is(err, cache.ErrNotFound) || c.Put(key, cred) != nil {
		t.Errorf("missing agent: Get = %v, %v", got, err)
	}
	want := []string{"asking the agent at " + missing + " for a credential", "storing the credential in the agent at " + missing}
	var ue *cache.UnavailableError
	if !slices.Equal(steps, want) || len(warnings) != 1 || !errors.As(warnings[0], &ue) {
		t.Errorf("missing agent: steps %q, warnings %v", steps, warnings)
	}

	sock := filepath.Join(dir, "agent.sock")
	l, err := cache.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&cache.Server{Agent: cache.NewStore(nil)}).Serve(ctx, l) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	steps, warnings = nil, nil
	cfg.CredentialCache = sock
	c = &announcedCache{cfg: cfg, fb: recordSteps(&steps, &warnings)}
	if err := c.Put(key, cred); err != nil {
		t.Fatal(err)
	}
	got, err = c.Get(key)
	if err != nil || got == nil || !got.Leaf().Equal(cred.Leaf()) {
		t.Errorf("running agent: Get = %v, %v; want what was put", got, err)
	}
	want = []string{"storing the credential in the agent at " + sock, "asking the agent at " + sock + " for a credential"}
	if !slices.Equal(steps, want) || len(warnings) != 0 {
		t.Errorf("running agent: steps %q, warnings %v", steps, warnings)
	}
}

// TestSignCachedCredential: with a credential in the agent, gitsign signs
// with it and logs in nowhere (no token is set); a log that refuses the
// upload fails the signature with one error line, nothing on standard
// output and no SIG_CREATED.
func TestSignCachedCredential(t *testing.T) {
	signingEnv(t)
	t.Setenv("SIGSTORE_ID_TOKEN", "")
	var hits atomic.Int32
	log := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, `{"code":400,"message":"refused"}`, http.StatusBadRequest)
	}))
	defer log.Close()
	sock := agentWith(t, cacheKey(config.Default()), selfSigned(t, "a@example.test", time.Now().Add(10*time.Minute)))
	t.Setenv("GITSIGN_REKOR_URL", log.URL)
	t.Setenv("GITSIGN_CACHE", "agent")
	t.Setenv("GITSIGN_CREDENTIAL_CACHE", sock)

	var term, errs, stdout, stderr bytes.Buffer
	withMessages(t, &term, &errs)
	code := run([]string{"--status-fd=2", "-bsau", "KEY"}, streams{in: strings.NewReader("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nm\n"), out: &stdout, err: &stderr})
	if code != 1 || stdout.Len() != 0 || strings.Contains(stderr.String(), "SIG_CREATED") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
	want := "gitsign: asking the agent at " + sock + " for a credential... done\n" +
		"gitsign: recording the signature in the transparency log... failed\n"
	if term.String() != want {
		t.Errorf("terminal:\n%s\nwant:\n%s", term.String(), want)
	}
	if got := errs.String(); got != "gitsign: error: Rekor at "+log.URL+"/api/v1/log/entries answered 400 Bad Request: refused\n" {
		t.Errorf("errors: %q", got)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("the log got %d requests, want 1 (a 400 is not retried)", n)
	}
}

// agentWith runs a credential cache agent, until the test ends, that
// holds cred under key, and returns its socket.
func agentWith(t *testing.T, key cache.Key, cred *cache.Credential) string {
	t.Helper()
	sock := filepath.Join(shortDir(t), "agent.sock")
	l, err := cache.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	store := cache.NewStore(nil)
	if err := store.Put(key, cred); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&cache.Server{Agent: store}).Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return sock
}
