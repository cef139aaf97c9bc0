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
)

// TestInitializeSilentMirror: a TUF mirror that accepts connections and
// never answers costs the timeout, not forever.
func TestInitializeSilentMirror(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	rootFile := filepath.Join(t.TempDir(), "root.json")
	os.WriteFile(rootFile, tuf.DefaultRoot(), 0o600)
	t.Setenv("TUF_ROOT", t.TempDir())
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run([]string{"initialize", "--mirror", "http://" + l.Addr().String(), "--root", rootFile, "--timeout", "1s"},
		streams{in: strings.NewReader(""), out: &stdout, err: &stderr})
	if code != 1 || !strings.Contains(stderr.String(), "did not answer within 1s") {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
}
