package verify

import (
	"bytes"
	"context"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"strings"
	"testing"

	"github.com/github/smimesign/ietf-cms/protocol"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"

	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/tsa"
)

// localVector returns the testdata/local vector of mode and type.
func localVector(t *testing.T, name string) sweepVector {
	t.Helper()
	for _, vec := range sweepVectors(t) {
		if vec.name == name {
			return vec
		}
	}
	t.Fatalf("no vector %s", name)
	return sweepVector{}
}

// refuses checks that sig, a changed signature of vec, is refused as a
// signature in a form gitsign does not accept, with an error that names
// the field.
func refuses(t *testing.T, vec sweepVector, name string, sig []byte, field string) {
	t.Helper()
	_, err := vec.verify(sig)
	var ve *Error
	if !errors.As(err, &ve) || ve.Kind != Unverifiable || !strings.Contains(err.Error(), field) {
		t.Errorf("%s: %v, want a refusal naming %s", name, err, field)
	}
}

// TestRekorV2Binding: each field of a Rekor v2 entry that no signature
// covers must equal the value it stands for (rekor.CheckBinding), and the
// body must be the one rebuilt from the signature.
func TestRekorV2Binding(t *testing.T) {
	vec := localVector(t, "rekor2-tsa.commit")
	type entry = protorekor.TransparencyLogEntry
	for _, c := range []struct {
		name, field string
		edit        func(*entry)
	}{
		{"integrated time set", "integrated_time", func(e *entry) { e.IntegratedTime = 1700000000 }},
		{"proof index changed", "log_index", func(e *entry) { e.InclusionProof.LogIndex++ }},
		{"proof tree size changed", "tree_size", func(e *entry) { e.InclusionProof.TreeSize++ }},
		{"proof root hash changed", "root_hash", func(e *entry) { e.InclusionProof.RootHash[0] ^= 1 }},
		{"inclusion promise added", "inclusion_promise", func(e *entry) {
			e.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: []byte{1}}
		}},
		{"body re-encoded", "canonicalized_body", func(e *entry) {
			e.CanonicalizedBody = append([]byte(" "), e.CanonicalizedBody...)
		}},
		{"body of another signature", "canonicalized_body", func(e *entry) {
			other := localVector(t, "rekor2-tsa.tag")
			p, _ := cms.Parse(other.sig)
			e.CanonicalizedBody = entryOf(t, p).CanonicalizedBody
		}},
		{"labelled Rekor v1", "inclusion_promise", func(e *entry) { e.KindVersion.Version = "0.0.1"; e.CanonicalizedBody = nil }},
	} {
		refuses(t, vec, c.name, editEntry(t, vec.sig, c.edit), c.field)
	}
}

// entryOf decodes p's embedded log entry as it is, body included.
func entryOf(t *testing.T, p *cms.Parsed) *protorekor.TransparencyLogEntry {
	t.Helper()
	var found *protorekor.TransparencyLogEntry
	editEntry(t, cms.Armor(mustDER(t, p)), func(e *protorekor.TransparencyLogEntry) { found = e })
	return found
}

func mustDER(t *testing.T, p *cms.Parsed) []byte {
	t.Helper()
	der, err := p.SignedData.ContentInfoDER()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestTokenFraming: the parts of a timestamp token its authority does not
// sign have one form (tsa.CheckTokenForm); each other spelling is refused
// with an error naming the field.
func TestTokenFraming(t *testing.T) {
	vec := localVector(t, "offline-tsa.commit")
	p, err := cms.Parse(vec.sig)
	if err != nil {
		t.Fatal(err)
	}
	token := p.UnsignedAttribute(tsa.OIDTimeStampToken)
	sha1 := pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}}
	for _, c := range []struct {
		name, field string
		edit        func(*protocol.SignedData)
	}{
		{"version 1", "SignedData version", func(sd *protocol.SignedData) { sd.Version = 1 }},
		{"SHA-1 added to the digest set", "digestAlgorithms", func(sd *protocol.SignedData) { sd.DigestAlgorithms = append(sd.DigestAlgorithms, sha1) }},
		{"empty digest set", "digestAlgorithms", func(sd *protocol.SignedData) { sd.DigestAlgorithms = nil }},
		{"NULL parameters in the set", "digestAlgorithms", func(sd *protocol.SignedData) { sd.DigestAlgorithms[0].Parameters = null }},
		{"NULL parameters on the signer's digest", "digest algorithm", func(sd *protocol.SignedData) { sd.SignerInfos[0].DigestAlgorithm.Parameters = null }},
		{"NULL parameters on the signature algorithm", "signature algorithm", func(sd *protocol.SignedData) { sd.SignerInfos[0].SignatureAlgorithm.Parameters = null }},
		{"ECDSA with SHA-384 for a SHA-256 digest", "signature algorithm", func(sd *protocol.SignedData) {
			sd.SignerInfos[0].SignatureAlgorithm.Algorithm = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
		}},
		{"ecdsa-with-SHA256 as the digest", "digest algorithm", func(sd *protocol.SignedData) {
			sd.SignerInfos[0].DigestAlgorithm.Algorithm = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
		}},
		{"SignerInfo version 3", "SignerInfo version", func(sd *protocol.SignedData) { sd.SignerInfos[0].Version = 3 }},
		// Found by the full sweep: the tag of the OCTET STRING around the
		// TSTInfo was read by nobody.
		{"TSTInfo in a [4] instead of an OCTET STRING", "OCTET STRING", func(sd *protocol.SignedData) {
			ec := sd.EncapContentInfo.EContent
			full := bytes.Clone(ec.FullBytes)
			full[len(full)-len(ec.Bytes)] = 0x84
			sd.EncapContentInfo.EContent = asn1.RawValue{FullBytes: full}
		}},
	} {
		sd := signedDataOf(t, token)
		c.edit(sd)
		der, err := sd.ContentInfoDER()
		if err != nil {
			t.Fatal(err)
		}
		refuses(t, vec, c.name, withAttribute(t, vec.sig, tsa.OIDTimeStampToken, asn1.RawValue{FullBytes: der}), c.field)
	}
}

// TestVerifyObjectHeaders: VerifyObject refuses a commit with any gpgsig
// header besides its signature, in either object format, which git leaves
// out of what it verifies; the signature itself is still good.
func TestVerifyObjectHeaders(t *testing.T) {
	vec := localVector(t, "offline.commit")
	end := strings.Index(string(vec.raw), "\ngpgsig ")
	for _, extra := range []string{"gpgsig-sha256 x", "gpgsigX anything", "gpgsig"} {
		raw := string(vec.raw[:end+1]) + extra + "\n" + string(vec.raw[end+1:])
		_, err := vec.v.VerifyObject(context.Background(), Object{Type: "commit", Raw: []byte(raw)})
		var ve *Error
		if !errors.As(err, &ve) || ve.Kind != Bad || !strings.Contains(err.Error(), "besides its gpgsig signature") {
			t.Errorf("%s added: %v", extra, err)
		}
	}
	if _, err := vec.v.VerifyObject(context.Background(), Object{Type: "commit", Raw: vec.raw}); err != nil {
		t.Fatalf("the object itself: %v", err)
	}
	// In a SHA-256 repository the signature header is gpgsig-sha256, so
	// this commit's gpgsig header is the other one: not signed there.
	if _, err := vec.v.VerifyObject(context.Background(), Object{Type: "commit", Raw: vec.raw, Format: SHA256}); err == nil {
		t.Error("a gpgsig header verified as a SHA-256 repository's signature")
	}
}
