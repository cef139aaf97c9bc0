package rekor

import (
	"bytes"
	"crypto/sha256"
	"encoding/asn1"
	"os"
	"path/filepath"
	"strings"
	"testing"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	rekortilespb "github.com/sigstore/rekor-tiles/v2/pkg/generated/protobuf"
	"github.com/sigstore/rekor-tiles/v2/pkg/types/hashedrekord"
	"github.com/transparency-dev/merkle/rfc6962"
	"google.golang.org/protobuf/proto"

	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/gitobj"
)

// localEntry returns the signature and embedded entry of a
// testdata/local vector.
func localEntry(t *testing.T, name string) (*cms.Parsed, *protorekor.TransparencyLogEntry) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("../../testdata/local", name))
	if err != nil {
		t.Fatal(err)
	}
	_, sig, err := gitobj.Split(strings.TrimPrefix(filepath.Ext(name), "."), raw)
	if err != nil {
		t.Fatal(err)
	}
	p, err := cms.Parse(sig)
	if err != nil {
		t.Fatal(err)
	}
	var octets []byte
	if _, err := asn1.Unmarshal(p.UnsignedAttribute(OIDTransparencyLogEntry), &octets); err != nil {
		t.Fatal(err)
	}
	tle, err := DecodeEntry(octets)
	if err != nil {
		t.Fatal(err)
	}
	return p, tle
}

// TestHashedRekordV002 rebuilds the bodies of real Rekor v2 entries (the
// local stack's rekor-tiles) byte for byte, and their leaf hash is the one
// rekor-tiles' own ToEntryHash computes.
func TestHashedRekordV002(t *testing.T) {
	for _, name := range []string{"rekor2-tsa.commit", "rekor2-tsa.tag"} {
		p, tle := localEntry(t, name)
		attrs, err := p.SignedAttributes()
		if err != nil {
			t.Fatal(err)
		}
		digest := sha256.Sum256(attrs)
		body, err := HashedRekordV002(digest[:], p.Signer.Signature, p.Cert)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(body, tle.CanonicalizedBody) {
			t.Errorf("%s: rebuilt body\n%s\nthe log's\n%s", name, body, tle.CanonicalizedBody)
		}
		want, err := hashedrekord.ToEntryHash(digest[:], &rekortilespb.Signature{
			Content: p.Signer.Signature,
			Verifier: &rekortilespb.Verifier{
				Verifier:   &rekortilespb.Verifier_X509Certificate{X509Certificate: &protocommon.X509Certificate{RawBytes: p.Cert.Raw}},
				KeyDetails: protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256,
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := rfc6962.DefaultHasher.HashLeaf(body); !bytes.Equal(got, want) {
			t.Errorf("%s: leaf hash %x, rekor-tiles computes %x", name, got, want)
		}
	}
	if _, err := HashedRekordV002(make([]byte, 31), []byte{1}, nil); err == nil {
		t.Error("a short digest and no certificate made a body")
	}
}

// TestCheckBinding: each unsigned field of a real entry of each log
// version, changed alone, is refused with its name in the error.
func TestCheckBinding(t *testing.T) {
	type entry = protorekor.TransparencyLogEntry
	for _, vec := range []struct {
		name  string
		cases map[string]func(*entry)
	}{
		{"offline.commit", map[string]func(*entry){
			"tree_size":         func(e *entry) { e.InclusionProof.TreeSize++ },
			"root_hash":         func(e *entry) { e.InclusionProof.RootHash = bytes.Repeat([]byte{1}, 32) },
			"inclusion_promise": func(e *entry) { e.InclusionPromise = nil },
			"past the entry's":  func(e *entry) { e.LogIndex = e.InclusionProof.LogIndex - 1 },
			"outside its tree":  func(e *entry) { e.InclusionProof.LogIndex = e.InclusionProof.TreeSize },
			"inclusion proof":   func(e *entry) { e.InclusionProof = nil },
			"hashedrekord version": func(e *entry) {
				e.KindVersion.Version = "0.0.3"
			},
			"checkpoint size": func(e *entry) {
				e.InclusionProof.Checkpoint.Envelope = strings.Replace(e.InclusionProof.Checkpoint.Envelope, "\n", "\n0", 1)
			},
		}},
		{"rekor2-tsa.commit", map[string]func(*entry){
			"integrated_time":   func(e *entry) { e.IntegratedTime = 1 },
			"log_index":         func(e *entry) { e.LogIndex++ },
			"inclusion_promise": func(e *entry) { e.InclusionPromise = &protorekor.InclusionPromise{} },
			"tree_size":         func(e *entry) { e.InclusionProof.TreeSize-- },
		}},
	} {
		_, tle := localEntry(t, vec.name)
		if err := CheckBinding(tle); err != nil {
			t.Fatalf("%s as it is: %v", vec.name, err)
		}
		for field, edit := range vec.cases {
			c := proto.Clone(tle).(*entry)
			edit(c)
			if err := CheckBinding(c); err == nil || !strings.Contains(err.Error(), field) {
				t.Errorf("%s, %s changed: %v", vec.name, field, err)
			}
		}
	}
}

func TestParseCheckpoint(t *testing.T) {
	root := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	cp, err := ParseCheckpoint("log.example - 1\n12\n" + root + "\nextra\n\n\u2014 log.example AAAA\n")
	if err != nil || cp.Origin != "log.example - 1" || cp.Size != 12 || len(cp.RootHash) != 32 {
		t.Fatalf("%+v %v", cp, err)
	}
	for _, bad := range []string{
		"log\n12\n" + root + "\n",         // not a signed note
		"log\n012\n" + root + "\n\nsig\n", // non-canonical size
		"log\n+12\n" + root + "\n\nsig\n",
		"log\n12\nAAAA\n\nsig\n",                                         // short hash
		"log\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n\nsig\n", // non-canonical base64
		"\n12\n" + root + "\n\nsig\n",                                    // no origin
		"log\n12\n\nsig\n",
	} {
		if _, err := ParseCheckpoint(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// FuzzCheckBinding: any entry bytes that decode are judged without a
// panic, and one that passes has a proof whose size and root hash are its
// checkpoint's.
func FuzzCheckBinding(f *testing.F) {
	for _, name := range []string{"offline.commit", "rekor2-tsa.tag"} {
		raw, err := os.ReadFile(filepath.Join("../../testdata/local", name))
		if err != nil {
			f.Fatal(err)
		}
		_, sig, _ := gitobj.Split(strings.TrimPrefix(filepath.Ext(name), "."), raw)
		p, err := cms.Parse(sig)
		if err != nil {
			f.Fatal(err)
		}
		var octets []byte
		asn1.Unmarshal(p.UnsignedAttribute(OIDTransparencyLogEntry), &octets)
		f.Add(octets)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var tle protorekor.TransparencyLogEntry
		if proto.Unmarshal(b, &tle) != nil {
			return
		}
		if CheckBinding(&tle) != nil {
			return
		}
		cp, err := ParseCheckpoint(tle.InclusionProof.Checkpoint.Envelope)
		if err != nil || uint64(tle.InclusionProof.TreeSize) != cp.Size || !bytes.Equal(tle.InclusionProof.RootHash, cp.RootHash) {
			t.Fatalf("accepted an entry whose proof is not its checkpoint's: %v", err)
		}
	})
}
