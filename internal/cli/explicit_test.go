//go:build unix

package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/internal/config"
)

// explicitIssuer is the issuer of the tokens jwtFor makes and of the
// cached certificate in TestSignExplicitTokenDecides.
const explicitIssuer = "https://issuer.example.test"

// jwtFor is an unverified JWT (Fulcio would verify it) for email from
// explicitIssuer, expiring in 2100.
func jwtFor(t *testing.T, email string) string {
	t.Helper()
	payload, err := json.Marshal(map[string]any{"iss": explicitIssuer, "sub": "id-" + email, "email": email, "exp": 4102444800})
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"ES256"}`)) + "." + enc(payload) + ".c2ln"
}

// TestSignExplicitTokenDecides: the path runSign builds (configuration,
// token source, agent) with alice's credential in the agent. A token given
// in SIGSTORE_ID_TOKEN or GITSIGN_TOKEN_FILE for alice signs with the
// cached credential and asks Fulcio nothing; one for bob goes to Fulcio
// with bob's token and never reaches the log with alice's certificate; one
// that cannot be read is the error, not a reason to sign as alice. The
// token that counts is the one the configured (or automatic) provider
// takes; with the device provider none is explicit, and the cache rules.
func TestSignExplicitTokenDecides(t *testing.T) {
	alice, bob := jwtFor(t, "alice@example.test"), jwtFor(t, "bob@example.test")
	for _, tc := range []struct {
		name      string
		provider  string // GITSIGN_TOKEN_PROVIDER
		env, file string // SIGSTORE_ID_TOKEN; the content of GITSIGN_TOKEN_FILE ("" for none)
		fulcio    string // the token Fulcio must get; "" for no request
		logged    bool   // the log got the upload of a signature by alice's cached key
		err       string
	}{
		{"SIGSTORE_ID_TOKEN for alice", "", alice, "", "", true, "gitsign: error: Rekor at "},
		{"SIGSTORE_ID_TOKEN for bob", "", bob, "", bob, false, "gitsign: error: fulcio refused the certificate request (401): "},
		{"GITSIGN_TOKEN_FILE for alice", "", "", alice + "\n", "", true, "gitsign: error: Rekor at "},
		{"GITSIGN_TOKEN_FILE for bob", "", "", bob + "\n", bob, false, "gitsign: error: fulcio refused the certificate request (401): "},
		{"envvar provider, SIGSTORE_ID_TOKEN for bob", "envvar", bob, alice + "\n", bob, false, "gitsign: error: fulcio refused the certificate request (401): "},
		{"filesystem provider, GITSIGN_TOKEN_FILE for bob", "filesystem", alice, bob + "\n", bob, false, "gitsign: error: fulcio refused the certificate request (401): "},
		{"SIGSTORE_ID_TOKEN before GITSIGN_TOKEN_FILE", "", alice, bob + "\n", "", true, "gitsign: error: Rekor at "},
		// The token is not the configured source: the login's cache rules.
		{"device provider, SIGSTORE_ID_TOKEN for bob", "device", bob, "", "", true, "gitsign: error: Rekor at "},
		{"SIGSTORE_ID_TOKEN unreadable", "", "not-a-jwt", "", "", false, "gitsign: error: getting an identity token: oauth: envvar: reading SIGSTORE_ID_TOKEN: identity token is not a JWT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := signingEnv(t)
			var mu sync.Mutex
			var fulcioGot []string
			fulcio := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				fulcioGot = append(fulcioGot, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
				mu.Unlock()
				http.Error(w, `{"message":"not today"}`, http.StatusUnauthorized)
			}))
			defer fulcio.Close()
			logged := 0
			log := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				logged++
				mu.Unlock()
				http.Error(w, `{"code":400,"message":"refused"}`, http.StatusBadRequest)
			}))
			defer log.Close()

			cfg := config.Default()
			cfg.Fulcio = fulcio.URL
			sock := agentWith(t, cacheKey(cfg), fulcioLike(t, "alice@example.test", explicitIssuer, time.Now().Add(10*time.Minute)))
			t.Setenv("GITSIGN_FULCIO_URL", fulcio.URL)
			t.Setenv("GITSIGN_REKOR_URL", log.URL)
			t.Setenv("GITSIGN_CACHE", "agent")
			t.Setenv("GITSIGN_CREDENTIAL_CACHE", sock)
			t.Setenv("SIGSTORE_ID_TOKEN", tc.env)
			t.Setenv("GITSIGN_TOKEN_PROVIDER", tc.provider)
			if tc.file != "" {
				path := filepath.Join(dir, "oidc-token")
				if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
				t.Setenv("GITSIGN_TOKEN_FILE", path)
			}

			var term, errs, stdout, stderr bytes.Buffer
			withMessages(t, &term, &errs)
			code := run([]string{"--status-fd=2", "-bsau", "KEY"}, streams{in: strings.NewReader("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nm\n"), out: &stdout, err: &stderr})
			if code != 1 || stdout.Len() != 0 {
				t.Errorf("exit %d, stdout %q", code, stdout.String())
			}
			mu.Lock()
			defer mu.Unlock()
			if tc.fulcio == "" && len(fulcioGot) != 0 || tc.fulcio != "" && (len(fulcioGot) != 1 || fulcioGot[0] != tc.fulcio) {
				t.Errorf("Fulcio got %d requests (the right token: %v); want %v", len(fulcioGot), len(fulcioGot) == 1 && fulcioGot[0] == tc.fulcio, tc.fulcio != "")
			}
			if (logged != 0) != tc.logged {
				t.Errorf("the log got %d uploads; want an upload signed with alice's cached key: %v", logged, tc.logged)
			}
			if got := errs.String(); !strings.HasPrefix(got, tc.err) || strings.Count(got, "gitsign: error: ") != 1 {
				t.Errorf("errors: %q; want one error starting %q", got, tc.err)
			}
			for _, tok := range []string{alice, bob} {
				if strings.Contains(term.String()+errs.String()+stderr.String(), tok) {
					t.Error("a token was printed")
				}
			}
		})
	}
}
