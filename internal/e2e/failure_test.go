//go:build e2e

package e2e

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestSignFailures breaks one part of the signing path at a time. Each
// must make `git commit -S` fail within the timeout with a clear message
// in the log, create no commit, and leave gitsign's stdout empty.
func TestSignFailures(t *testing.T) {
	// A port with nothing listening.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + l.Addr().String()
	l.Close()

	// A server that accepts connections and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		var held []net.Conn
		for {
			c, err := silent.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()

	// A Rekor that answers 500 to everything, counting requests.
	var rekorHits atomic.Int32
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rekorHits.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"code":500,"message":"injected failure"}`))
	}))
	defer broken.Close()

	tests := []struct {
		name   string
		env    func(t *testing.T) []string
		want   string
		within time.Duration
		after  func(t *testing.T)
	}{
		{"fulcio refuses the token", func(t *testing.T) []string {
			return []string{"SIGSTORE_ID_TOKEN=" + token(t, "--client", "other-client")}
		}, "fulcio refused the certificate request", 10 * time.Second, nil},
		{"fulcio down", func(t *testing.T) []string {
			return []string{"SIGSTORE_ID_TOKEN=" + token(t), "GITSIGN_FULCIO_URL=" + closedURL}
		}, "connection refused", 10 * time.Second, nil},
		{"fulcio never answers", func(t *testing.T) []string {
			return []string{"SIGSTORE_ID_TOKEN=" + token(t), "GITSIGN_FULCIO_URL=http://" + silent.Addr().String(), "GITSIGN_TIMEOUT=2s"}
		}, "no answer within 2s", 8 * time.Second, nil},
		{"rekor answers 500", func(t *testing.T) []string {
			rekorHits.Store(0)
			return []string{"SIGSTORE_ID_TOKEN=" + token(t), "GITSIGN_REKOR_URL=" + broken.URL}
		}, "500 Internal Server Error", 15 * time.Second, func(t *testing.T) {
			if n := rekorHits.Load(); n != 3 {
				t.Errorf("Rekor got %d requests per signature, want 3 (one try and two bounded retries)", n)
			}
		}},
		{"new signature does not verify against the trust root", func(t *testing.T) []string {
			return []string{"SIGSTORE_ID_TOKEN=" + token(t), "GITSIGN_TRUSTED_ROOT=" + filepath.Join(repoRoot, "verify", "trusted_root.public-good.json")}
		}, "the new signature does not verify", 10 * time.Second, nil},
		{"expired token", func(t *testing.T) []string {
			tok := token(t, "shortlived")
			time.Sleep(3 * time.Second)
			return []string{"SIGSTORE_ID_TOKEN=" + tok}
		}, "expired", 10 * time.Second, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRepo(t, tt.env(t)...)
			os.WriteFile(filepath.Join(r.dir, "f"), []byte("x"), 0o644)
			r.git("add", "f")

			start := time.Now()
			_, gitErr, err := r.run("git", "commit", "-S", "-m", "must not be created")
			elapsed := time.Since(start)
			if err == nil {
				t.Fatal("git commit -S succeeded")
			}
			if elapsed > tt.within {
				t.Errorf("failing took %s, want under %s", elapsed, tt.within)
			}
			if n := r.commitCount(); n != 0 {
				t.Errorf("%d commits exist, want none", n)
			}
			log := r.readLog()
			if !strings.Contains(log, tt.want) || !strings.Contains(log, "gitsign: error: ") {
				t.Errorf("log does not say %q:\n%s", tt.want, log)
			}
			if strings.Count(log, "gitsign: error: ") != 1 {
				t.Errorf("want the error once, log:\n%s", log)
			}
			if !strings.Contains(gitErr, "failed to sign") {
				t.Errorf("git does not report the failure:\n%s", gitErr)
			}
			if tt.after != nil {
				tt.after(t)
			}

			// The same run made directly: nothing at all on stdout.
			if tt.after != nil {
				rekorHits.Store(0)
			}
			cmd := exec.Command(gitsignBin, "--status-fd=2", "-bsau", "Alice <alice@example.test>")
			cmd.Dir, cmd.Env = r.dir, r.env
			cmd.Stdin = strings.NewReader("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nm\n")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err = cmd.Run()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				t.Errorf("gitsign exit: %v, want status 1", err)
			}
			if stdout.Len() != 0 {
				t.Errorf("gitsign wrote to stdout on failure: %q", stdout.String())
			}
			if strings.Contains(stderr.String(), "SIG_CREATED") {
				t.Errorf("status reports a signature that was not made:\n%s", stderr.String())
			}
		})
	}
}
