package tsa

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"

	"github.com/gitsign-dev/gitsign/internal/cms"
)

// oidTSTInfo is id-ct-TSTInfo, the content type of a timestamp token.
var oidTSTInfo = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}

// CheckTokenForm checks that a TimeStampToken embedded in a signature is
// in the one form a Sigstore timestamp authority issues, so that nobody
// but the authority can change the token's bytes (and with them the id of
// the object it is embedded in). The authority's signature covers the
// TSTInfo and the signed attributes, and nothing else: the SignedData
// version, its digestAlgorithms set, the algorithm identifiers of the
// SignerInfo, the certificates and any unsigned attributes are the
// token's framing, and verifiers (sigstore-go, through digitorus/pkcs7)
// accept many spellings of each. The form, checked field by field and then
// by re-encoding the whole token and comparing bytes:
//
//   - a DER ContentInfo holding a SignedData of version 3 (RFC 5652 for a
//     content type other than id-data) over an attached id-ct-TSTInfo, in
//     an OCTET STRING (readers take the content of any tag there);
//   - exactly one SignerInfo, of version 1, naming its certificate by
//     issuer and serial number, with no unsigned attributes;
//   - its digest algorithm SHA-256, SHA-384 or SHA-512 with parameters
//     absent, and digestAlgorithms exactly that one algorithm, byte for
//     byte;
//   - its signature algorithm ECDSA with that same hash
//     (ecdsa-with-SHA256/384/512), parameters absent: every Sigstore
//     authority signs with ECDSA; an RSA authority's token is refused;
//   - exactly one certificate, the one the SignerInfo names, and no CRLs.
//
// Every token of the Sigstore authorities (public-good, staging, and the
// timestamp-authority server of the local stack) has this form, and so
// does GitHub's; what differs between other authorities (NULL parameters,
// RSA, several certificates) is refused rather than allowed in several
// spellings. It checks form only: sigstore-go verifies the token against
// the trusted root.
//
// The caller bounds the token's size and nesting (it is part of a
// signature that cms.Parse has checked).
func CheckTokenForm(token []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("timestamp token: malformed (%v)", r)
		}
	}()
	ci, err := cms.ContentInfo(token)
	if err != nil {
		return fmt.Errorf("timestamp token: not CMS: %v", err)
	}
	sd, err := ci.SignedDataContent()
	if err != nil {
		return fmt.Errorf("timestamp token: not CMS SignedData: %v", err)
	}
	if again, err := sd.ContentInfoDER(); err != nil || !bytes.Equal(again, token) {
		return errors.New("timestamp token: not in canonical DER form (its re-encoding differs)")
	}
	if sd.Version != 3 {
		return fmt.Errorf("timestamp token: SignedData version %d, want 3", sd.Version)
	}
	if !sd.EncapContentInfo.EContentType.Equal(oidTSTInfo) {
		return fmt.Errorf("timestamp token: content type %s, want id-ct-TSTInfo", sd.EncapContentInfo.EContentType)
	}
	// The TSTInfo is signed, but not the tag around it: readers take the
	// content of whatever the explicit [0] holds.
	// (ietf-cms keeps the explicit [0] itself: the content is inside it.)
	var inner asn1.RawValue
	if rest, err := asn1.Unmarshal(sd.EncapContentInfo.EContent.Bytes, &inner); err != nil || len(rest) != 0 ||
		inner.Class != asn1.ClassUniversal || inner.Tag != asn1.TagOctetString || inner.IsCompound {
		return errors.New("timestamp token: its content (the TSTInfo) is not in an OCTET STRING")
	}
	if len(sd.SignerInfos) != 1 {
		return fmt.Errorf("timestamp token: %d signers, want 1", len(sd.SignerInfos))
	}
	si := sd.SignerInfos[0]
	if si.Version != 1 || si.SID.Class != asn1.ClassUniversal || si.SID.Tag != asn1.TagSequence {
		return fmt.Errorf("timestamp token: SignerInfo version %d, want 1 naming its certificate by issuer and serial number", si.Version)
	}
	if err := checkAlgorithms(sd.DigestAlgorithms, si.DigestAlgorithm, si.SignatureAlgorithm); err != nil {
		return fmt.Errorf("timestamp token: %v", err)
	}
	if len(si.UnsignedAttrs) != 0 {
		return fmt.Errorf("timestamp token: %d unsigned attributes, want none", len(si.UnsignedAttrs))
	}
	if sd.CRLs != nil {
		return errors.New("timestamp token: carries revocation lists")
	}
	if len(sd.Certificates) != 1 {
		return fmt.Errorf("timestamp token: carries %d certificates, want only the authority's", len(sd.Certificates))
	}
	certs, err := sd.X509Certificates()
	if err != nil {
		return fmt.Errorf("timestamp token: bad certificate: %v", err)
	}
	if _, err := si.FindCertificate(certs); err != nil {
		return errors.New("timestamp token: its certificate is not the one its signer names")
	}
	return nil
}

// The hashes a token may be made with, and the ECDSA signature algorithm
// that goes with each.
var (
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}

	ecdsaWith = map[string]asn1.ObjectIdentifier{
		oidSHA256.String(): {1, 2, 840, 10045, 4, 3, 2},
		oidSHA384.String(): {1, 2, 840, 10045, 4, 3, 3},
		oidSHA512.String(): {1, 2, 840, 10045, 4, 3, 4},
	}
)

// checkAlgorithms checks the algorithm identifiers no signature covers:
// the SignerInfo's digest (a SHA-2 hash, parameters absent), the
// SignedData's digestAlgorithms (exactly that one), and the signature
// algorithm (ECDSA with that hash, parameters absent).
func checkAlgorithms(set []pkix.AlgorithmIdentifier, digest, sig pkix.AlgorithmIdentifier) error {
	want, ok := ecdsaWith[digest.Algorithm.String()]
	if !ok || len(digest.Parameters.FullBytes) != 0 {
		return fmt.Errorf("digest algorithm %s, want SHA-256, SHA-384 or SHA-512 without parameters", describe(digest))
	}
	if len(set) != 1 || !set[0].Algorithm.Equal(digest.Algorithm) || len(set[0].Parameters.FullBytes) != 0 {
		var names []string
		for _, a := range set {
			names = append(names, describe(a))
		}
		return fmt.Errorf("digestAlgorithms {%s}, want exactly the signer's %s", strings.Join(names, ", "), describe(digest))
	}
	if !sig.Algorithm.Equal(want) || len(sig.Parameters.FullBytes) != 0 {
		return fmt.Errorf("signature algorithm %s, want %s (ECDSA with the signer's digest) without parameters", describe(sig), want)
	}
	return nil
}

// describe names an AlgorithmIdentifier for messages.
func describe(a pkix.AlgorithmIdentifier) string {
	if len(a.Parameters.FullBytes) != 0 {
		return a.Algorithm.String() + " with parameters"
	}
	return a.Algorithm.String()
}
