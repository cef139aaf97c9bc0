package tsa

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// realToken is a TimeStampToken from the local stack's timestamp authority
// (sigstore timestamp-authority, hack/sigstore-local), requested with
// `openssl ts -query -sha256 -cert` and extracted with `openssl ts -reply
// -token_out`: a token in exactly the form CheckTokenForm accepts.
const realToken = "testdata/token.der"

func readToken(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile(realToken)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestCheckTokenFormReal: the real token is in form; cut short, extended,
// or with any single length byte of its outer header changed, it is not.
func TestCheckTokenFormReal(t *testing.T) {
	token := readToken(t)
	if err := CheckTokenForm(token); err != nil {
		t.Fatalf("real token refused: %v", err)
	}
	for name, b := range map[string][]byte{
		"truncated":      token[:len(token)-1],
		"trailing byte":  append(append([]byte{}, token...), 0),
		"empty":          {},
		"garbage":        []byte("not a token"),
		"outer length+1": bumpByte(token, 3),
	} {
		if err := CheckTokenForm(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func bumpByte(b []byte, i int) []byte {
	out := append([]byte{}, b...)
	out[i]++
	return out
}

// FuzzCheckTokenForm checks CheckTokenForm on arbitrary bytes. Property:
// it never panics (a panic in the CMS parser it wraps comes back as an
// error), it gives the same answer twice, its errors are one line starting
// "timestamp token: ", and a token it accepts is exactly one element: with
// its last byte removed or a byte added after it, it is refused.
func FuzzCheckTokenForm(f *testing.F) {
	token := readToken(f)
	f.Add(token)
	f.Add(token[:len(token)/2])
	f.Add(bumpByte(token, len(token)-1))
	// Hostile shapes: nested indefinite BER, a huge length, no contents.
	f.Add(append(bytes.Repeat([]byte{0x30, 0x80}, 64), make([]byte, 128)...))
	f.Add([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x06, 0x00})
	f.Add([]byte{0x30, 0x00})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		err := CheckTokenForm(b)
		again := CheckTokenForm(b)
		if (err == nil) != (again == nil) || err != nil && err.Error() != again.Error() {
			t.Fatalf("two answers: %v, then %v", err, again)
		}
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "timestamp token: ") || strings.Contains(msg, "\n") {
				t.Fatalf("error not one line starting \"timestamp token: \": %q", msg)
			}
			return
		}
		if err := CheckTokenForm(b[:len(b)-1]); err == nil {
			t.Fatal("accepted with its last byte removed")
		}
		if err := CheckTokenForm(append(b[:len(b):len(b)], 0)); err == nil {
			t.Fatal("accepted with a byte after it")
		}
	})
}
