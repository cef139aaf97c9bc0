package cli

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/tuf"

	"github.com/gitsign-dev/gitsign/internal/config"
)

// TestInitializeSilentMirror: a TUF mirror that accepts connections and
// never answers costs the timeout, not forever.
func TestInitializeSilentMirror(t *testing.T) {
	addr := silentServer(t)
	rootFile := filepath.Join(t.TempDir(), "root.json")
	os.WriteFile(rootFile, tuf.DefaultRoot(), 0o600)
	t.Setenv("TUF_ROOT", t.TempDir())
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run([]string{"initialize", "--mirror", "http://" + addr, "--root", rootFile, "--timeout", "1s"},
		streams{in: strings.NewReader(""), out: &stdout, err: &stderr})
	if code != 1 || !strings.Contains(stderr.String(), "did not answer within 1s") {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
}

// TestInitializeCachesWhereVerifyReads: without TUF_ROOT, initialize fills
// the cache verification reads (~/.sigstore/tuf), not sigstore-go's own
// default (~/.sigstore/root).
func TestInitializeCachesWhereVerifyReads(t *testing.T) {
	addr := silentServer(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("TUF_ROOT", "")
	rootFile := filepath.Join(t.TempDir(), "root.json")
	os.WriteFile(rootFile, tuf.DefaultRoot(), 0o600)
	var stdout, stderr bytes.Buffer
	run([]string{"initialize", "--mirror", "http://" + addr, "--root", rootFile, "--timeout", "1s"},
		streams{in: strings.NewReader(""), out: &stdout, err: &stderr})
	if dir := tufCacheDir(config.Default()); dir != filepath.Join(home, ".sigstore", "tuf") {
		t.Fatalf("tufCacheDir() = %s", dir)
	}
	if _, err := os.Stat(filepath.Join(home, ".sigstore", "tuf")); err != nil {
		t.Errorf("initialize did not use the cache verification reads: %v (stderr %s)", err, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(home, ".sigstore", "root")); err == nil {
		t.Error("initialize wrote sigstore-go's default cache, which verification never reads")
	}
}

// silentServer accepts connections and never answers.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	t.Cleanup(func() { l.Close() })
	return l.Addr().String()
}
