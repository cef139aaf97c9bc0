package verify

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/gitsign-dev/gitsign/internal/certinfo"
	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/gpg"
	"github.com/gitsign-dev/gitsign/internal/rekor"
	"github.com/gitsign-dev/gitsign/internal/tsa"
)

// verifyBundle has sigstore-go verify the signature as a bundle (the log
// entry, timestamps, certificate chain at each verified time, signature
// and identity), then checks the certificate's SCT and what sigstore-go
// does not know: which policy rules cover this object type and their
// validity windows.
func (v *Verifier) verifyBundle(cert *x509.Certificate, content content, tle *protorekor.TransparencyLogEntry, timestamps [][]byte, artifact []byte, objectType string) (*Result, error) {
	verifier := v.plain
	if len(timestamps) > 0 {
		var err error
		if verifier, err = v.stampedVerifier(); err != nil {
			return nil, fail(Unverifiable, cert, "%v", err)
		}
	}
	ent, err := newBundle(cert, content, tle, timestamps)
	if err != nil {
		return nil, fail(Bad, cert, "log entry: %v", err)
	}
	// sigstore-go matches identities (SAN, issuer, CI claims) against the
	// rules that cover this kind of object; the validity windows, which it
	// does not know, are checked below against the times it verified.
	pol, ok := v.policies[objectType]
	if !ok {
		pol = v.policies[""]
	}
	policyOpts := pol.opts
	if len(policyOpts) == 0 {
		// No rule covers this object type (refused below, once the
		// signature itself is known to be good), or no policy at all.
		policyOpts = []sgverify.PolicyOption{sgverify.WithoutIdentitiesUnsafe()}
	}
	// sigstore-go asks the bundle some questions more than once; the
	// entity answers each once (entity.go).
	artifactOpt := sgverify.WithArtifact(bytes.NewReader(artifact))
	if content.env != nil {
		// The envelope's payload is what is signed; the caller checks
		// what it says (VerifyEnvelope's contract).
		artifactOpt = sgverify.WithoutArtifactUnsafe()
	}
	out, err := verifier.Verify(ent, sgverify.NewPolicy(artifactOpt, policyOpts...))
	if err != nil {
		var idErr *sgverify.ErrNoMatchingCertificateIdentity
		if errors.As(err, &idErr) {
			return nil, notAccepted(cert, pol)
		}
		if why := v.entryProblem(tle); why != "" {
			return nil, fail(Bad, cert, "no valid transparency log entry for this signature: %s (%v)", why, err)
		}
		if why := v.issuerProblem(cert); why != "" {
			return nil, fail(Bad, cert, "%v: %s", err, why)
		}
		return nil, fail(Bad, cert, "%v", err)
	}
	if out.Signature == nil || out.Signature.Certificate == nil || len(out.VerifiedTimestamps) == 0 {
		return nil, fail(Bad, cert, "sigstore-go verified no certificate or no time")
	}
	// sigstore-go checks the chain at every verified time and the SCT
	// with the chains of the last one; so does checkSCT.
	sctIgnored := ""
	if err := v.checkSCT(cert, out.VerifiedTimestamps[len(out.VerifiedTimestamps)-1].Timestamp); err != nil {
		if !v.ignoreSCT {
			if errors.Is(err, ErrNoCTLog) {
				return nil, fail(Unverifiable, cert, "%v", err)
			}
			return nil, fail(Bad, cert, "failed to verify signed certificate timestamp: %v", err)
		}
		sctIgnored = strings.Join(strings.Fields(err.Error()), " ")
	}
	var times []time.Time
	for _, ts := range out.VerifiedTimestamps {
		times = append(times, ts.Timestamp)
	}
	matched, accepted := "", pol.any
	if !pol.any {
		if len(pol.rules) == 0 {
			return nil, fail(Mismatch, cert, "signed by %s, but no rule of the identity policy covers %s objects", certinfo.Describe(cert), orAny(objectType))
		}
		var outside []string
		for _, r := range pol.rules {
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
			return nil, fail(Mismatch, cert, "signed by %s at %s, outside the validity window of the rules that name it (%s)", certinfo.Describe(cert), formatTimes(times), strings.Join(outside, ", "))
		}
	}
	res := &Result{Cert: cert, Fingerprint: gpg.Fingerprint(cert), LogIndex: tle.LogIndex, PolicyChecked: !pol.any, Rule: matched, SCTIgnored: sctIgnored}
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

// newBundle returns the bundle sigstore-go verifies for one signature and
// its log entry, parsed once by sigstore-go's own parser.
//
// bundle.NewBundle would parse the entry twice per signature: once inside
// its validation, which keeps the result to itself, and again when Verify
// asks the bundle for its entries; each parse of a hashedrekord body has
// rekor's type validation verify the signature again. So newBundle splits
// what NewBundle does:
//
//  1. bundle.NewBundle validates a copy of the bundle without its log
//     entries: media type, content, verification material;
//  2. the bundle's own TlogEntries parses the entries, once;
//  3. the one rule of NewBundle's validation that looks at entries is
//     applied here: a v0.3 bundle's entries need an inclusion proof (this
//     requires one of every entry, where NewBundle requires one of any;
//     there is only ever one).
//
// newEntity then hands the parsed entries to Verify. Nothing changes the
// bundle afterwards. TestNewBundleDifferential checks, over every vector
// and every mutation of the sweep, that this refuses at least everything
// bundle.NewBundle refuses; rerun it on each sigstore-go upgrade.
func newBundle(cert *x509.Certificate, content content, tle *protorekor.TransparencyLogEntry, timestamps [][]byte) (*entity, error) {
	pb := protoBundle(cert, content, nil, timestamps)
	if _, err := bundle.NewBundle(pb); err != nil {
		return nil, err
	}
	pb.VerificationMaterial.TlogEntries = []*protorekor.TransparencyLogEntry{tle}
	b := &bundle.Bundle{Bundle: pb}
	entries, err := b.TlogEntries()
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if !e.HasInclusionProof() {
			return nil, errors.New("inclusion proof missing in bundle (required for bundle v0.2)")
		}
	}
	return newEntity(b, entries), nil
}

// protoBundle is the protobuf bundle of one signature: a v0.3 bundle with
// the leaf certificate, the message signature, the log entry (when not
// nil) and any timestamps.
func protoBundle(cert *x509.Certificate, content content, tle *protorekor.TransparencyLogEntry, timestamps [][]byte) *protobundle.Bundle {
	pb := &protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: cert.Raw}},
		},
	}
	if content.env != nil {
		pb.Content = &protobundle.Bundle_DsseEnvelope{DsseEnvelope: content.env}
	} else {
		pb.Content = &protobundle.Bundle_MessageSignature{MessageSignature: content.msg}
	}
	if tle != nil {
		pb.VerificationMaterial.TlogEntries = []*protorekor.TransparencyLogEntry{tle}
	}
	if len(timestamps) > 0 {
		tvd := &protobundle.TimestampVerificationData{}
		for _, t := range timestamps {
			tvd.Rfc3161Timestamps = append(tvd.Rfc3161Timestamps, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: t})
		}
		pb.VerificationMaterial.TimestampVerificationData = tvd
	}
	return pb
}

// entryProblem says why tle is not a valid log entry under the trust
// material, or "" if it cannot tell. It runs only after sigstore-go has
// refused a signature, and only chooses the message: the verdict (Bad) is
// the same either way. Its facts are this package's own (is the entry's
// log in the trusted root, was the log's key valid at the entry's time)
// and sigstore-go's exported SET check; each of them, when it fails, is
// enough for sigstore-go to find no valid entry.
func (v *Verifier) entryProblem(tle *protorekor.TransparencyLogEntry) string {
	logs := v.trust.RekorLogs()
	log, ok := logs[hex.EncodeToString(tle.GetLogId().GetKeyId())]
	if !ok {
		return "its log is not in the trusted root"
	}
	at := time.Unix(tle.GetIntegratedTime(), 0)
	if tle.GetInclusionPromise() == nil || log.ValidityPeriodStart.IsZero() {
		return ""
	}
	if at.Before(log.ValidityPeriodStart) || (!log.ValidityPeriodEnd.IsZero() && at.After(log.ValidityPeriodEnd)) {
		return fmt.Sprintf("its log's key was not trusted at the entry's time %s", at.UTC().Format(time.RFC3339))
	}
	entry, err := tlog.ParseTransparencyLogEntry(tle)
	if err != nil {
		return ""
	}
	if tlog.VerifySET(entry, logs) != nil {
		return "the log's signed entry timestamp does not verify over it, so it is not this signature's entry or was changed"
	}
	return ""
}

// content is what a bundle says was signed: a message signature over an
// artifact (commits and tags) or a DSSE envelope (attestations).
type content struct {
	msg *protocommon.MessageSignature
	env *protodsse.Envelope
}

func messageSignature(artifact, sig []byte) content {
	digest := sha256.Sum256(artifact)
	return content{msg: &protocommon.MessageSignature{
		MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: digest[:]},
		Signature:     sig,
	}}
}

// embeddedEntry decodes the log entry embedded in the signature, rebuilds
// its body from the signature (hashedrekord v0.0.1 entries are embedded
// without one; a v0.0.2 entry's must be exactly the rebuilt one) and
// checks that its unsigned fields equal the signed values they stand for
// (rekor.CheckBinding).
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
	digest := sha256.Sum256(attrs)
	switch tle.KindVersion.GetVersion() {
	case "0.0.1":
		if tle.CanonicalizedBody, err = rekor.HashedRekordV001(digest[:], p.Signer.Signature, p.Cert); err != nil {
			return nil, err
		}
	case "0.0.2":
		body, err := rekor.HashedRekordV002(digest[:], p.Signer.Signature, p.Cert)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(tle.CanonicalizedBody, body) {
			return nil, errors.New("log entry: its canonicalized_body is not the body Rekor v2 logs for this signature and certificate")
		}
	}
	if err := rekor.CheckBinding(tle); err != nil {
		return nil, err
	}
	return tle, nil
}

// timeStampResp wraps a TimeStampToken in the TimeStampResp (status
// granted) that sigstore-go reads.
func timeStampResp(token []byte) []byte { return tsa.Response(token) }

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

// issuerProblem says, after sigstore-go refused a signature, when no
// certificate authority of the trusted root holds the key that issued the
// signing certificate (its authority key id matches no trusted CA
// certificate's subject key id): a missing or wrong intermediate. It only
// words the failure; the verdict is sigstore-go's. "" when a trusted CA
// has that key, or the certificate names no issuing key.
func (v *Verifier) issuerProblem(cert *x509.Certificate) string {
	if len(cert.AuthorityKeyId) == 0 {
		return ""
	}
	for _, ca := range v.trust.FulcioCertificateAuthorities() {
		var fca *root.FulcioCertificateAuthority
		switch c := ca.(type) {
		case *chainMemo:
			fca = c.ca
		case *root.FulcioCertificateAuthority:
			fca = c
		default:
			return "" // an authority this check cannot look into
		}
		for _, c := range append([]*x509.Certificate{fca.Root}, fca.Intermediates...) {
			if c != nil && bytes.Equal(c.SubjectKeyId, cert.AuthorityKeyId) {
				return ""
			}
		}
	}
	return fmt.Sprintf("no certificate authority in the trusted root holds the key that issued the signing certificate (issuer %q, key id %x): a missing or different Fulcio intermediate?",
		cert.Issuer.String(), cert.AuthorityKeyId)
}
