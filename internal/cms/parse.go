package cms

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	"github.com/github/smimesign/ietf-cms/oid"
	"github.com/github/smimesign/ietf-cms/protocol"
)

// Parsed is a signature read back: the SignedData, its one signer, and the
// values of its signed attributes.
type Parsed struct {
	SignedData *protocol.SignedData
	Signer     protocol.SignerInfo
	// Cert is the certificate the SignerInfo names by issuer and serial.
	Cert *x509.Certificate
	// MessageDigest is the SHA-256 the signer claims for the signed bytes.
	MessageDigest []byte
	// SigningTime is the signer's own (unproven) claim of when it signed.
	SigningTime time.Time
}

// ParseError is a signature that gitsign refuses to read, with the reason.
type ParseError struct {
	Reason string
}

func (e *ParseError) Error() string { return "signature: " + e.Reason }

func refuse(format string, args ...any) error {
	return &ParseError{Reason: fmt.Sprintf(format, args...)}
}

// Parse reads a signature exactly as git stores it and gitsign (like the
// reference implementation) writes it, refusing every other encoding of
// the same signature so that nobody but the signer can produce a second,
// different object that carries a good signature:
//
//   - at most MaxSignatureSize bytes: one SIGNED MESSAGE PEM block with no
//     headers, 64-column lines and one final newline, nothing around it;
//   - inside, one ContentInfo in strict DER (checkDER: definite minimal
//     lengths, nesting at most 32 deep), nothing after it, whose
//     re-encoding is byte for byte the input;
//   - a SignedData of version 1 with SHA-256 as its only digest algorithm,
//     detached id-data content, exactly one certificate, no CRLs and
//     exactly one SignerInfo;
//   - the SignerInfo of version 1 naming that certificate by issuer and
//     serial, digest SHA-256, signature ecdsa-with-SHA256 (no parameters),
//     signed attributes exactly contentType, signingTime and messageDigest
//     (each once, with one value) and each unsigned attribute at most once
//     with one value. Which unsigned attributes may appear is the caller's
//     decision (see UnsignedAttribute).
//
// Every real signature of the public instance and every mode gitsign signs
// in has this form; the reasons for each rule are in docs/security.md.
func Parse(armored []byte) (*Parsed, error) {
	if len(armored) > MaxSignatureSize {
		return nil, refuse("%d bytes, more than the %d allowed", len(armored), MaxSignatureSize)
	}
	der, err := dearmorStrict(armored)
	if err != nil {
		return nil, err
	}
	return ParseDER(der)
}

// ParseDER is Parse for a DER ContentInfo without its armor.
func ParseDER(der []byte) (*Parsed, error) {
	if len(der) > MaxSignatureSize {
		return nil, refuse("%d bytes, more than the %d allowed", len(der), MaxSignatureSize)
	}
	if err := checkDER(der); err != nil {
		return nil, refuse("%v", err)
	}
	ci, err := ContentInfo(der)
	if err != nil {
		return nil, refuse("not CMS: %v", err)
	}
	sd, err := ci.SignedDataContent()
	if err != nil {
		return nil, refuse("not CMS SignedData: %v", err)
	}
	if again, err := sd.ContentInfoDER(); err != nil || !bytes.Equal(again, der) {
		return nil, refuse("not in canonical DER form (its re-encoding differs)")
	}
	p := &Parsed{SignedData: sd}
	if err := p.checkSignedData(); err != nil {
		return nil, err
	}
	if err := p.checkSignerInfo(); err != nil {
		return nil, err
	}
	if err := p.readSignedAttributes(); err != nil {
		return nil, err
	}
	if err := checkUnsignedAttributes(p.Signer.UnsignedAttrs); err != nil {
		return nil, err
	}
	return p, nil
}

// ForeignKind names the kind of a signature made by another program git
// can sign with ("an OpenPGP signature", "an SSH signature"), or returns
// "".
func ForeignKind(armored []byte) string {
	switch {
	case bytes.HasPrefix(armored, []byte("-----BEGIN PGP SIGNATURE-----")), bytes.HasPrefix(armored, []byte("-----BEGIN PGP MESSAGE-----")):
		return "an OpenPGP signature"
	case bytes.HasPrefix(armored, []byte("-----BEGIN SSH SIGNATURE-----")):
		return "an SSH signature"
	}
	return ""
}

// dearmorStrict returns the DER inside armored, which must be exactly what
// Armor makes of it.
func dearmorStrict(armored []byte) ([]byte, error) {
	if !bytes.HasPrefix(armored, []byte("-----BEGIN "+PEMType+"-----\n")) {
		if kind := ForeignKind(armored); kind != "" {
			return nil, refuse("%s, not a gitsign signature (X.509 CMS)", kind)
		}
		return nil, refuse("does not start with a -----BEGIN %s----- line", PEMType)
	}
	block, rest := pem.Decode(armored)
	if block == nil || block.Type != PEMType {
		return nil, refuse("malformed PEM armor")
	}
	if len(rest) != 0 {
		return nil, refuse("%d bytes after the PEM armor", len(rest))
	}
	if !bytes.Equal(Armor(block.Bytes), armored) {
		return nil, refuse("PEM armor is not in canonical form (headers, line length or whitespace differ)")
	}
	return block.Bytes, nil
}

func (p *Parsed) checkSignedData() error {
	sd := p.SignedData
	if sd.Version != 1 {
		return refuse("SignedData version %d, want 1", sd.Version)
	}
	if len(sd.DigestAlgorithms) != 1 || !isBare(sd.DigestAlgorithms[0].Algorithm, sd.DigestAlgorithms[0].Parameters, oidSHA256) {
		return refuse("digest algorithms %s, want only SHA-256", algorithms(sd.DigestAlgorithms...))
	}
	if !sd.EncapContentInfo.EContentType.Equal(oid.ContentTypeData) {
		return refuse("content type %s, want id-data", sd.EncapContentInfo.EContentType)
	}
	if len(sd.EncapContentInfo.EContent.FullBytes) != 0 {
		return refuse("carries content of its own (attached); git signatures are detached")
	}
	if sd.CRLs != nil {
		return refuse("carries revocation lists")
	}
	switch len(sd.Certificates) {
	case 0:
		return refuse("carries no certificate")
	case 1:
	default:
		return refuse("carries %d certificates, want only the signer's", len(sd.Certificates))
	}
	certs, err := sd.X509Certificates()
	if err != nil {
		return refuse("bad certificate: %v", err)
	}
	p.Cert = certs[0]
	if len(sd.SignerInfos) != 1 {
		return refuse("%d signers, want exactly 1", len(sd.SignerInfos))
	}
	p.Signer = sd.SignerInfos[0]
	return nil
}

func (p *Parsed) checkSignerInfo() error {
	si := p.Signer
	if si.SID.Class == asn1.ClassContextSpecific && si.SID.Tag == 0 {
		return refuse("the signer is named by subject key identifier; gitsign signatures name its issuer and serial number")
	}
	if si.Version != 1 {
		return refuse("SignerInfo version %d, want 1", si.Version)
	}
	sid, err := protocol.NewIssuerAndSerialNumber(p.Cert)
	if err != nil {
		return refuse("certificate: %v", err)
	}
	if !bytes.Equal(si.SID.FullBytes, sid.FullBytes) {
		return refuse("the signer identifier does not name the certificate in the signature")
	}
	if !isBare(si.DigestAlgorithm.Algorithm, si.DigestAlgorithm.Parameters, oidSHA256) {
		return refuse("signer digest algorithm %s, want SHA-256", algorithms(si.DigestAlgorithm))
	}
	if !isBare(si.SignatureAlgorithm.Algorithm, si.SignatureAlgorithm.Parameters, oidECDSAWithSHA256) {
		return refuse("signature algorithm %s, want ecdsa-with-SHA256", algorithms(si.SignatureAlgorithm))
	}
	return nil
}

// readSignedAttributes checks that the signed attributes are exactly
// contentType (id-data), signingTime and messageDigest (32 bytes), each
// once with one value, in DER order, and keeps their values.
func (p *Parsed) readSignedAttributes() error {
	attrs := p.Signer.SignedAttrs
	if len(attrs) == 0 {
		return refuse("no signed attributes")
	}
	values := map[string]asn1.RawValue{}
	for _, a := range attrs {
		name, known := signedAttributeNames[a.Type.String()]
		if !known {
			return refuse("signed attribute %s is not one gitsign signatures carry", a.Type)
		}
		if _, dup := values[name]; dup {
			return refuse("signed attribute %s appears more than once", name)
		}
		v, err := onlyValue(a)
		if err != nil {
			return refuse("signed attribute %s: %v", name, err)
		}
		values[name] = v
	}
	for _, name := range []string{"contentType", "signingTime", "messageDigest"} {
		if _, ok := values[name]; !ok {
			return refuse("no %s signed attribute", name)
		}
	}
	var ct asn1.ObjectIdentifier
	if err := unmarshalExactly(values["contentType"], &ct); err != nil {
		return refuse("signed attribute contentType is not an OBJECT IDENTIFIER")
	}
	if !ct.Equal(oid.ContentTypeData) {
		return refuse("signed attribute contentType is %s, want id-data", ct)
	}
	md := values["messageDigest"]
	if md.Class != asn1.ClassUniversal || md.Tag != asn1.TagOctetString || md.IsCompound {
		return refuse("signed attribute messageDigest is not an OCTET STRING")
	}
	if len(md.Bytes) != 32 {
		return refuse("signed attribute messageDigest is %d bytes, want a 32-byte SHA-256", len(md.Bytes))
	}
	p.MessageDigest = md.Bytes
	st := values["signingTime"]
	if st.Class != asn1.ClassUniversal || (st.Tag != asn1.TagUTCTime && st.Tag != asn1.TagGeneralizedTime) {
		return refuse("signed attribute signingTime is not a time")
	}
	if err := unmarshalExactly(st, &p.SigningTime); err != nil {
		return refuse("signed attribute signingTime: %v", err)
	}
	enc, err := p.SignedAttributes()
	if err != nil {
		return refuse("signed attributes do not encode: %v", err)
	}
	if err := checkDER(enc); err != nil {
		return refuse("signed attributes are not in DER order")
	}
	return nil
}

var signedAttributeNames = map[string]string{
	oid.AttributeContentType.String():   "contentType",
	oid.AttributeSigningTime.String():   "signingTime",
	oid.AttributeMessageDigest.String(): "messageDigest",
}

// checkUnsignedAttributes allows each unsigned attribute once, with one
// value, in DER order (the round trip in ParseDER sorts them).
func checkUnsignedAttributes(attrs protocol.Attributes) error {
	seen := map[string]bool{}
	for _, a := range attrs {
		if seen[a.Type.String()] {
			return refuse("unsigned attribute %s appears more than once", a.Type)
		}
		seen[a.Type.String()] = true
		if _, err := onlyValue(a); err != nil {
			return refuse("unsigned attribute %s: %v", a.Type, err)
		}
	}
	return nil
}

// onlyValue returns the single value of an attribute.
func onlyValue(a protocol.Attribute) (asn1.RawValue, error) {
	set, err := a.Value()
	if err != nil {
		return asn1.RawValue{}, fmt.Errorf("malformed values")
	}
	if len(set.Elements) != 1 {
		return asn1.RawValue{}, fmt.Errorf("%d values, want 1", len(set.Elements))
	}
	return set.Elements[0], nil
}

func unmarshalExactly(v asn1.RawValue, out any) error {
	rest, err := asn1.Unmarshal(v.FullBytes, out)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("trailing data")
	}
	return nil
}

// isBare reports whether an AlgorithmIdentifier is want with its
// parameters absent, as RFC 5754 and RFC 5758 prescribe for SHA-256 and
// ECDSA.
func isBare(alg asn1.ObjectIdentifier, params asn1.RawValue, want asn1.ObjectIdentifier) bool {
	return alg.Equal(want) && len(params.FullBytes) == 0
}

// algorithms names AlgorithmIdentifiers for messages.
func algorithms(algs ...pkix.AlgorithmIdentifier) string {
	var names []string
	for _, a := range algs {
		name := a.Algorithm.String()
		if len(a.Parameters.FullBytes) != 0 {
			name += " (with parameters)"
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// SignedAttributes returns the DER SET of the signed attributes, in the
// order received: the bytes the signature covers.
func (p *Parsed) SignedAttributes() ([]byte, error) {
	return p.Signer.SignedAttrs.MarshaledForVerification()
}

// UnsignedAttribute returns the encoding of the single value of unsigned
// attribute typ, or nil when the attribute is absent.
func (p *Parsed) UnsignedAttribute(typ asn1.ObjectIdentifier) []byte {
	for _, a := range p.Signer.UnsignedAttrs {
		if a.Type.Equal(typ) {
			v, _ := onlyValue(a) // Parse checked there is exactly one
			return v.FullBytes
		}
	}
	return nil
}

// UnsignedAttributeTypes lists the unsigned attributes present.
func (p *Parsed) UnsignedAttributeTypes() []asn1.ObjectIdentifier {
	var out []asn1.ObjectIdentifier
	for _, a := range p.Signer.UnsignedAttrs {
		out = append(out, a.Type)
	}
	return out
}

// ContentInfo reads a ContentInfo that is already known to be DER (a
// signature that passed the strict walker, or a part of one), refusing
// trailing bytes. It does not use ietf-cms's ParseContentInfo, whose
// BER-to-DER pass is pointless on DER and writes a package-level counter
// without a lock, which races when signatures are read on several
// goroutines.
func ContentInfo(der []byte) (ci protocol.ContentInfo, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed DER (%v)", r)
		}
	}()
	rest, err := asn1.Unmarshal(der, &ci)
	if err != nil {
		return protocol.ContentInfo{}, err
	}
	if len(rest) > 0 {
		return protocol.ContentInfo{}, protocol.ErrTrailingData
	}
	return ci, nil
}
