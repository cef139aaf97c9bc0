package cms

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/github/smimesign/ietf-cms/oid"
	"github.com/github/smimesign/ietf-cms/protocol"
)

// goodSignature returns a detached signature in gitsign's layout with a
// log-entry-like unsigned attribute, as a SignedData to edit.
func goodSignature(t *testing.T) *protocol.SignedData {
	t.Helper()
	key, cert := fixedIdentity(t)
	s, err := Sign(payload, cert, key, time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddUnsignedAttribute(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 3, 1}, []byte("entry")); err != nil {
		t.Fatal(err)
	}
	return s.sd
}

func encode(t *testing.T, sd *protocol.SignedData) []byte {
	t.Helper()
	der, err := sd.ContentInfoDER()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func attr(t *testing.T, typ asn1.ObjectIdentifier, val any) protocol.Attribute {
	t.Helper()
	a, err := protocol.NewAttribute(typ, val)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestParseStrict edits one thing at a time in a good signature; each edit
// leaves a signature ietf-cms reads and must be refused with its own error.
func TestParseStrict(t *testing.T) {
	good := encode(t, goodSignature(t))
	if _, err := Parse(Armor(good)); err != nil {
		t.Fatalf("the unedited signature: %v", err)
	}
	otherCert := otherCert(t)
	var otherRaw asn1.RawValue
	asn1.Unmarshal(otherCert.Raw, &otherRaw)
	entryOID := asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 3, 1}
	tsaOID := asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}

	edits := map[string]struct {
		edit func(sd *protocol.SignedData, si *protocol.SignerInfo)
		want string
	}{
		"two SignerInfos": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			sd.SignerInfos = append(sd.SignerInfos, *si)
		}, "2 signers, want exactly 1"},
		"SID by subject key id": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			si.Version = 3
			si.SID = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: bytes.Repeat([]byte{7}, 20)}
		}, "named by subject key identifier"},
		"SID of another certificate": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			si.SID, _ = protocol.NewIssuerAndSerialNumber(otherCert)
		}, "does not name the certificate"},
		"SignerInfo version 3": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			si.Version = 3
		}, "SignerInfo version 3"},
		"two messageDigest attributes": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			si.SignedAttrs = append(si.SignedAttrs, attr(t, oid.AttributeMessageDigest, bytes.Repeat([]byte{1}, 32)))
		}, "messageDigest appears more than once"},
		"messageDigest with two values": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			for i, a := range si.SignedAttrs {
				if a.Type.Equal(oid.AttributeMessageDigest) {
					v, _ := a.Value()
					setValues(t, &si.SignedAttrs[i], v.Elements[0], v.Elements[0])
				}
			}
		}, "messageDigest: 2 values"},
		"messageDigest not an OCTET STRING": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			replaceAttr(t, si, oid.AttributeMessageDigest, "a printable string, not octets")
		}, "messageDigest is not an OCTET STRING"},
		"messageDigest of SHA-1 size": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			replaceAttr(t, si, oid.AttributeMessageDigest, bytes.Repeat([]byte{1}, 20))
		}, "messageDigest is 20 bytes"},
		"no contentType": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			removeAttr(si, oid.AttributeContentType)
		}, "no contentType signed attribute"},
		"wrong contentType": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			replaceAttr(t, si, oid.AttributeContentType, oid.ContentTypeSignedData)
		}, "contentType is 1.2.840.113549.1.7.2, want id-data"},
		"no signingTime": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			removeAttr(si, oid.AttributeSigningTime)
		}, "no signingTime signed attribute"},
		"an unknown signed attribute": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			si.SignedAttrs = append(si.SignedAttrs, attr(t, asn1.ObjectIdentifier{1, 2, 3, 4}, 5))
		}, "signed attribute 1.2.3.4 is not one gitsign signatures carry"},
		"signed attributes out of DER order": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			a := si.SignedAttrs
			a[0], a[2] = a[2], a[0]
		}, "signed attributes are not in DER order"},
		"signer digest SHA-384": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			si.DigestAlgorithm = pkix.AlgorithmIdentifier{Algorithm: oid.DigestAlgorithmSHA384}
		}, "signer digest algorithm 2.16.840.1.101.3.4.2.2, want SHA-256"},
		"signer digest SHA-256 with NULL parameters": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			si.DigestAlgorithm.Parameters = asn1.NullRawValue
		}, "(with parameters), want SHA-256"},
		"signature algorithm ecdsa-with-SHA384": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			si.SignatureAlgorithm = pkix.AlgorithmIdentifier{Algorithm: oid.SignatureAlgorithmECDSAWithSHA384}
		}, "want ecdsa-with-SHA256"},
		"SignedData digest SHA-1 too": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			sd.DigestAlgorithms = append(sd.DigestAlgorithms, pkix.AlgorithmIdentifier{Algorithm: oid.DigestAlgorithmSHA1})
		}, "want only SHA-256"},
		"SignedData version 3": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			sd.Version = 3
		}, "SignedData version 3"},
		"attached content": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			sd.EncapContentInfo, _ = protocol.NewDataEncapsulatedContentInfo(payload)
		}, "attached"},
		"content type not id-data": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			sd.EncapContentInfo.EContentType = oid.ContentTypeSignedData
		}, "content type 1.2.840.113549.1.7.2, want id-data"},
		"a decoy certificate": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			sd.Certificates = append(sd.Certificates, otherRaw)
		}, "carries 2 certificates"},
		"no certificate": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			sd.Certificates = nil
		}, "carries no certificate"},
		"revocation lists": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			sd.CRLs = []asn1.RawValue{otherRaw}
		}, "carries revocation lists"},
		"a duplicated unsigned attribute": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			si.UnsignedAttrs = append(si.UnsignedAttrs, attr(t, entryOID, []byte("another entry")))
		}, "unsigned attribute 1.3.6.1.4.1.57264.3.1 appears more than once"},
		"an unsigned attribute with two values": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			v, _ := si.UnsignedAttrs[0].Value()
			setValues(t, &si.UnsignedAttrs[0], v.Elements[0], v.Elements[0])
		}, "2 values, want 1"},
		"an unsigned attribute with no value": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			setValues(t, &si.UnsignedAttrs[0])
		}, "0 values, want 1"},
		"a second unsigned attribute": {func(sd *protocol.SignedData, si *protocol.SignerInfo) {
			si.UnsignedAttrs = append(si.UnsignedAttrs, attr(t, tsaOID, []byte("token")))
		}, ""}, // allowed here; which types may appear is verify's decision
	}
	for name, tc := range edits {
		t.Run(name, func(t *testing.T) {
			sd := goodSignature(t)
			tc.edit(sd, &sd.SignerInfos[0])
			der := encode(t, sd)
			_, err := Parse(Armor(der))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

// setValues replaces an attribute's values.
func setValues(t *testing.T, a *protocol.Attribute, values ...asn1.RawValue) {
	t.Helper()
	a.RawValue = asn1.RawValue{}
	if err := protocol.NewAnySet(values...).Encode(&a.RawValue); err != nil {
		t.Fatal(err)
	}
}

func replaceAttr(t *testing.T, si *protocol.SignerInfo, typ asn1.ObjectIdentifier, val any) {
	for i, a := range si.SignedAttrs {
		if a.Type.Equal(typ) {
			si.SignedAttrs[i] = attr(t, typ, val)
		}
	}
}

func removeAttr(si *protocol.SignerInfo, typ asn1.ObjectIdentifier) {
	var keep protocol.Attributes
	for _, a := range si.SignedAttrs {
		if !a.Type.Equal(typ) {
			keep = append(keep, a)
		}
	}
	si.SignedAttrs = keep
}

// TestParseStrictEncoding changes only the encoding of a good signature:
// the same values, encoded otherwise, must not verify as the same
// signature (each such change would give a signed commit a new id).
func TestParseStrictEncoding(t *testing.T) {
	good := encode(t, goodSignature(t))
	armored := Armor(good)
	// Indefinite outer length: 30 82 LL LL ... becomes 30 80 ... 00 00.
	indefinite := append(append([]byte{0x30, 0x80}, good[4:]...), 0, 0)
	// The same length in long form with a leading zero byte.
	longLen := append([]byte{0x30, 0x83, 0x00, good[2], good[3]}, good[4:]...)
	// Unsigned attributes out of order.
	sd := goodSignature(t)
	si := &sd.SignerInfos[0]
	si.UnsignedAttrs = append(si.UnsignedAttrs, attr(t, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}, []byte("token")))
	sorted := encode(t, sd)
	if _, err := Parse(Armor(sorted)); err != nil {
		t.Fatal(err)
	}
	unsorted := swapUnsigned(t, sorted, si.UnsignedAttrs)

	wide := pem.EncodeToMemory(&pem.Block{Type: PEMType, Bytes: good})
	wide = bytes.ReplaceAll(wide, []byte("\n"), nil)
	wide = append(bytes.ReplaceAll(bytes.ReplaceAll(wide, []byte("-----BEGIN SIGNED MESSAGE-----"), []byte("-----BEGIN SIGNED MESSAGE-----\n")), []byte("-----END"), []byte("\n-----END")), '\n')

	cases := map[string]struct {
		in   []byte
		der  bool
		want string
	}{
		"bytes after the ContentInfo":      {append(append([]byte{}, good...), 0, 0), true, "2 bytes after the end of the signature"},
		"another ContentInfo after it":     {append(append([]byte{}, good...), good...), true, "bytes after the end"},
		"indefinite length":                {indefinite, true, "indefinite length"},
		"length with a leading zero byte":  {longLen, true, "length not minimal"},
		"unsigned attributes out of order": {unsorted, true, "not in canonical DER form"},
		"PEM header line":                  {bytes.Replace(armored, []byte("-----\n"), []byte("-----\nComment: hi\n\n"), 1), false, "not in canonical form"},
		"base64 on one line":               {wide, false, "not in canonical form"},
		"CRLF line ends":                   {bytes.ReplaceAll(armored, []byte("\n"), []byte("\r\n")), false, "does not start with"},
		"CRLF after the first line":        {bytes.ReplaceAll(armored, []byte("\n-----END"), []byte("\r\n-----END")), false, "not in canonical form"},
		"trailing space":                   {bytes.Replace(armored, []byte("\n-----END"), []byte(" \n-----END"), 1), false, "not in canonical form"},
		"no final newline":                 {armored[:len(armored)-1], false, "not in canonical form"},
		"text after the armor":             {append(append([]byte{}, armored...), "hello\n"...), false, "bytes after the PEM armor"},
		"text before the armor":            {append([]byte("hello\n"), armored...), false, "does not start with"},
		"another armor type":               {bytes.ReplaceAll(armored, []byte("SIGNED MESSAGE"), []byte("PKCS7")), false, "does not start with"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := tc.in
			if tc.der {
				in = Armor(tc.in)
			}
			_, err := Parse(in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// swapUnsigned returns der with its two unsigned attributes swapped.
func swapUnsigned(t *testing.T, der []byte, attrs protocol.Attributes) []byte {
	t.Helper()
	a, _ := asn1.Marshal(attrs[0])
	b, _ := asn1.Marshal(attrs[1])
	ab := append(append([]byte{}, a...), b...)
	ba := append(append([]byte{}, b...), a...)
	if bytes.Count(der, ab) != 1 {
		t.Fatal("unsigned attributes not found in order")
	}
	return bytes.Replace(der, ab, ba, 1)
}
