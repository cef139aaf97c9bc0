package attest

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gitsign-dev/gitsign/internal/dsse"
	"github.com/gitsign-dev/gitsign/internal/tsa"
	"github.com/gitsign-dev/gitsign/verify"
)

// BundleMediaType is the media type of the Sigstore bundle whose
// verification material a .sig file carries.
const BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// MaxSigSize bounds a .sig file: the statement, the certificate, the log
// entry and a timestamp.
const MaxSigSize = MaxPredicateSize*4/3 + 256<<10

// sigFile is the JSON of a .sig file: the reference's DSSE envelope, then
// the bundle fields.
type sigFile struct {
	dsse.JSON
	MediaType            string          `json:"mediaType,omitempty"`
	VerificationMaterial json.RawMessage `json:"verificationMaterial,omitempty"`
}

// Signed is what a .sig file holds.
type Signed struct {
	Envelope verify.Envelope
	// Material reports that the file carries verification material; the
	// reference's files do not, and cannot be verified offline.
	Material bool
}

// ErrNoMaterial: a .sig file holds an envelope without its certificate
// and log entry (the reference implementation writes them so).
var ErrNoMaterial = errors.New("the envelope carries no certificate or log entry (sigstore/gitsign's attest keeps them only in Rekor), so it cannot be verified offline")

// EncodeSig returns the .sig file for a signed envelope: envelopeJSON
// (the envelope as signed and logged), followed by the bundle's media
// type and verification material: cert, entry (with its body) and the
// timestamp token, when there is one.
func EncodeSig(envelopeJSON []byte, cert *x509.Certificate, entry *protorekor.TransparencyLogEntry, timestamp []byte) ([]byte, error) {
	var f sigFile
	if err := json.Unmarshal(envelopeJSON, &f.JSON); err != nil {
		return nil, fmt.Errorf("attestation envelope: %w", err)
	}
	vm := &protobundle.VerificationMaterial{
		Content:     &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: cert.Raw}},
		TlogEntries: []*protorekor.TransparencyLogEntry{entry},
	}
	if timestamp != nil {
		vm.TimestampVerificationData = &protobundle.TimestampVerificationData{
			Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: tsa.Response(timestamp)}},
		}
	}
	raw, err := protojson.Marshal(vm)
	if err != nil {
		return nil, err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return nil, err
	}
	f.MediaType, f.VerificationMaterial = BundleMediaType, compact.Bytes()
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// ParseSig reads a .sig file, at most MaxSigSize bytes: a DSSE envelope
// with one signature, of an in-toto statement, and the verification
// material, which must hold exactly the certificate, one log entry and
// at most one timestamp. A file without material (the reference's) is
// returned with Material false.
func ParseSig(b []byte) (*Signed, error) {
	if len(b) > MaxSigSize {
		return nil, fmt.Errorf("signature file is %d bytes, more than the %d allowed", len(b), MaxSigSize)
	}
	if err := checkJSON(b); err != nil {
		return nil, fmt.Errorf("signature file: %w", err)
	}
	var f sigFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("signature file is not a DSSE envelope: %w", err)
	}
	if dec.More() {
		return nil, errors.New("signature file holds more than one JSON value")
	}
	if f.PayloadType != dsse.PayloadTypeInToto {
		return nil, fmt.Errorf("envelope payload type is %q, want %s", f.PayloadType, dsse.PayloadTypeInToto)
	}
	if len(f.Signatures) != 1 {
		return nil, fmt.Errorf("envelope has %d signatures, want 1", len(f.Signatures))
	}
	s := &Signed{}
	var err error
	if s.Envelope.Payload, err = canonicalBase64(f.Payload); err != nil {
		return nil, fmt.Errorf("envelope payload: %w", err)
	}
	if s.Envelope.Signature, err = canonicalBase64(f.Signatures[0].Sig); err != nil || len(s.Envelope.Signature) == 0 {
		return nil, errors.New("envelope signature is not canonical base64")
	}
	s.Envelope.PayloadType = f.PayloadType
	if f.VerificationMaterial == nil && f.MediaType == "" {
		return s, nil
	}
	if f.MediaType != BundleMediaType {
		return nil, fmt.Errorf("signature file media type is %q, want %s", f.MediaType, BundleMediaType)
	}
	var vm protobundle.VerificationMaterial
	if err := (protojson.UnmarshalOptions{RecursionLimit: 16}).Unmarshal(f.VerificationMaterial, &vm); err != nil {
		return nil, fmt.Errorf("verification material: %w", err)
	}
	if err := s.material(&vm); err != nil {
		return nil, err
	}
	s.Material = true
	return s, nil
}

// material reads the certificate, the one log entry and the timestamp.
func (s *Signed) material(vm *protobundle.VerificationMaterial) error {
	c, ok := vm.GetContent().(*protobundle.VerificationMaterial_Certificate)
	if !ok {
		return errors.New("verification material: want a certificate")
	}
	cert, err := x509.ParseCertificate(c.Certificate.GetRawBytes())
	if err != nil {
		return fmt.Errorf("verification material: certificate: %w", err)
	}
	if len(vm.GetTlogEntries()) != 1 {
		return fmt.Errorf("verification material: %d log entries, want 1", len(vm.GetTlogEntries()))
	}
	stamps := vm.GetTimestampVerificationData().GetRfc3161Timestamps()
	switch len(stamps) {
	case 0:
	case 1:
		if s.Envelope.Timestamp, err = tsa.TokenOf(stamps[0].GetSignedTimestamp()); err != nil {
			return fmt.Errorf("verification material: %w", err)
		}
	default:
		return fmt.Errorf("verification material: %d timestamps, want at most 1", len(stamps))
	}
	s.Envelope.Cert, s.Envelope.Entry = cert, vm.GetTlogEntries()[0]
	return nil
}

// canonicalBase64 decodes standard base64 and refuses other spellings
// of the same bytes.
func canonicalBase64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || base64.StdEncoding.EncodeToString(b) != s {
		return nil, errors.New("not canonical base64")
	}
	return b, nil
}

// Bundle returns the Sigstore bundle (v0.3 JSON) of a .sig file that
// carries verification material, for verifiers that read bundles.
func Bundle(sig []byte) ([]byte, error) {
	var f sigFile
	if err := json.Unmarshal(sig, &f); err != nil {
		return nil, fmt.Errorf("signature file: %w", err)
	}
	if f.VerificationMaterial == nil {
		return nil, ErrNoMaterial
	}
	return json.Marshal(struct {
		MediaType            string          `json:"mediaType"`
		VerificationMaterial json.RawMessage `json:"verificationMaterial"`
		DSSEEnvelope         dsse.JSON       `json:"dsseEnvelope"`
	}{f.MediaType, f.VerificationMaterial, f.JSON})
}
