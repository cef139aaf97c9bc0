package attest

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"
)

// TestSweep changes every byte of each vector in turn (its lowest bit,
// then to a space) and checks the property the format must have: the
// changed file fails to verify, or it verifies and says exactly what the
// original says (the same payload, signature, certificate, log entry and
// timestamp: only the JSON's layout changed). A rule missing from
// ParseSig, VerifyEnvelope or Check that let a byte change unnoticed
// would fail here.
func TestSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("the sweep verifies thousands of files")
	}
	v := vectorVerifier(t, "alice@example.test")
	for _, name := range []string{"rekor-v1.sig", "rekor-v2.sig"} {
		good := readVector(t, name)
		orig, err := ParseSig(good)
		if err != nil {
			t.Fatal(err)
		}
		survived := 0
		for i := range good {
			for _, c := range []byte{good[i] ^ 1, ' '} {
				if c == good[i] {
					continue
				}
				mutated := bytes.Clone(good)
				mutated[i] = c
				o := Check(v, DigestCommit, vectorCommit, File{Name: "p", Sig: mutated})
				if o.Err != nil {
					continue
				}
				survived++
				got, err := ParseSig(mutated)
				if err != nil || !sameSigned(orig, got) {
					t.Errorf("%s: byte %d changed to %q still verifies, and says something else", name, i, c)
				}
			}
		}
		t.Logf("%s: %d of %d changes verified, each with the same content (layout only)", name, survived, 2*len(good))
	}
}

func sameSigned(a, b *Signed) bool {
	x, y := a.Envelope, b.Envelope
	return x.PayloadType == y.PayloadType && bytes.Equal(x.Payload, y.Payload) && bytes.Equal(x.Signature, y.Signature) &&
		bytes.Equal(x.Cert.Raw, y.Cert.Raw) && bytes.Equal(x.Timestamp, y.Timestamp) && proto.Equal(x.Entry, y.Entry)
}
