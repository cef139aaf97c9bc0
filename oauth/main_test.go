package oauth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/internal/printable"
	"github.com/gitsign-dev/gitsign/internal/syncbuf"
)

// openerHelperArg makes the test binary act as a URL opener: it fetches
// the URL (following redirects, like a browser) and reports on stdout.
const openerHelperArg = "oauth-test-url-opener"

func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == openerHelperArg {
		os.Exit(runOpenerHelper(os.Args[2]))
	}
	// The device flow's seconds (interval, slow_down, expires_in) pass
	// 50 times faster in tests.
	deviceUnit = 20 * time.Millisecond
	os.Exit(m.Run())
}

func runOpenerHelper(u string) int {
	c := &http.Client{Timeout: 20 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		fmt.Fprintln(os.Stderr, "opener-helper:", err)
		return 1
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		fmt.Fprintln(os.Stderr, "opener-helper:", err)
		return 1
	}
	// Say whether the success page counts down to closing itself.
	if m := regexp.MustCompile(`<span id="secs">\d+</span>`).Find(body); m != nil {
		fmt.Printf("opener-helper: autoclose %s\n", m)
	} else if bytes.Contains(body, []byte("<title>Signed in</title>")) {
		fmt.Printf("opener-helper: autoclose off\n")
	}
	fmt.Printf("opener-helper: fetched, status %d\n", resp.StatusCode)
	return 0
}

// helperOpener is an URLOpener template that re-executes this test binary.
func helperOpener(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return joinCommand([]string{exe, openerHelperArg}) + " {{.URL}}"
}

// joinCommand quotes words so that splitCommand returns them unchanged.
func joinCommand(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		if w != "" && !strings.ContainsAny(w, "'\" \t\n\v\f\r") {
			q[i] = w
			continue
		}
		// '...' keeps everything but ', which is written as "'".
		q[i] = "'" + strings.ReplaceAll(w, "'", `'"'"'`) + "'"
	}
	return strings.Join(q, " ")
}

// syncBuffer is a terminal that tests can read while the opener writes.
type syncBuffer struct{ syncbuf.Buffer }

// waitFor polls until the terminal contains want.
func (s *syncBuffer) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("terminal never showed %q; got:\n%s", want, s.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// signer mints ES256 JWTs by hand (header.payload.r||s).
type signer struct {
	key *ecdsa.PrivateKey
	kid string
}

func newSigner(t testing.TB) *signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &signer{key: k, kid: fmt.Sprintf("test-%d", time.Now().UnixNano())}
}

func b64json(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *signer) sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	in := b64json(t, map[string]string{"alg": "ES256", "typ": "JWT", "kid": s.kid}) + "." + b64json(t, claims)
	sum := sha256.Sum256([]byte(in))
	r, ss, err := ecdsa.Sign(rand.Reader, s.key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	ss.FillBytes(sig[32:])
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func (s *signer) jwks(t testing.TB) []byte {
	t.Helper()
	pt, err := s.key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	b, err := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": s.kid,
		"x": enc(pt[1:33]), "y": enc(pt[33:65]),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// env is a LookupEnv over a fixed map.
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// tellTerminal renders notices onto the test's terminal in a plain form,
// so tests can read what the person would be told in one place, next to
// what the opener printed.
func tellTerminal(w io.Writer) func(Notice) {
	return func(n Notice) {
		switch n := n.(type) {
		case BrowserOpening:
			fmt.Fprintf(w, "Your browser will now be opened to:\n%s\n", printable.String(n.URL))
		case BrowserFailed:
			fmt.Fprintf(w, "Could not open a browser: %v\nOpen the URL above in a browser to continue.\n", n.Err)
		case DeviceCode:
			fmt.Fprintf(w, "open this page in a browser on any device:\n\n    %s\n\nand enter the code  %s\n\n",
				printable.String(n.VerificationURI), printable.String(n.UserCode))
			if n.VerificationURIComplete != "" {
				fmt.Fprintf(w, "(or open %s, which fills in the code)\n", printable.String(n.VerificationURIComplete))
			}
			fmt.Fprintf(w, "the code expires in %s; press Ctrl-C to cancel\n", n.ExpiresIn)
		case DeviceChosen:
			fmt.Fprintf(w, "No browser can be opened here (%s)\n", n.Why)
		case BrowserInstead:
			fmt.Fprintf(w, "The issuer does not offer the device flow; signing in with a browser instead.\n")
		case Cancelled:
			fmt.Fprintf(w, "Sign-in cancelled (%v).\n", n.Cause)
		default:
			fmt.Fprintf(w, "unknown notice %T\n", n)
		}
	}
}
