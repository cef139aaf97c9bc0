// Package rekor records signatures in a Rekor transparency log (the v1 API,
// and Rekor v2, the tile-based log) and converts between Rekor's answers and
// the TransparencyLogEntry gitsign embeds in a signature.
//
// The embedded form is the reference implementation's: a serialized
// dev.sigstore.rekor.v1.TransparencyLogEntry protobuf in the CMS unsigned
// attribute 1.3.6.1.4.1.57264.3.1 as an OCTET STRING. For hashedrekord
// v0.0.1 (Rekor v1) the canonicalized body is cleared, as the reference
// does: a verifier rebuilds it from the signature. A Rekor v2 entry
// (hashedrekord v0.0.2) keeps its body, whose canonical form is the log's
// own encoding; verifiers check the entry against the signature anyway.
package rekor

import (
	"encoding/asn1"
	"errors"
	"fmt"

	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"google.golang.org/protobuf/proto"
)

// OIDTransparencyLogEntry is the unsigned attribute that carries the entry.
var OIDTransparencyLogEntry = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 3, 1}

// maxEntrySize bounds an embedded entry; real ones are a few KiB.
const maxEntrySize = 1 << 20

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

// DecodeEntry parses an embedded entry.
func DecodeEntry(b []byte) (*protorekor.TransparencyLogEntry, error) {
	if len(b) > maxEntrySize {
		return nil, fmt.Errorf("rekor: embedded entry is %d bytes, more than the %d allowed", len(b), maxEntrySize)
	}
	var tle protorekor.TransparencyLogEntry
	if err := proto.Unmarshal(b, &tle); err != nil {
		return nil, fmt.Errorf("rekor: malformed embedded entry: %w", err)
	}
	return &tle, nil
}
