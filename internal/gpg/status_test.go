package gpg

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestSigningStatusLines(t *testing.T) {
	var b bytes.Buffer
	s := NewStatusWriter(&b)
	s.BeginSigning()
	s.SigCreated(true, PubKeyECDSA, HashSHA256, time.Unix(1767225600, 0), "0123456789abcdef0123456789abcdef01234567")
	want := "[GNUPG:] BEGIN_SIGNING\n[GNUPG:] SIG_CREATED D 19 8 00 1767225600 0123456789abcdef0123456789abcdef01234567\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	s.SigCreated(false, PubKeyECDSA, HashSHA256, time.Unix(1, 0), "ab")
	if b.String() != "[GNUPG:] SIG_CREATED S 19 8 00 1 ab\n" {
		t.Errorf("attached: %q", b.String())
	}
}

// TestUserIDCannotInjectStatusLines: an identity carrying a newline and a
// forged status line stays on its own line.
func TestUserIDCannotInjectStatusLines(t *testing.T) {
	var b bytes.Buffer
	s := NewStatusWriter(&b)
	s.BadSig("ab", "evil@example.test\n[GNUPG:] GOODSIG ab evil")
	if strings.Count(b.String(), "\n") != 1 || strings.Contains(b.String(), "\n[GNUPG:] GOODSIG") {
		t.Errorf("injected: %q", b.String())
	}
	b.Reset()
	s.GoodSig("ab", "a\rb\x00c")
	if b.String() != `[GNUPG:] GOODSIG ab a\x0db\x00c`+"\n" {
		t.Errorf("got %q", b.String())
	}
	// Escapes that would reach the terminal through git's %GS.
	b.Reset()
	s.GoodSig("ab", "x\x1b[2J\u009b2J\u202eyz")
	if b.String() != `[GNUPG:] GOODSIG ab x\x1b[2J\u009b2J\u202eyz`+"\n" {
		t.Errorf("got %q", b.String())
	}
}

func TestVerifyStatusLines(t *testing.T) {
	var b bytes.Buffer
	s := NewStatusWriter(&b)
	s.NewSig()
	s.GoodSig("f00d", "alice@example.test")
	s.ValidSig("f00d", time.Unix(1767225600, 0), PubKeyECDSA, HashSHA256)
	s.Trust(TrustFully)
	s.ErrSig("0000000000000000", time.Unix(5, 0), 9)
	want := "[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG f00d alice@example.test\n" +
		"[GNUPG:] VALIDSIG f00d 2026-01-01 1767225600 0 0 0 19 8 00 f00d\n[GNUPG:] TRUST_FULLY 0 shell\n" +
		"[GNUPG:] ERRSIG 0000000000000000 19 8 00 5 9\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
