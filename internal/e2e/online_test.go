//go:build e2e

package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// onlinePublicGoodRoot is a trusted root that cannot vouch for the local
// Fulcio's certificates.
func onlinePublicGoodRoot() string {
	return filepath.Join(repoRoot, "verify", "trusted_root.public-good.json")
}

// onlineRepo is a repository that signs in online mode.
func onlineRepo(t *testing.T, env ...string) *repo {
	t.Helper()
	return newRepo(t, append([]string{"GITSIGN_REKOR_MODE=online", "SIGSTORE_ID_TOKEN=" + token(t)}, env...)...)
}

// onlinePost posts a JSON body to the local Rekor v1 and returns the
// status and answer.
func onlinePost(t *testing.T, path string, body any) (int, []byte) {
	t.Helper()
	j, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Post(stackEnv(t, "GITSIGN_REKOR_URL")+path, "application/json", bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// onlineUploadDecoy logs a hashedrekord v0.0.1 entry over digest, signed
// by a fresh ECDSA key and carrying that key's PEM: what anyone can upload
// for a public commit id.
func onlineUploadDecoy(t *testing.T, digest []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest)
	if err != nil {
		t.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki})
	entry := map[string]any{"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": map[string]any{
		"data": map[string]any{"hash": map[string]any{"algorithm": "sha256", "value": hex.EncodeToString(digest)}},
		"signature": map[string]any{"content": base64.StdEncoding.EncodeToString(sig),
			"publicKey": map[string]any{"content": base64.StdEncoding.EncodeToString(pub)}},
	}}
	if code, b := onlinePost(t, "/api/v1/log/entries", entry); code != http.StatusCreated {
		t.Fatalf("uploading a decoy: %d %s", code, b)
	}
}

// onlineSearch runs a Rekor v1 index search and returns the UUIDs.
func onlineSearch(t *testing.T, query map[string]any) []string {
	t.Helper()
	code, b := onlinePost(t, "/api/v1/index/retrieve", query)
	var uuids []string
	if err := json.Unmarshal(b, &uuids); code != http.StatusOK || err != nil {
		t.Fatalf("search %v: %d %s (%v)", query, code, b, err)
	}
	return uuids
}

// TestOnlineDecoys: entries anyone can log for a public commit id, signed
// with their own keys, do not hide the signer's entry: verification asks
// Rekor for the object AND the certificate.
func TestOnlineDecoys(t *testing.T) {
	r := onlineRepo(t)
	id := r.commit("online, then decoys")
	s := readSigned(t, r, "commit", "HEAD")
	digest := sha256.Sum256([]byte(id))
	const decoys = 20
	for i := 0; i < decoys; i++ {
		onlineUploadDecoy(t, digest[:])
	}

	hash := "sha256:" + hex.EncodeToString(digest[:])
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.cert.Raw})
	mine := onlineSearch(t, map[string]any{"hash": hash, "operator": "and",
		"publicKey": map[string]any{"format": "x509", "content": base64.StdEncoding.EncodeToString(certPEM)}})
	if len(mine) != 1 {
		t.Fatalf("Rekor finds %d entries for the commit AND its certificate, want 1: %v", len(mine), mine)
	}
	// What the previous search (by hash only, first 16 kept) would have
	// seen: Rekor answers in no fixed order, so the signer's entry is past
	// the 16th in about a quarter of the searches.
	var positions []int
	for i := 0; i < 20; i++ {
		all := onlineSearch(t, map[string]any{"hash": hash})
		if len(all) != decoys+1 {
			t.Fatalf("a hash-only search finds %d entries, want %d", len(all), decoys+1)
		}
		positions = append(positions, slices.Index(all, mine[0])+1)
	}
	dropped := 0
	for _, p := range positions {
		if p > 16 {
			dropped++
		}
	}
	t.Logf("the signer's entry in 20 hash-only searches was at positions %v: a first-16 cut would have dropped it %d times", positions, dropped)

	// Each way of verifying, three times: with the previous search, each
	// run had about a 1 in 4 chance of not seeing the signer's entry.
	issuer := stackEnv(t, "GITSIGN_OIDC_ISSUER")
	r.setPolicy("alice@example.test", issuer)
	for i := 0; i < 3; i++ {
		out, errOut, err := r.run(gitsignBin, "verify", "--certificate-identity", "alice@example.test", "--certificate-oidc-issuer", issuer, "HEAD")
		if err != nil || !strings.Contains(out, "good signature from alice@example.test") {
			t.Errorf("gitsign verify among %d decoys: %v\n%s%s", decoys, err, out, errOut)
		}
		if _, raw, err := r.run("git", "verify-commit", "--raw", "HEAD"); err != nil || !strings.Contains(raw, "[GNUPG:] GOODSIG ") || !strings.Contains(raw, "TRUST_FULLY") {
			t.Errorf("git verify-commit among %d decoys: %v\n%s", decoys, err, raw)
		}
	}
	if got := strings.TrimSpace(r.git("log", "-1", "--format=%G? %GS")); got != "G alice@example.test" {
		t.Errorf("%%G? %%GS = %q", got)
	}
}

// onlineListener records connections to a TCP port and closes each.
type onlineListener struct {
	l     net.Listener
	conns atomic.Int32
	wg    sync.WaitGroup
}

func startOnlineListener(t *testing.T) *onlineListener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &onlineListener{l: l}
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			o.conns.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { l.Close(); o.wg.Wait() })
	return o
}

func (o *onlineListener) url() string { return "http://" + o.l.Addr().String() }

// TestOnlineNoLogBeforeChain: an online-mode signature whose certificate
// the trusted root cannot vouch for fails without any connection to the
// log; with the root that can, the same signature does reach the log.
func TestOnlineNoLogBeforeChain(t *testing.T) {
	r := onlineRepo(t)
	r.commit("online")
	issuer := stackEnv(t, "GITSIGN_OIDC_ISSUER")
	r.setPolicy("alice@example.test", issuer)
	log := startOnlineListener(t)
	untrusted := r.withEnv("GITSIGN_TRUSTED_ROOT="+onlinePublicGoodRoot(), "GITSIGN_REKOR_URL="+log.url())

	_, raw, err := untrusted.run("git", "verify-commit", "--raw", "HEAD")
	if err == nil || strings.Contains(raw, "GOODSIG") || !(strings.Contains(raw, "[GNUPG:] BADSIG ") || strings.Contains(raw, "[GNUPG:] ERRSIG ")) {
		t.Errorf("git verify-commit with an untrusted Fulcio: %v\n%s", err, raw)
	}
	if mark := strings.TrimSpace(untrusted.git("log", "-1", "--format=%G?")); mark != "B" && mark != "E" {
		t.Errorf("%%G? = %s, want B or E", mark)
	}
	out, errOut, err := untrusted.run(gitsignBin, "verify", "--certificate-identity", "alice@example.test", "--certificate-oidc-issuer", issuer, "HEAD")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(out, "FAILED") || !strings.Contains(out, "does not chain to a trusted Fulcio") {
		t.Errorf("gitsign verify with an untrusted Fulcio: %v, want exit 1 saying the chain fails\n%s%s", err, out, errOut)
	}
	if n := log.conns.Load(); n != 0 {
		t.Errorf("the log got %d connections for a signature no trusted Fulcio vouches for", n)
	}

	// The control: the local root vouches for the certificate, so the
	// log is asked (and, refusing every connection, leaves it unverifiable).
	trusted := r.withEnv("GITSIGN_REKOR_URL=" + log.url())
	out, _, err = trusted.run(gitsignBin, "verify", "--certificate-identity", "alice@example.test", "--certificate-oidc-issuer", issuer, "HEAD")
	if err == nil || !strings.Contains(out, "needs Rekor at") {
		t.Errorf("gitsign verify with the log refusing: %v\n%s", err, out)
	}
	if log.conns.Load() == 0 {
		t.Error("the log got no connection when the chain verified: the listener proves nothing")
	}
}

// TestOnlineSelfCheck: an online-mode signature is verified before git
// stores it, as an offline one is, against the entry just uploaded.
func TestOnlineSelfCheck(t *testing.T) {
	t.Run("untrusted Fulcio", func(t *testing.T) {
		r := onlineRepo(t, "GITSIGN_TRUSTED_ROOT="+onlinePublicGoodRoot())
		os.WriteFile(filepath.Join(r.dir, "f"), []byte("x"), 0o644)
		r.git("add", "f")
		_, gitErr, err := r.run("git", "commit", "-S", "-m", "must not be created")
		if err == nil {
			t.Fatal("git commit -S succeeded")
		}
		if n := r.commitCount(); n != 0 {
			t.Errorf("%d commits exist, want none", n)
		}
		log := r.readLog()
		if !strings.Contains(log, "does not verify, so it was not used") || strings.Count(log, "gitsign: error: ") != 1 {
			t.Errorf("the log does not report the self-check once:\n%s", log)
		}
		if !strings.Contains(gitErr, "failed to sign") {
			t.Errorf("git does not report the failure:\n%s", gitErr)
		}

		// The same run made directly: nothing at all on stdout.
		cmd := exec.Command(gitsignBin, "--status-fd=2", "-bsau", "Alice <alice@example.test>")
		cmd.Dir, cmd.Env = r.dir, r.env
		cmd.Stdin = strings.NewReader("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nm\n")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err = cmd.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Errorf("gitsign exit: %v, want status 1", err)
		}
		if stdout.Len() != 0 || strings.Contains(stderr.String(), "SIG_CREATED") {
			t.Errorf("gitsign reported a signature it did not make:\nstdout %q\nstderr %s", stdout.String(), stderr.String())
		}
	})

	t.Run("good, one request to the log", func(t *testing.T) {
		// A proxy in front of the local Rekor records what signing asks.
		target, err := url.Parse(stackEnv(t, "GITSIGN_REKOR_URL"))
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var requests []string
		proxy := httputil.NewSingleHostReverseProxy(target)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			mu.Lock()
			requests = append(requests, req.Method+" "+req.URL.Path)
			mu.Unlock()
			proxy.ServeHTTP(w, req)
		}))
		defer srv.Close()
		r := onlineRepo(t, "GITSIGN_REKOR_URL="+srv.URL)
		r.commit("online, self-checked")
		mu.Lock()
		defer mu.Unlock()
		if len(requests) != 1 || requests[0] != "POST /api/v1/log/entries" {
			t.Errorf("signing made requests %v, want only the upload", requests)
		}
	})
}
