package rekor

import (
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tlog"

	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/gitobj"
)

const realworld = "../../../shared/testdata/realworld"

// TestRealEntriesRebuild takes the entries the reference embedded in real
// public-good signatures, rebuilds each hashedrekord body with
// HashedRekordV001 and checks the log's signed entry timestamp over it:
// the SET only verifies if our body is byte for byte the log's.
func TestRealEntriesRebuild(t *testing.T) {
	tr, err := root.NewTrustedRootFromPath(filepath.Join(realworld, "trusted_root.public-good.json"))
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(realworld, "commits", "*.commit"))
	if len(files) == 0 {
		t.Fatal("no real-world vectors")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".commit")
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, sigPEM, err := gitobj.Split("commit", raw)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := cms.Parse(sigPEM)
		if err != nil {
			t.Fatal(err)
		}
		si, cert := sig.Signer, sig.Cert
		rv, err := sig.UnsignedAttribute(OIDTransparencyLogEntry)
		if err != nil || rv == nil {
			t.Fatalf("%s: no embedded entry (%v)", name, err)
		}
		var octets []byte
		if _, err := asn1.Unmarshal(rv, &octets); err != nil {
			t.Fatal(err)
		}
		tle, err := DecodeEntry(octets)
		if err != nil {
			t.Fatal(err)
		}
		// Our encoding of what we decoded is the reference's, byte for byte.
		again, err := EncodeEntry(tle)
		if err != nil || hex.EncodeToString(again) != hex.EncodeToString(octets) {
			t.Errorf("%s: re-encoding the embedded entry changed it", name)
		}
		attrs, _ := si.SignedAttrs.MarshaledForVerification()
		digest := sha256.Sum256(attrs)
		body, err := HashedRekordV001(digest[:], si.Signature, cert)
		if err != nil {
			t.Fatal(err)
		}
		tle.CanonicalizedBody = body
		entry, err := tlog.ParseTransparencyLogEntry(tle)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := tlog.VerifySET(entry, tr.RekorLogs()); err != nil {
			t.Errorf("%s: SET does not verify over our rebuilt body: %v", name, err)
		}
	}
}

func TestParseEntriesV1Rejects(t *testing.T) {
	for _, body := range []string{
		``, `[]`, `{}`, `{"a":{},"b":{}}`,
		`{"u":{"body":"e30=","integratedTime":1,"logID":"00","logIndex":1}}`, // no verification
		`{"u":{"body":"e30=","integratedTime":1,"logID":"zz","logIndex":1,"verification":{"signedEntryTimestamp":"AA==","inclusionProof":{"logIndex":1,"treeSize":2,"rootHash":"00","hashes":[],"checkpoint":"c"}}}}`,
	} {
		if _, err := parseEntriesV1([]byte(body)); err == nil {
			t.Errorf("accepted %q", body)
		}
	}
}

func FuzzParseEntriesV1(f *testing.F) {
	f.Add([]byte(`{"u":{"body":"eyJraW5kIjoiaGFzaGVkcmVrb3JkIiwiYXBpVmVyc2lvbiI6IjAuMC4xIn0=","integratedTime":1,"logID":"00","logIndex":1,"verification":{"signedEntryTimestamp":"AA==","inclusionProof":{"logIndex":1,"treeSize":2,"rootHash":"00","hashes":["00"],"checkpoint":"c"}}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		tle, err := parseEntriesV1(body)
		if err != nil {
			return
		}
		// Property: whatever parses has what an embedded entry needs and
		// survives the embedding round trip.
		if tle.InclusionProof == nil || tle.InclusionPromise == nil || tle.LogId == nil || tle.KindVersion == nil {
			t.Fatal("parsed entry lacks a required part")
		}
		b, err := EncodeEntry(tle)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeEntry(b)
		if err != nil || back.LogIndex != tle.LogIndex || back.IntegratedTime != tle.IntegratedTime {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add([]byte{0x08, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		tle, err := DecodeEntry(b)
		if err != nil {
			return
		}
		if _, err := EncodeEntry(tle); err != nil {
			t.Fatalf("a decoded entry does not encode: %v", err)
		}
	})
}
