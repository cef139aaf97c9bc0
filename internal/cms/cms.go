// Package cms builds and reads the CMS (RFC 5652) SignedData that gitsign
// stores in git objects.
//
// It extends smimesign's ietf-cms protocol types with what gitsign needs and
// ietf-cms lacks: signing a payload given as bytes while keeping the result
// detached, exposing the exact signed-attribute bytes (the Rekor artifact)
// and the signature value (the timestamp imprint) before the SignedData is
// finished, and adding unsigned attributes after signing.
//
// The layout matches the reference implementation byte for byte: SignedData
// version 1, digest sha256, eContentType id-data with no eContent (detached),
// only the leaf certificate, one SignerInfo (version 1, issuer and serial)
// with signed attributes contentType, signingTime and messageDigest in DER
// SET order, and the signature ecdsa-with-SHA256 over the DER of that SET.
package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/github/smimesign/ietf-cms/oid"
	"github.com/github/smimesign/ietf-cms/protocol"
)

// PEMType is the armor type git recognises for x509 signatures.
const PEMType = "SIGNED MESSAGE"

var (
	oidSHA256          = oid.DigestAlgorithmSHA256
	oidECDSAWithSHA256 = oid.SignatureAlgorithmECDSAWithSHA256
)

// Signed is a SignedData with exactly one SignerInfo, under construction.
type Signed struct {
	sd *protocol.SignedData
}

// Sign signs payload with key, whose public half must be cert's, and
// returns the SignedData. Detached leaves the payload out (git always asks
// for that); otherwise it is carried as eContent. rand is the entropy for
// the signature: nil asks for a deterministic (RFC 6979) ECDSA signature,
// which only tests want.
func Sign(payload []byte, cert *x509.Certificate, key crypto.Signer, signingTime time.Time, detached bool, rand io.Reader) (*Signed, error) {
	pub, ok := key.Public().(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("cms: signing key is %T, want an ECDSA key", key.Public())
	}
	certPub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !certPub.Equal(pub) {
		return nil, errors.New("cms: certificate does not match the signing key")
	}
	if pub.Curve.Params().BitSize != 256 {
		return nil, fmt.Errorf("cms: signing key is on %s, want P-256", pub.Curve.Params().Name)
	}

	var eci protocol.EncapsulatedContentInfo
	var err error
	if detached {
		eci = protocol.EncapsulatedContentInfo{EContentType: oid.ContentTypeData}
	} else if eci, err = protocol.NewDataEncapsulatedContentInfo(payload); err != nil {
		return nil, fmt.Errorf("cms: encapsulating content: %w", err)
	}
	sd, err := protocol.NewSignedData(eci)
	if err != nil {
		return nil, fmt.Errorf("cms: %w", err)
	}
	if err := sd.AddCertificate(cert); err != nil {
		return nil, fmt.Errorf("cms: adding certificate: %w", err)
	}
	sid, err := protocol.NewIssuerAndSerialNumber(cert)
	if err != nil {
		return nil, fmt.Errorf("cms: signer identifier: %w", err)
	}

	digest := sha256.Sum256(payload)
	attrs, err := signedAttributes(eci.EContentType, signingTime, digest[:])
	if err != nil {
		return nil, err
	}
	si := protocol.SignerInfo{
		Version:            1,
		SID:                sid,
		DigestAlgorithm:    pkix.AlgorithmIdentifier{Algorithm: oidSHA256},
		SignedAttrs:        attrs,
		SignatureAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidECDSAWithSHA256},
	}
	tbs, err := si.SignedAttrs.MarshaledForSigning()
	if err != nil {
		return nil, fmt.Errorf("cms: encoding signed attributes: %w", err)
	}
	h := sha256.Sum256(tbs)
	if si.Signature, err = key.Sign(rand, h[:], crypto.SHA256); err != nil {
		return nil, fmt.Errorf("cms: signing: %w", err)
	}
	sd.DigestAlgorithms = []pkix.AlgorithmIdentifier{{Algorithm: oidSHA256}}
	sd.SignerInfos = []protocol.SignerInfo{si}
	return &Signed{sd: sd}, nil
}

func signedAttributes(contentType asn1.ObjectIdentifier, signingTime time.Time, digest []byte) (protocol.Attributes, error) {
	ct, err := protocol.NewAttribute(oid.AttributeContentType, contentType)
	if err != nil {
		return nil, fmt.Errorf("cms: contentType attribute: %w", err)
	}
	st, err := protocol.NewAttribute(oid.AttributeSigningTime, signingTime.UTC())
	if err != nil {
		return nil, fmt.Errorf("cms: signingTime attribute: %w", err)
	}
	md, err := protocol.NewAttribute(oid.AttributeMessageDigest, digest)
	if err != nil {
		return nil, fmt.Errorf("cms: messageDigest attribute: %w", err)
	}
	attrs := protocol.Attributes{ct, st, md}
	if err := sortDER(attrs); err != nil {
		return nil, err
	}
	return attrs, nil
}

// sortDER orders attributes as DER requires for a SET OF: by their encodings.
func sortDER(attrs protocol.Attributes) error {
	enc := make(map[int][]byte, len(attrs))
	for i, a := range attrs {
		der, err := asn1.Marshal(a)
		if err != nil {
			return fmt.Errorf("cms: encoding attribute %s: %w", a.Type, err)
		}
		enc[i] = der
	}
	idx := make([]int, len(attrs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return bytes.Compare(enc[idx[a]], enc[idx[b]]) < 0 })
	sorted := make(protocol.Attributes, len(attrs))
	for i, j := range idx {
		sorted[i] = attrs[j]
	}
	copy(attrs, sorted)
	return nil
}

// SignedAttributes returns the DER encoding of the signed attributes as a
// SET OF: the bytes the signature covers, and the artifact an offline-mode
// Rekor entry records.
func (s *Signed) SignedAttributes() ([]byte, error) {
	return s.sd.SignerInfos[0].SignedAttrs.MarshaledForVerification()
}

// Signature returns the SignerInfo's signature value.
func (s *Signed) Signature() []byte { return s.sd.SignerInfos[0].Signature }

// AddUnsignedAttribute adds a single-valued unsigned attribute. value is
// marshalled with encoding/asn1 ([]byte becomes an OCTET STRING; pass an
// asn1.RawValue to store an encoding as is).
func (s *Signed) AddUnsignedAttribute(typ asn1.ObjectIdentifier, value any) error {
	attr, err := protocol.NewAttribute(typ, value)
	if err != nil {
		return fmt.Errorf("cms: unsigned attribute %s: %w", typ, err)
	}
	si := &s.sd.SignerInfos[0]
	if si.UnsignedAttrs.HasAttribute(typ) {
		return fmt.Errorf("cms: unsigned attribute %s already present", typ)
	}
	si.UnsignedAttrs = append(si.UnsignedAttrs, attr)
	return sortDER(si.UnsignedAttrs)
}

// DER returns the ContentInfo wrapping the SignedData, DER encoded.
func (s *Signed) DER() ([]byte, error) {
	der, err := s.sd.ContentInfoDER()
	if err != nil {
		return nil, fmt.Errorf("cms: encoding SignedData: %w", err)
	}
	return der, nil
}

// Armor wraps a DER SignedData in the PEM block git stores.
func Armor(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: PEMType, Bytes: der})
}

// Dearmor returns the DER inside a SIGNED MESSAGE PEM block.
func Dearmor(armored []byte) ([]byte, error) {
	b, _ := pem.Decode(armored)
	if b == nil || b.Type != PEMType {
		return nil, errors.New("cms: not a SIGNED MESSAGE PEM block")
	}
	return b.Bytes, nil
}
