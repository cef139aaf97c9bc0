//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fulcioWithoutCT starts a second Fulcio of the local stack, with the
// same CA and issuers, that logs its certificates to no CT log (as some
// private instances do), and returns its URL.
func fulcioWithoutCT(t *testing.T) string {
	t.Helper()
	dir := filepath.Dir(stackEnv(t, "GITSIGN_LOCAL_FULCIO_CHAIN"))
	cmd := exec.Command(filepath.Join(repoRoot, "hack", ".stack", "bin", "fulcio"), "serve",
		"--host=127.0.0.1", "--port=5575", "--grpc-host=127.0.0.1", "--grpc-port=5574", "--metrics-port=2135",
		"--legacy-unix-domain-socket=@gitsign-e2e-fulcio-without-ct",
		"--ca=fileca", "--fileca-cert="+filepath.Join(dir, "chain.pem"), "--fileca-key="+filepath.Join(dir, "intermediate.key"),
		"--fileca-key-passwd=fulcio", "--fileca-watch=false", "--ct-log-url=", "--config-path="+filepath.Join(dir, "config.yaml"))
	logFile, err := os.Create(filepath.Join(t.TempDir(), "fulcio.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting a Fulcio without CT: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := "http://127.0.0.1:5575"
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if resp, err := http.Get(url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logFile.Name())
			t.Fatalf("the Fulcio without CT did not start:\n%s", b)
		}
	}
}

// TestInsecureIgnoreSCT: a commit signed with a certificate that carries
// no SCT (a Fulcio without a CT log) verifies only with
// --insecure-ignore-sct or gitsign.insecureIgnoreSCT, with a warning each
// time, through gitsign verify and git verify-commit; a trusted root that
// lists no CT log is reported as such, and accepted only with the flag.
func TestInsecureIgnoreSCT(t *testing.T) {
	url := fulcioWithoutCT(t)
	r := signersRepo(t, "GITSIGN_FULCIO_URL="+url)
	// Signing checks the new signature too: it needs the setting.
	r.git("config", "gitsign.insecureIgnoreSCT", "true")
	id := r.commit("certificate without SCT")
	r.git("config", "gitsign.insecureIgnoreSCT", "false")
	issuer := stackEnv(t, "GITSIGN_OIDC_ISSUER")
	policy := []string{"--certificate-identity", "alice@example.test", "--certificate-oidc-issuer", issuer, id}

	cliVerdict(t, r, 1, policy, "the signing certificate carries no SCT")
	out, errOut, err := r.run(gitsignBin, append([]string{"verify", "--insecure-ignore-sct"}, policy...)...)
	if err != nil || !strings.Contains(out, "good signature from alice@example.test") ||
		!strings.Contains(errOut, "warning: "+id+": accepted without a verified SCT") {
		t.Errorf("gitsign verify --insecure-ignore-sct: %v\n%s%s", err, out, errOut)
	}

	r.git("config", "gitsign.certificateIdentity", "alice@example.test")
	r.git("config", "gitsign.certificateOIDCIssuer", issuer)
	if out, errOut, err := r.run("git", "verify-commit", id); err == nil {
		t.Errorf("git verify-commit without the setting accepted it:\n%s%s", out, errOut)
	}
	r.git("config", "gitsign.insecureIgnoreSCT", "true")
	out, errOut, err = r.run("git", "verify-commit", id)
	if err != nil || !strings.Contains(errOut, "warning: accepted without a verified SCT") {
		t.Errorf("git verify-commit with gitsign.insecureIgnoreSCT: %v\n%s%s", err, out, errOut)
	}
	r.git("config", "gitsign.insecureIgnoreSCT", "false")

	// gitsign attest checks what it made before storing it: without the
	// setting, the attestation's certificate has no SCT to verify, and
	// nothing is stored.
	predicate := filepath.Join(t.TempDir(), "p.json")
	os.WriteFile(predicate, []byte(`{"sct":false}`), 0o644)
	_, errOut, err = r.run(gitsignBin, "attest", "-f", predicate)
	if err == nil || !strings.Contains(errOut, "the new attestation does not verify, so it was not stored") || !strings.Contains(errOut, "carries no SCT") {
		t.Errorf("gitsign attest with a certificate without SCT: %v\n%s", err, errOut)
	}
	if out, _, err := r.run("git", "rev-parse", "-q", "--verify", "refs/attestations/commits"); err == nil {
		t.Errorf("a failed attest stored %s", out)
	}
	r.git("config", "gitsign.insecureIgnoreSCT", "true")
	r.gitsign(0, "attest", "-f", predicate)
	_, errOut = r.gitsign(0, "verify-attestation", "--certificate-identity", "alice@example.test", "--certificate-oidc-issuer", issuer)
	if !strings.Contains(errOut, "accepted without a verified SCT") {
		t.Errorf("verify-attestation with gitsign.insecureIgnoreSCT gave no warning:\n%s", errOut)
	}
	r.git("config", "gitsign.insecureIgnoreSCT", "false")

	// A trusted root that lists no CT log: named, and accepted only with
	// the flag.
	root := rootWithoutCTLogs(t)
	withRoot := append([]string{"--trusted-root", root}, policy...)
	cliVerdict(t, r, 1, withRoot, "the trusted root lists no certificate transparency log")
	out, errOut, err = r.run(gitsignBin, append([]string{"verify", "--insecure-ignore-sct"}, withRoot...)...)
	if err != nil || !strings.Contains(errOut, "lists no certificate transparency log") {
		t.Errorf("gitsign verify --insecure-ignore-sct with no CT log: %v\n%s%s", err, out, errOut)
	}
}

// rootWithoutCTLogs writes the stack's trusted root without its CT logs.
func rootWithoutCTLogs(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(stackEnv(t, "GITSIGN_TRUSTED_ROOT"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["ctlogs"]; !ok {
		t.Fatal(fmt.Errorf("the stack's trusted root lists no ctlogs"))
	}
	delete(m, "ctlogs")
	out, _ := json.Marshal(m)
	path := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
