//go:build e2e

package e2e

import (
	"bytes"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/internal/gpg"
)

// mode is one way of recording signatures in a transparency log.
type mode struct {
	name  string
	env   func(t *testing.T) []string
	check func(t *testing.T, s *signed)
}

var modes = []mode{
	{"offline-rekor-v1", func(t *testing.T) []string { return nil },
		func(t *testing.T, s *signed) { s.checkOfflineV1(t) }},
	{"offline-rekor-v1-tsa", func(t *testing.T) []string {
		return []string{"GITSIGN_TIMESTAMP_SERVER_URL=" + stackEnv(t, "GITSIGN_TIMESTAMP_SERVER_URL")}
	}, func(t *testing.T, s *signed) { s.checkOfflineV1(t); s.checkTimestamp(t) }},
	{"online-rekor-v1", func(t *testing.T) []string { return []string{"GITSIGN_REKOR_MODE=online"} },
		func(t *testing.T, s *signed) { s.checkOnline(t) }},
	{"offline-rekor-v2-tsa", func(t *testing.T) []string {
		return []string{
			"GITSIGN_REKOR_VERSION=2",
			"GITSIGN_REKOR_URL=" + stackEnv(t, "GITSIGN_LOCAL_REKOR_V2_URL"),
			"GITSIGN_TIMESTAMP_SERVER_URL=" + stackEnv(t, "GITSIGN_TIMESTAMP_SERVER_URL"),
		}
	}, func(t *testing.T, s *signed) { s.checkOfflineV2(t); s.checkTimestamp(t) }},
}

// TestSignCommitAndTag signs a commit and an annotated tag through real
// git in every mode, then checks each signature with openssl and the log
// entry against what the log server holds.
func TestSignCommitAndTag(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			r := newRepo(t, append(m.env(t), "SIGSTORE_ID_TOKEN="+token(t))...)
			r.commit("first")
			r.commit("second")
			r.git("tag", "-s", "v1.0.0", "-m", "release v1.0.0")
			for _, obj := range []struct{ typ, rev string }{{"commit", "HEAD"}, {"commit", "HEAD~1"}, {"tag", "v1.0.0"}} {
				s := readSigned(t, r, obj.typ, obj.rev)
				s.opensslVerify(t)
				m.check(t, s)
			}
			if log := r.readLog(); !strings.Contains(log, "signed as alice@example.test (issuer "+stackEnv(t, "GITSIGN_OIDC_ISSUER")+")") {
				t.Errorf("the log does not tell who signed:\n%s", log)
			}
		})
	}
}

// TestSignStreams runs gitsign the way git does and checks the streams:
// stdout holds exactly the armored signature, the status fd the two status
// lines naming the signing key's algorithm, SHA-256 and the certificate.
func TestSignStreams(t *testing.T) {
	r := newRepo(t, "SIGSTORE_ID_TOKEN="+token(t))
	cmd := exec.Command(gitsignBin, "--status-fd=2", "-bsau", "Alice <alice@example.test>")
	cmd.Dir, cmd.Env = r.dir, r.env
	payload := []byte("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor Alice <alice@example.test> 1 +0000\ncommitter Alice <alice@example.test> 1 +0000\n\nm\n")
	cmd.Stdin = bytes.NewReader(payload)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("gitsign: %v\n%s\n%s", err, stderr.String(), r.readLog())
	}
	out := stdout.String()
	if !strings.HasPrefix(out, "-----BEGIN SIGNED MESSAGE-----\n") || !strings.HasSuffix(out, "-----END SIGNED MESSAGE-----\n") ||
		strings.Count(out, "-----BEGIN") != 1 {
		t.Fatalf("stdout is not exactly one armored signature:\n%s", out)
	}
	lines := regexp.MustCompile(`(?m)^\[GNUPG:\] .*$`).FindAllString(stderr.String(), -1)
	if len(lines) != 2 || lines[0] != "[GNUPG:] BEGIN_SIGNING" {
		t.Fatalf("status lines %q", lines)
	}
	f := strings.Fields(lines[1])
	if len(f) != 8 || f[1] != "SIG_CREATED" || f[2] != "D" || f[3] != "19" || f[4] != "8" || f[5] != "00" {
		t.Fatalf("SIG_CREATED line %q, want D 19 (ECDSA) 8 (SHA-256) 00", lines[1])
	}
	// The fingerprint must be the signing certificate's.
	cert := certFromPEM(t, stdout.Bytes())
	if f[7] != gpg.Fingerprint(cert) {
		t.Errorf("fingerprint %s, want %s", f[7], gpg.Fingerprint(cert))
	}
}
