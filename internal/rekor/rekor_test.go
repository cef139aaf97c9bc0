package rekor

import (
	"bytes"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/gitobj"
)

const realworld = "../../testdata/realworld"

// TestRealEntriesRebuild takes the entries the reference embedded in real
// public-good signatures, rebuilds each hashedrekord body with
// HashedRekordV001 and checks the log's signed entry timestamp over it:
// the SET only verifies if our body is byte for byte the log's.
func TestRealEntriesRebuild(t *testing.T) {
	tr, err := root.NewTrustedRootFromPath("../../verify/trusted_root.public-good.json")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(realworld, "commits", "*.commit"))
	if len(files) == 0 {
		t.Fatal("no real-world vectors")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".commit")
		sig, octets := realEntry(t, f)
		si, cert := sig.Signer, sig.Cert
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
		if checkCheckpointForm(tle.InclusionProof.Checkpoint.Envelope) != nil {
			return // refused when embedded: the signer's self-check reports it
		}
		back, err := DecodeEntry(b)
		if err != nil || back.LogIndex != tle.LogIndex || back.IntegratedTime != tle.IntegratedTime {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// TestCheckpointForm: the parts of a checkpoint its signature does not
// cover (the signer's name, extra signature lines, the base64 spelling)
// cannot be changed. The real checkpoint comes from a public-good entry.
func TestCheckpointForm(t *testing.T) {
	_, octets := realEntry(t, filepath.Join(realworld, "commits", "7550db4cf96b9d2fd7e588ae9591b383b0130b5f.commit"))
	tle, err := DecodeEntry(octets)
	if err != nil {
		t.Fatal(err)
	}
	good := tle.InclusionProof.Checkpoint.Envelope
	if err := checkCheckpointForm(good); err != nil {
		t.Fatalf("the real checkpoint: %v", err)
	}
	body, sigLine, _ := strings.Cut(good, "\n\n")
	b64 := sigLine[strings.LastIndex(sigLine, " ")+1 : len(sigLine)-1]
	raw, _ := base64.StdEncoding.DecodeString(b64)
	// Base64 whose unused low bits are set decodes to the same bytes.
	i := len(strings.TrimRight(b64, "=")) - 1 // the character with unused bits
	if i == len(b64)-1 {
		t.Fatal("test setup: the signature's base64 has no padding")
	}
	sloppy := b64[:i] + string(base64Alphabet[strings.IndexByte(base64Alphabet, b64[i])|1]) + b64[i+1:]
	if d, err := base64.StdEncoding.DecodeString(sloppy); err != nil || !bytes.Equal(d, raw) || sloppy == b64 {
		t.Fatalf("test setup: %q does not decode to the same signature (%v)", sloppy, err)
	}
	for name, cp := range map[string]string{
		"renamed signer":         strings.Replace(good, "\u2014 rekor.sigstore.dev ", "\u2014 rekor9sigstore.dev ", 1),
		"another signature line": good + "\u2014 witness.example AAAAAAAA\n",
		"non-canonical base64":   strings.Replace(good, b64, sloppy, 1),
		"no signature":           body + "\n\n",
		"text after the note":    good + "x",
		"hyphen instead of dash": strings.Replace(good, "\u2014", "-", 1),
	} {
		if err := checkCheckpointForm(cp); err == nil {
			t.Errorf("%s: accepted", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
		edited := proto.Clone(tle).(*protorekor.TransparencyLogEntry)
		edited.InclusionProof.Checkpoint.Envelope = cp
		b, _ := EncodeEntry(edited)
		if _, err := DecodeEntry(b); err == nil {
			t.Errorf("%s: DecodeEntry accepted it", name)
		}
	}
}

const base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

func FuzzDecodeEntry(f *testing.F) {
	f.Add([]byte{0x08, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		tle, err := DecodeEntry(b)
		if err != nil {
			return
		}
		// Property: only the canonical encoding of an entry is accepted.
		again, err := EncodeEntry(tle)
		if err != nil {
			t.Fatalf("a decoded entry does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("accepted %x, whose canonical form is %x", b, again)
		}
	})
}

// TestDecodeEntryStrict re-encodes a real embedded entry in ways protobuf
// allows; each must be refused, or anyone could change a signed commit's
// id and keep its signature good.
func TestDecodeEntryStrict(t *testing.T) {
	_, good := realEntry(t, filepath.Join(realworld, "commits", "fe1e62346d3c346a343d089e8b4c3fb57716bc94.commit"))
	tle, err := DecodeEntry(good)
	if err != nil {
		t.Fatalf("the real entry: %v", err)
	}
	withBody := proto.Clone(tle).(*protorekor.TransparencyLogEntry)
	withBody.CanonicalizedBody = []byte("{}")
	bodyBytes, _ := proto.MarshalOptions{Deterministic: true}.Marshal(withBody)
	// Field 1 (log_index) written again at the end: protobuf keeps the last.
	again := protowire.AppendTag(append([]byte{}, good...), 1, protowire.VarintType)
	again = protowire.AppendVarint(again, uint64(tle.LogIndex))
	// An explicit zero for a field proto3 leaves out.
	zero := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 0)
	zeroEntry := proto.Clone(tle).(*protorekor.TransparencyLogEntry)
	zeroEntry.LogIndex = 0
	zeroBytes, _ := proto.MarshalOptions{Deterministic: true}.Marshal(zeroEntry)
	for name, b := range map[string][]byte{
		"an unknown field":           protowire.AppendVarint(protowire.AppendTag(append([]byte{}, good...), 99, protowire.VarintType), 1),
		"a field repeated":           again,
		"an explicit default value":  append(zero, zeroBytes...),
		"a v0.0.1 body left in":      bodyBytes,
		"trailing bytes of a length": append(append([]byte{}, good...), 0x0a),
		"fields out of order":        reorder(t, good),
	} {
		if _, err := DecodeEntry(b); err == nil {
			t.Errorf("%s: accepted", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// realEntry reads a real-world commit's signature and its embedded entry.
func realEntry(t *testing.T, path string) (*cms.Parsed, []byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
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
	rv := sig.UnsignedAttribute(OIDTransparencyLogEntry)
	if rv == nil {
		t.Fatalf("%s: no embedded entry", filepath.Base(path))
	}
	var octets []byte
	if _, err := asn1.Unmarshal(rv, &octets); err != nil {
		t.Fatal(err)
	}
	return sig, octets
}

// reorder moves an entry's first field to its end.
func reorder(t *testing.T, b []byte) []byte {
	t.Helper()
	_, _, n := protowire.ConsumeField(b)
	if n <= 0 || n == len(b) {
		t.Fatal("cannot split the entry")
	}
	return append(append([]byte{}, b[n:]...), b[:n]...)
}
