// Package inspect describes a gitsign signature: who the certificate
// names and from which OIDC issuer, the Fulcio claims it carries, the
// certificate's serial, validity and fingerprint, the signer's claimed
// signing time, the transparency log entry embedded in it (or that there
// is none: online mode), and the time of an RFC 3161 timestamp token.
//
// It verifies nothing: no signature, certificate chain, log proof,
// timestamp or identity policy is checked, and no network is used (the
// one check it cannot avoid is digitorus/timestamp's: a token whose
// signature does not match the certificate inside it does not parse). What
// it reports is what the signature says, which is what a person needs to
// write a policy; package verify decides whether to believe it. It does
// refuse signatures that gitsign could never verify because of their form
// (cms.Parse's rules, an unsigned attribute gitsign signatures do not
// carry, a log entry or timestamp token that does not decode), with the
// reason on one line.
package inspect

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/digitorus/timestamp"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"

	"github.com/gitsign-dev/gitsign/internal/certinfo"
	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/gpg"
	"github.com/gitsign-dev/gitsign/internal/rekor"
	"github.com/gitsign-dev/gitsign/internal/tsa"
)

// Signing modes: where the transparency log entry is.
const (
	// Offline: the entry is embedded in the signature.
	Offline = "offline"
	// Online: nothing is embedded; the entry is in Rekor, filed under the
	// signed object's id.
	Online = "online"
)

// Identity types: which kind of subject alternative name the identity is.
const (
	Email = "email"
	URI   = "uri"
	Other = "other" // an otherName SAN (Fulcio's username identities)
)

// Description is what a signature says about itself. Times are UTC. Its
// JSON form is part of gitsign show --json (docs/json.md).
type Description struct {
	// Signer is who the certificate names.
	Signer `json:"signer"`
	// Claims are the Fulcio extensions present besides the issuer, in
	// OID order.
	Claims      Claims      `json:"claims"`
	Certificate Certificate `json:"certificate"`
	// SigningTime is the signer's own claim (the signingTime attribute),
	// proven by nothing.
	SigningTime time.Time `json:"signingTime"`
	// Mode is Offline or Online.
	Mode string `json:"mode"`
	// Log is the embedded log entry; nil in online mode.
	Log *LogEntry `json:"log,omitempty"`
	// Timestamp is the RFC 3161 timestamp token's content, when one is
	// present.
	Timestamp *Timestamp `json:"timestamp,omitempty"`
}

// Signer is who a certificate names. gitsign verify, show and cache
// status report it in this one shape.
type Signer struct {
	// Identity is the certificate's subject alternative name, chosen as
	// sigstore-go (and so gitsign verify) chooses it; IdentityType says
	// which kind it is: Email, URI or Other.
	Identity     string `json:"identity"`
	IdentityType string `json:"identityType"`
	// Issuer is the OIDC issuer in the certificate ("" if none).
	Issuer string `json:"issuer"`
}

// Certificate is the signer's certificate, in the shape gitsign verify,
// show and cache status report it.
type Certificate struct {
	Fingerprint string    `json:"fingerprint"` // as gitsign reports it (gpg.Fingerprint)
	Serial      string    `json:"serial"`      // lowercase hex, whole bytes
	NotBefore   time.Time `json:"notBefore"`
	NotAfter    time.Time `json:"notAfter"`
}

// CertificateOf is cert's serial, validity and fingerprint.
func CertificateOf(cert *x509.Certificate) Certificate {
	return Certificate{
		Fingerprint: gpg.Fingerprint(cert),
		Serial:      serialHex(cert.SerialNumber),
		NotBefore:   cert.NotBefore.UTC(),
		NotAfter:    cert.NotAfter.UTC(),
	}
}

// IdentityTypeOf says which kind of subject alternative name the
// identity sigstore-go picks from cert is: the first URI, else the first
// email address, else the otherName.
func IdentityTypeOf(cert *x509.Certificate) string {
	switch {
	case len(cert.URIs) > 0:
		return URI
	case len(cert.EmailAddresses) > 0:
		return Email
	default:
		return Other
	}
}

// LogEntry is an embedded transparency log entry.
type LogEntry struct {
	// Rekor is "v1" (hashedrekord 0.0.1), "v2" (hashedrekord 0.0.2), or
	// "" for another version.
	Rekor       string `json:"rekor"`
	Kind        string `json:"kind"`
	KindVersion string `json:"kindVersion"`
	Index       int64  `json:"index"`
	// IntegratedTime is when a Rekor v1 log says it recorded the entry;
	// zero when the entry has none (Rekor v2 gives no time).
	IntegratedTime time.Time `json:"integratedTime,omitzero"`
	// LogID is the log's key id, lowercase hex.
	LogID string `json:"logId"`
	// CheckpointOrigin is the first line of the inclusion proof's
	// checkpoint: the log's name ("" without a checkpoint).
	CheckpointOrigin string `json:"checkpointOrigin,omitempty"`
}

// Timestamp is what an RFC 3161 timestamp token says.
type Timestamp struct {
	Time time.Time `json:"time"`
	// Serial is the token's serial number, lowercase hex, whole bytes.
	Serial string `json:"serial"`
	// Authority is the subject of the certificate in the token ("" if it
	// carries none).
	Authority string `json:"authority,omitempty"`
}

// Error is a signature that cannot be described, with the reason on one
// line.
type Error struct{ Err error }

func (e *Error) Error() string { return strings.Join(strings.Fields(e.Err.Error()), " ") }
func (e *Error) Unwrap() error { return e.Err }

func refuse(format string, args ...any) error {
	return &Error{Err: fmt.Errorf(format, args...)}
}

// Signature describes sig, a signature as git stores it (armored). It
// returns an *Error for a signature it cannot describe.
func Signature(sig []byte) (*Description, error) {
	p, err := cms.Parse(sig)
	if err != nil {
		return nil, &Error{Err: err}
	}
	for _, typ := range p.UnsignedAttributeTypes() {
		if !typ.Equal(rekor.OIDTransparencyLogEntry) && !typ.Equal(tsa.OIDTimeStampToken) {
			return nil, refuse("signature: unsigned attribute %s is not one gitsign signatures carry", typ)
		}
	}
	d, err := describeCertificate(p.Cert)
	if err != nil {
		return nil, err
	}
	d.SigningTime = p.SigningTime.UTC()
	d.Mode = Online
	if raw := p.UnsignedAttribute(rekor.OIDTransparencyLogEntry); raw != nil {
		d.Mode = Offline
		if d.Log, err = describeEntry(raw); err != nil {
			return nil, err
		}
	}
	if tok := p.UnsignedAttribute(tsa.OIDTimeStampToken); tok != nil {
		if d.Timestamp, err = describeToken(tok); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// describeCertificate reads the identity, issuer, claims and facts of the
// signer's certificate.
func describeCertificate(cert *x509.Certificate) (*Description, error) {
	sum, err := certinfo.Of(cert)
	if err != nil {
		return nil, refuse("signature: certificate: %v", err)
	}
	d := &Description{Signer: Signer{Identity: sum.Identity, IdentityType: IdentityTypeOf(cert), Issuer: sum.Issuer}}
	d.Claims = claims(cert, sum.Extensions)
	d.Certificate = CertificateOf(cert)
	return d, nil
}

// serialHex writes a serial number as its big-endian bytes in lowercase
// hex (a zero serial as "00"), as certificate tools show serials.
func serialHex(n *big.Int) string {
	b := n.Bytes()
	if len(b) == 0 {
		return "00"
	}
	return fmt.Sprintf("%x", b)
}

// describeEntry decodes the embedded log entry (the value of its unsigned
// attribute: an OCTET STRING holding the protobuf).
func describeEntry(raw []byte) (*LogEntry, error) {
	var octets []byte
	if rest, err := asn1.Unmarshal(raw, &octets); err != nil || len(rest) != 0 {
		return nil, refuse("signature: embedded log entry is not an OCTET STRING")
	}
	tle, err := rekor.DecodeEntry(octets)
	if err != nil {
		return nil, refuse("signature: %v", err)
	}
	kv := tle.GetKindVersion()
	if kv.GetKind() != "hashedrekord" {
		return nil, refuse("signature: embedded log entry is a %q, want hashedrekord", kv.GetKind())
	}
	e := &LogEntry{
		Kind:        kv.GetKind(),
		KindVersion: kv.GetVersion(),
		Index:       tle.GetLogIndex(),
		LogID:       fmt.Sprintf("%x", tle.GetLogId().GetKeyId()),
	}
	switch e.KindVersion {
	case "0.0.1":
		e.Rekor = "v1"
	case "0.0.2":
		e.Rekor = "v2"
	}
	if t := tle.GetIntegratedTime(); t != 0 {
		e.IntegratedTime = time.Unix(t, 0).UTC()
	}
	e.CheckpointOrigin = checkpointOrigin(tle)
	return e, nil
}

// checkpointOrigin is the first line of the entry's checkpoint.
func checkpointOrigin(tle *protorekor.TransparencyLogEntry) string {
	origin, _, _ := strings.Cut(tle.GetInclusionProof().GetCheckpoint().GetEnvelope(), "\n")
	return origin
}

// describeToken reads a TimeStampToken in the form gitsign accepts,
// without judging its authority (digitorus/timestamp checks only that the
// token's signature matches the certificate inside it).
func describeToken(tok []byte) (ts *Timestamp, err error) {
	if err := tsa.CheckTokenForm(tok); err != nil {
		return nil, refuse("signature: %v", err)
	}
	defer func() {
		if r := recover(); r != nil {
			ts, err = nil, refuse("signature: timestamp token: malformed (%v)", r)
		}
	}()
	t, err := timestamp.Parse(tok)
	if err != nil {
		return nil, refuse("signature: timestamp token: %v", err)
	}
	if t.SerialNumber == nil {
		return nil, refuse("signature: timestamp token: no serial number")
	}
	ts = &Timestamp{Time: t.Time.UTC(), Serial: serialHex(t.SerialNumber)}
	if len(t.Certificates) > 0 {
		ts.Authority = t.Certificates[0].Subject.String()
	}
	return ts, nil
}
