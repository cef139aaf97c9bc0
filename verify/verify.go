// Package verify checks gitsign signatures on git objects: the CMS
// signature over its signed attributes, that those attributes bind the
// exact bytes git stores, the certificate chain to a trusted Fulcio at the
// time a transparency log or timestamp authority vouches for, the SCT, the
// transparency log entry (embedded, or looked up in Rekor for the
// reference's online mode), RFC 3161 timestamps, and who signed.
//
// The security-critical checks are sigstore-go's: this package only turns
// a git signature into the bundle sigstore-go verifies.
package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/github/smimesign/ietf-cms/oid"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/gpg"
	"github.com/gitsign-dev/gitsign/internal/rekor"
	"github.com/gitsign-dev/gitsign/internal/tsa"
)

// Verifier checks signatures against one set of trust material.
type Verifier struct {
	Trust root.TrustedMaterial
	// Rekor, when set, is where online-mode signatures (which embed no log
	// entry) are looked up; without it they cannot be verified.
	Rekor *rekor.Client
	// Policy is whose signatures to accept. An empty policy checks no
	// identity, and Result.PolicyChecked says so.
	Policy Policy
}

// Result describes a good signature.
type Result struct {
	Cert          *x509.Certificate
	Fingerprint   string    // lowercase hex SHA-1 of the certificate
	Identity      string    // the certificate's SAN
	Issuer        string    // the OIDC issuer in the certificate
	Time          time.Time // when the log or a timestamp authority saw it
	LogIndex      int64
	Online        bool // the log entry was looked up in Rekor
	Timestamped   bool // an RFC 3161 timestamp verified
	PolicyChecked bool // an identity policy was applied and matched
}

// Kind classifies a failure for git's status lines.
type Kind int

const (
	// Bad: the signature is wrong or does not cover these bytes (BADSIG).
	Bad Kind = iota
	// Mismatch: the signature is good but not from whom the policy wants (BADSIG).
	Mismatch
	// Unverifiable: the signature cannot be checked here (ERRSIG).
	Unverifiable
)

// Error is a failed verification.
type Error struct {
	Kind Kind
	Cert *x509.Certificate // the signer's certificate, when it was read
	Err  error
}

// Error is the failure on one line (some causes span several).
func (e *Error) Error() string {
	return strings.Join(strings.Fields(e.Err.Error()), " ")
}
func (e *Error) Unwrap() error { return e.Err }

func fail(kind Kind, cert *x509.Certificate, format string, args ...any) *Error {
	return &Error{Kind: kind, Cert: cert, Err: fmt.Errorf(format, args...)}
}

// Verify checks sig, a signature as git stores it (armored or DER), over
// payload, the object bytes it signs. objectID returns the id of the
// signed object; it is needed only for online-mode signatures.
func (v *Verifier) Verify(ctx context.Context, payload, sig []byte, objectID func() (string, error)) (*Result, error) {
	p, err := cms.Parse(sig)
	if err != nil {
		return nil, fail(Unverifiable, nil, "%v", err)
	}
	cert := p.Cert
	if err := checkContentBinding(p, payload); err != nil {
		return nil, &Error{Kind: Bad, Cert: cert, Err: err}
	}
	attrs, err := p.SignedAttributes()
	if err != nil {
		return nil, fail(Unverifiable, cert, "%v", err)
	}
	var timestamps [][]byte
	if tok, err := p.UnsignedAttribute(tsa.OIDTimeStampToken); err != nil {
		return nil, fail(Bad, cert, "%v", err)
	} else if tok != nil {
		timestamps = append(timestamps, timeStampResp(tok))
	}
	raw, err := p.UnsignedAttribute(rekor.OIDTransparencyLogEntry)
	if err != nil {
		return nil, fail(Bad, cert, "%v", err)
	}
	var (
		content  *protocommon.MessageSignature
		tle      *protorekor.TransparencyLogEntry
		artifact []byte
		online   = raw == nil
	)
	if !online {
		tle, err = embeddedEntry(raw, attrs, p)
		if err != nil {
			return nil, fail(Bad, cert, "%v", err)
		}
		artifact = attrs
		digest := sha256.Sum256(attrs)
		content = &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: digest[:]},
			Signature:     p.Signer.Signature,
		}
	} else {
		// The log holds a signature over the object id, made with the
		// same key; the CMS signature itself is checked here.
		if err := cert.CheckSignature(x509.ECDSAWithSHA256, attrs, p.Signer.Signature); err != nil {
			return nil, fail(Bad, cert, "signature does not verify over its signed attributes: %v", err)
		}
		id, err := objectID()
		if err != nil {
			return nil, fail(Unverifiable, cert, "online-mode signature: %v", err)
		}
		var entrySig []byte
		tle, entrySig, err = v.lookupOnline(ctx, id, cert)
		if err != nil {
			return nil, err
		}
		artifact = []byte(id)
		digest := sha256.Sum256(artifact)
		content = &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: digest[:]},
			Signature:     entrySig,
		}
		timestamps = nil // the reference's online flow signs the id, not the CMS signature
	}
	res, err := v.verifyBundle(cert, content, tle, timestamps, artifact)
	if err != nil {
		return nil, err
	}
	res.Online = online
	return res, nil
}

// checkContentBinding checks that the signed attributes are about these
// bytes: SHA-256 digest, id-data content type, and the messageDigest.
func checkContentBinding(p *cms.Parsed, payload []byte) error {
	si := p.Signer
	if !si.DigestAlgorithm.Algorithm.Equal(oid.DigestAlgorithmSHA256) {
		return fmt.Errorf("signature uses digest %s, want SHA-256", si.DigestAlgorithm.Algorithm)
	}
	ct, err := si.GetContentTypeAttribute()
	if err != nil {
		return fmt.Errorf("signed attributes: %v", err)
	}
	if !ct.Equal(oid.ContentTypeData) || !p.SignedData.EncapContentInfo.EContentType.Equal(oid.ContentTypeData) {
		return fmt.Errorf("signed content type is %s, want id-data", ct)
	}
	md, err := si.GetMessageDigestAttribute()
	if err != nil {
		return fmt.Errorf("signed attributes: %v", err)
	}
	sum := sha256.Sum256(payload)
	if !bytes.Equal(md, sum[:]) {
		return errors.New("the signature is not over this object: its message digest differs from the object's")
	}
	if econtent := p.SignedData.EncapContentInfo.EContent.Bytes; len(econtent) != 0 {
		return errors.New("the signature carries content of its own (attached); git signatures are detached")
	}
	return nil
}

// embeddedEntry decodes the log entry embedded in the signature and gives
// a hashedrekord v0.0.1 entry back its body, rebuilt from the signature.
func embeddedEntry(raw, attrs []byte, p *cms.Parsed) (*protorekor.TransparencyLogEntry, error) {
	var octets []byte
	if rest, err := asn1.Unmarshal(raw, &octets); err != nil || len(rest) != 0 {
		return nil, errors.New("embedded log entry is not an OCTET STRING")
	}
	tle, err := rekor.DecodeEntry(octets)
	if err != nil {
		return nil, err
	}
	if tle.KindVersion.GetKind() != "hashedrekord" {
		return nil, fmt.Errorf("embedded log entry is a %q, want hashedrekord", tle.KindVersion.GetKind())
	}
	if tle.KindVersion.GetVersion() == "0.0.1" {
		digest := sha256.Sum256(attrs)
		if tle.CanonicalizedBody, err = rekor.HashedRekordV001(digest[:], p.Signer.Signature, p.Cert); err != nil {
			return nil, err
		}
	}
	return tle, nil
}

// timeStampResp wraps a TimeStampToken in the TimeStampResp (status
// granted) that sigstore-go reads.
func timeStampResp(token []byte) []byte {
	granted := []byte{0x30, 0x03, 0x02, 0x01, 0x00}
	body := append(granted, token...)
	out, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: body})
	return out
}

func (v *Verifier) verifyBundle(cert *x509.Certificate, content *protocommon.MessageSignature, tle *protorekor.TransparencyLogEntry, timestamps [][]byte, artifact []byte) (*Result, error) {
	pb := &protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content:     &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: cert.Raw}},
			TlogEntries: []*protorekor.TransparencyLogEntry{tle},
		},
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: content},
	}
	opts := []sgverify.VerifierOption{
		sgverify.WithTransparencyLog(1),
		sgverify.WithObserverTimestamps(1),
		sgverify.WithSignedCertificateTimestamps(1),
	}
	if len(timestamps) > 0 {
		tvd := &protobundle.TimestampVerificationData{}
		for _, t := range timestamps {
			tvd.Rfc3161Timestamps = append(tvd.Rfc3161Timestamps, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: t})
		}
		pb.VerificationMaterial.TimestampVerificationData = tvd
		opts = append(opts, sgverify.WithSignedTimestamps(len(timestamps)))
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, fail(Bad, cert, "log entry: %v", err)
	}
	verifier, err := sgverify.NewVerifier(v.Trust, opts...)
	if err != nil {
		return nil, fail(Unverifiable, cert, "%v", err)
	}
	policyOpts := []sgverify.PolicyOption{sgverify.WithoutIdentitiesUnsafe()}
	if v.Policy.Configured() {
		ids, err := v.Policy.identities()
		if err != nil {
			return nil, fail(Unverifiable, cert, "identity policy: %v", err)
		}
		policyOpts = nil
		for _, id := range ids {
			policyOpts = append(policyOpts, sgverify.WithCertificateIdentity(id))
		}
	}
	out, err := verifier.Verify(b, sgverify.NewPolicy(sgverify.WithArtifact(bytes.NewReader(artifact)), policyOpts...))
	if err != nil {
		var idErr *sgverify.ErrNoMatchingCertificateIdentity
		if errors.As(err, &idErr) {
			return nil, fail(Mismatch, cert, "signed by %s, which the identity policy does not accept: %v", describe(cert), err)
		}
		if strings.Contains(err.Error(), "not enough verified log entries") {
			return nil, fail(Bad, cert, "no valid transparency log entry for this signature: the entry is not this signature's, or its log is not in the trusted root (%v)", err)
		}
		return nil, fail(Bad, cert, "%v", err)
	}
	res := &Result{Cert: cert, Fingerprint: gpg.Fingerprint(cert), LogIndex: tle.LogIndex, PolicyChecked: v.Policy.Configured()}
	if out.Signature != nil && out.Signature.Certificate != nil {
		res.Identity = out.Signature.Certificate.SubjectAlternativeName
		res.Issuer = out.Signature.Certificate.Extensions.Issuer
	}
	for _, ts := range out.VerifiedTimestamps {
		if ts.Type == "TimestampAuthority" {
			res.Timestamped = true
		}
		if res.Time.IsZero() || ts.Timestamp.Before(res.Time) {
			res.Time = ts.Timestamp
		}
	}
	return res, nil
}
