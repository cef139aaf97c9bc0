package gpg

import (
	"bytes"
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
