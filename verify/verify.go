// Package verify checks gitsign signatures on git objects: the CMS
// signature over its signed attributes, that those attributes bind the
// exact bytes git stores, the certificate chain to a trusted Fulcio at the
// time a transparency log or timestamp authority vouches for, the SCT, the
// transparency log entry (embedded, or looked up in Rekor for the
// reference's online mode), RFC 3161 timestamps, and who signed.
//
// The security-critical checks are sigstore-go's: this package turns a git
// signature, read strictly (package cms), into the bundle sigstore-go
// verifies. It does not read git objects, configuration or the network
// itself; the caller hands it the bytes, the trust material and, for
// online-mode signatures, a Log to look entries up in.
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

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/gitobj"
	"github.com/gitsign-dev/gitsign/internal/gpg"
	"github.com/gitsign-dev/gitsign/internal/rekor"
	"github.com/gitsign-dev/gitsign/internal/tsa"
)

// Options configure a Verifier.
type Options struct {
	// Policy is whose signatures to accept. It must be complete (an
	// identity rule and an issuer rule) unless AnyIdentityUnsafe is set.
	Policy Policy
	// AnyIdentityUnsafe, with an empty Policy, accepts a good signature by
	// any identity the trusted Fulcio certified; Result.PolicyChecked is
	// then false. Only git's helper path uses it, and reports such
	// signatures as of unknown validity.
	AnyIdentityUnsafe bool
	// Log, when set, is where online-mode signatures (which embed no log
	// entry) are looked up; without it they cannot be verified.
	Log Log
}

// Verifier checks signatures against one set of trust material and one
// policy, fixed when it is made; it is safe for concurrent use.
type Verifier struct {
	trust   root.TrustedMaterial
	log     Log
	rules   []rule             // nil: any identity (AnyIdentityUnsafe)
	plain   *sgverify.Verifier // for signatures with no timestamp
	stamped *sgverify.Verifier // for signatures with one RFC 3161 timestamp
}

// New returns a Verifier. It refuses a policy that is incomplete or has a
// regular expression that does not compile (a *PolicyError), so a bad
// setup is reported once, before any signature is read.
func New(trust root.TrustedMaterial, o Options) (*Verifier, error) {
	if trust == nil {
		return nil, errors.New("no trust material")
	}
	v := &Verifier{trust: trust, log: o.Log}
	switch {
	case o.Policy.Configured():
		rules, err := o.Policy.compile()
		if err != nil {
			return nil, err
		}
		v.rules = rules
	case !o.AnyIdentityUnsafe:
		return nil, &PolicyError{Missing: "identity"}
	}
	base := []sgverify.VerifierOption{
		sgverify.WithTransparencyLog(1),
		sgverify.WithObserverTimestamps(1),
		sgverify.WithSignedCertificateTimestamps(1),
	}
	var err error
	if v.plain, err = sgverify.NewVerifier(trust, base...); err != nil {
		return nil, err
	}
	if v.stamped, err = sgverify.NewVerifier(trust, append(base, sgverify.WithSignedTimestamps(1))...); err != nil {
		return nil, err
	}
	return v, nil
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
	// Rule is the origin of the policy rule that accepted the signature
	// (e.g. ".gitsigners:3"), when PolicyChecked.
	Rule string
}

// Kind classifies a failure for git's status lines.
type Kind int

const (
	// Bad: the signature is wrong or does not cover these bytes (BADSIG).
	Bad Kind = iota
	// Mismatch: the signature is good but not from whom the policy wants (BADSIG).
	Mismatch
	// Unverifiable: the signature cannot be checked here, or is not in the
	// one encoding gitsign accepts (ERRSIG).
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

// unsignedAttributes are the unsigned attributes a gitsign signature may
// carry; any other would let a third party change the signature's bytes.
var unsignedAttributes = []asn1.ObjectIdentifier{rekor.OIDTransparencyLogEntry, tsa.OIDTimeStampToken}

// Verify checks sig, a signature as git stores it (armored), over payload,
// the object bytes it signs. objectID returns the id of the signed object;
// it is needed only for online-mode signatures.
func (v *Verifier) Verify(ctx context.Context, payload, sig []byte, objectID func() (string, error)) (*Result, error) {
	p, err := cms.Parse(sig)
	if err != nil {
		return nil, fail(Unverifiable, nil, "%v", err)
	}
	cert := p.Cert
	for _, typ := range p.UnsignedAttributeTypes() {
		if !known(typ) {
			return nil, fail(Unverifiable, cert, "signature: unsigned attribute %s is not one gitsign signatures carry", typ)
		}
	}
	if sum := sha256.Sum256(payload); !bytes.Equal(p.MessageDigest, sum[:]) {
		return nil, fail(Bad, cert, "the signature is not over this object: its message digest differs from the object's")
	}
	attrs, err := p.SignedAttributes()
	if err != nil {
		return nil, fail(Unverifiable, cert, "%v", err)
	}
	var timestamps [][]byte
	if tok := p.UnsignedAttribute(tsa.OIDTimeStampToken); tok != nil {
		if err := tsa.CheckTokenForm(tok); err != nil {
			return nil, fail(Unverifiable, cert, "signature: %v", err)
		}
		timestamps = append(timestamps, timeStampResp(tok))
	}
	var (
		content  *protocommon.MessageSignature
		tle      *protorekor.TransparencyLogEntry
		artifact []byte
		raw      = p.UnsignedAttribute(rekor.OIDTransparencyLogEntry)
		online   = raw == nil
	)
	if !online {
		tle, err = embeddedEntry(raw, attrs, p)
		if err != nil {
			// A malformed or non-canonical entry is a signature in a form
			// gitsign does not accept; an entry that is well formed but not
			// this signature's fails in verifyBundle as Bad.
			return nil, fail(Unverifiable, cert, "%v", err)
		}
		artifact = attrs
		content = messageSignature(attrs, p.Signer.Signature)
	} else {
		var entrySig []byte
		if tle, entrySig, artifact, err = v.online(ctx, p, attrs, objectID); err != nil {
			return nil, err
		}
		content = messageSignature(artifact, entrySig)
		timestamps = nil // the reference's online flow signs the id, not the CMS signature
	}
	typ, _ := gitobj.Type(payload) // "" for other payloads: only rules for any object type apply
	res, err := v.verifyBundle(cert, content, tle, timestamps, artifact, typ)
	if err != nil {
		return nil, err
	}
	res.Online = online
	return res, nil
}

func known(typ asn1.ObjectIdentifier) bool {
	for _, k := range unsignedAttributes {
		if typ.Equal(k) {
			return true
		}
	}
	return false
}

func messageSignature(artifact, sig []byte) *protocommon.MessageSignature {
	digest := sha256.Sum256(artifact)
	return &protocommon.MessageSignature{
		MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: digest[:]},
		Signature:     sig,
	}
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

func (v *Verifier) verifyBundle(cert *x509.Certificate, content *protocommon.MessageSignature, tle *protorekor.TransparencyLogEntry, timestamps [][]byte, artifact []byte, objectType string) (*Result, error) {
	pb := &protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content:     &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: cert.Raw}},
			TlogEntries: []*protorekor.TransparencyLogEntry{tle},
		},
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: content},
	}
	verifier := v.plain
	if len(timestamps) > 0 {
		tvd := &protobundle.TimestampVerificationData{}
		for _, t := range timestamps {
			tvd.Rfc3161Timestamps = append(tvd.Rfc3161Timestamps, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: t})
		}
		pb.VerificationMaterial.TimestampVerificationData = tvd
		verifier = v.stamped
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, fail(Bad, cert, "log entry: %v", err)
	}
	// sigstore-go matches identities (SAN, issuer, CI claims) against the
	// rules that cover this kind of object; the validity windows, which it
	// does not know, are checked below against the times it verified.
	var rules []rule
	policyOpts := []sgverify.PolicyOption{sgverify.WithoutIdentitiesUnsafe()}
	if v.rules != nil {
		for _, r := range v.rules {
			if r.appliesTo(objectType) {
				rules = append(rules, r)
			}
		}
		if len(rules) > 0 {
			policyOpts = nil
			for _, r := range rules {
				policyOpts = append(policyOpts, sgverify.WithCertificateIdentity(r.id))
			}
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
	if out.Signature == nil || out.Signature.Certificate == nil {
		return nil, fail(Bad, cert, "sigstore-go verified no certificate")
	}
	var times []time.Time
	for _, ts := range out.VerifiedTimestamps {
		times = append(times, ts.Timestamp)
	}
	matched, accepted := "", v.rules == nil
	if v.rules != nil {
		if len(rules) == 0 {
			return nil, fail(Mismatch, cert, "signed by %s, but no rule of the identity policy covers %s objects", describe(cert), orAny(objectType))
		}
		var outside []string
		for _, r := range rules {
			if r.id.Verify(*out.Signature.Certificate) != nil {
				continue
			}
			if r.inWindow(times) {
				matched, accepted = r.origin, true
				break
			}
			outside = append(outside, r.origin)
		}
		if !accepted {
			return nil, fail(Mismatch, cert, "signed by %s at %s, outside the validity window of the rules that name it (%s)", describe(cert), formatTimes(times), strings.Join(outside, ", "))
		}
	}
	res := &Result{Cert: cert, Fingerprint: gpg.Fingerprint(cert), LogIndex: tle.LogIndex, PolicyChecked: v.rules != nil, Rule: matched}
	res.Identity = out.Signature.Certificate.SubjectAlternativeName
	res.Issuer = out.Signature.Certificate.Extensions.Issuer
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

func orAny(objectType string) string {
	if objectType == "" {
		return "such"
	}
	return objectType
}

func formatTimes(times []time.Time) string {
	var out []string
	for _, t := range times {
		out = append(out, t.UTC().Format(time.RFC3339))
	}
	return strings.Join(out, " and ")
}
