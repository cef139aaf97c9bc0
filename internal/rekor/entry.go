// Package rekor records signatures in a Rekor transparency log (the v1 API,
// and Rekor v2, the tile-based log) and converts between Rekor's answers and
// the TransparencyLogEntry gitsign embeds in a signature.
//
// The embedded form is the reference implementation's: a serialized
// dev.sigstore.rekor.v1.TransparencyLogEntry protobuf in the CMS unsigned
// attribute 1.3.6.1.4.1.57264.3.1 as an OCTET STRING. For hashedrekord
// v0.0.1 (Rekor v1) the canonicalized body is cleared, as the reference
// does: a verifier rebuilds it from the signature. A Rekor v2 entry
// (hashedrekord v0.0.2) keeps its body, which a verifier also rebuilds
// (HashedRekordV002) and compares byte for byte. CheckBinding checks the
// entry's other unsigned fields against the signed ones.
package rekor

import (
	"bytes"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"google.golang.org/protobuf/proto"
)

// OIDTransparencyLogEntry is the unsigned attribute that carries the entry.
var OIDTransparencyLogEntry = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 3, 1}

// maxEntrySize bounds an embedded entry; real ones are 0.4-2 KiB. It is
// also bounded by the signature that carries it (cms.MaxSignatureSize).
const maxEntrySize = 1 << 20

// maxEntryDepth bounds message nesting; a TransparencyLogEntry nests 3 deep.
const maxEntryDepth = 8

// EncodeEntry serializes tle for embedding.
func EncodeEntry(tle *protorekor.TransparencyLogEntry) ([]byte, error) {
	if tle == nil {
		return nil, errors.New("rekor: no entry to embed")
	}
	c := proto.Clone(tle).(*protorekor.TransparencyLogEntry)
	if c.KindVersion.GetVersion() == "0.0.1" {
		c.CanonicalizedBody = nil
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("rekor: encoding entry: %w", err)
	}
	return b, nil
}

// DecodeEntry parses an embedded entry. The entry must be exactly what
// EncodeEntry makes of it (deterministic protobuf, no unknown fields, no
// default values spelled out, the body cleared for hashedrekord v0.0.1),
// so that nobody can re-encode an entry and give a signed object another
// id. Every entry the reference implementation and gitsign embed has this
// form.
func DecodeEntry(b []byte) (*protorekor.TransparencyLogEntry, error) {
	if len(b) > maxEntrySize {
		return nil, fmt.Errorf("rekor: embedded entry is %d bytes, more than the %d allowed", len(b), maxEntrySize)
	}
	var tle protorekor.TransparencyLogEntry
	opts := proto.UnmarshalOptions{DiscardUnknown: true, RecursionLimit: maxEntryDepth}
	if err := opts.Unmarshal(b, &tle); err != nil {
		return nil, fmt.Errorf("rekor: malformed embedded entry: %w", err)
	}
	canonical, err := EncodeEntry(&tle)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(canonical, b) {
		return nil, errors.New("rekor: embedded entry is not in canonical form (unknown fields, a field out of order or repeated, or a hashedrekord v0.0.1 body that should have been left out)")
	}
	if err := CheckCheckpointForm(&tle); err != nil {
		return nil, err
	}
	return &tle, nil
}

// CheckCheckpointForm checks the parts of an entry's checkpoint that its
// signature does not cover (see checkCheckpointForm); an entry without a
// checkpoint passes. DecodeEntry applies it; entries read another way
// (an attestation's verification material) need it too.
func CheckCheckpointForm(tle *protorekor.TransparencyLogEntry) error {
	if cp := tle.GetInclusionProof().GetCheckpoint().GetEnvelope(); cp != "" {
		return checkCheckpointForm(cp)
	}
	return nil
}

// checkCheckpointForm checks the parts of a checkpoint (a signed note)
// that its signature does not cover: there is exactly one signature line,
// it names the log the way Rekor does (the first word of the origin line:
// "rekor.sigstore.dev - 1193050959916656506" is signed by
// "rekor.sigstore.dev"), and its key hint and signature are in canonical
// base64. Otherwise anyone could rename the signer, add signature lines or
// re-encode the base64 and still have a checkpoint that verifies.
func checkCheckpointForm(note string) error {
	body, sigs, ok := strings.Cut(note, "\n\n")
	if !ok || !strings.HasSuffix(sigs, "\n") {
		return errors.New("rekor: checkpoint is not a signed note")
	}
	origin, _, _ := strings.Cut(body, "\n")
	lines := strings.Split(strings.TrimSuffix(sigs, "\n"), "\n")
	if len(lines) != 1 {
		return fmt.Errorf("rekor: checkpoint carries %d signature lines, want 1", len(lines))
	}
	name, sig, ok := strings.Cut(strings.TrimPrefix(lines[0], "\u2014 "), " ")
	if !strings.HasPrefix(lines[0], "\u2014 ") || !ok {
		return errors.New("rekor: checkpoint signature line is malformed")
	}
	if want, _, _ := strings.Cut(origin, " "); name != want {
		return fmt.Errorf("rekor: checkpoint is signed by %q, but its log is %q", name, want)
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(raw) < 5 || base64.StdEncoding.EncodeToString(raw) != sig {
		return errors.New("rekor: checkpoint signature is not in canonical base64")
	}
	return nil
}
