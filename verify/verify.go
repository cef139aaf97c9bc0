// Package verify checks gitsign signatures on git objects: the CMS
// signature over its signed attributes, that those attributes bind the
// exact bytes git stores, the certificate chain to a trusted Fulcio at the
// time a transparency log or timestamp authority vouches for, the SCT, the
// transparency log entry (embedded, or looked up in Rekor for the
// reference's online mode), RFC 3161 timestamps, and who signed.
//
// The security-critical checks are sigstore-go's: this package reads a git
// signature strictly (one DER encoding, only the attributes gitsign
// signatures carry) and turns it into the bundle sigstore-go verifies. It
// does not read git objects, configuration, the environment or the network
// itself; the caller hands it the bytes, the trust material (LoadTrust)
// and, for online-mode signatures, a Log to look entries up in.
//
// A Verifier is built once per run, with New, and reused for every object:
// it checks each certificate's chain and SCT once, however many
// signatures carry that certificate. Failures are *Error values whose Kind
// says how git should report them; setups that cannot work are refused by
// New and LoadTrust with a *PolicyError or a *TrustError.
package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/gitsign-dev/gitsign/internal/cms"
	"github.com/gitsign-dev/gitsign/internal/gitobj"
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
	// InsecureIgnoreSCT accepts a certificate whose SCT does not verify
	// or that has none (a private Fulcio that does not log to a CT log);
	// Result.SCTIgnored then says why, for the caller to warn. Without
	// it, a trusted root that lists no CT log fails every signature with
	// ErrNoCTLog.
	InsecureIgnoreSCT bool
	// Log, when set, is where online-mode signatures (which embed no log
	// entry) are looked up; without it they cannot be verified.
	Log Log
}

// Verifier checks signatures against one set of trust material and one
// policy, fixed when it is made; it is safe for concurrent use. Build one
// per run and reuse it: a Verifier checks a certificate's chain to the
// trusted Fulcio and its SCT once, and reuses the answer for every
// signature under that exact certificate, while each signature's own
// time, log entry and bytes are still checked. The trust material must
// not change after New.
type Verifier struct {
	ignoreSCT bool
	trust     *memoTrust
	log       Log
	policies  map[string]policy  // by object type: "commit", "tag", "" (other)
	plain     *sgverify.Verifier // for signatures with no timestamp
	// stampedOpts configure the verifier for signatures with one RFC 3161
	// timestamp; stampedVerifier makes one per such signature.
	stampedOpts []sgverify.VerifierOption
	scts        memo[struct{}] // certificates whose SCT verified
}

// policy is the part of the identity policy that covers one object type,
// compiled once.
type policy struct {
	any   bool // no policy: any identity (AnyIdentityUnsafe)
	rules []rule
	opts  []sgverify.PolicyOption // the rules' identities, for sigstore-go
}

// New returns a Verifier. It refuses a policy that is incomplete or has a
// regular expression that does not compile (a *PolicyError), so a bad
// setup is reported once, before any signature is read.
func New(trust root.TrustedMaterial, o Options) (*Verifier, error) {
	if trust == nil {
		return nil, errors.New("no trust material")
	}
	v := &Verifier{trust: withMemo(trust), log: o.Log, policies: make(map[string]policy), ignoreSCT: o.InsecureIgnoreSCT}
	var rules []rule
	anyID := !o.Policy.Configured()
	switch {
	case o.Policy.Configured():
		var err error
		if rules, err = o.Policy.compile(); err != nil {
			return nil, err
		}
	case !o.AnyIdentityUnsafe:
		return nil, &PolicyError{Missing: "identity"}
	}
	for _, typ := range []string{"commit", "tag", ""} {
		p := policy{any: anyID, rules: make([]rule, 0, len(rules)), opts: make([]sgverify.PolicyOption, 0, len(rules))}
		for _, r := range rules {
			if r.appliesTo(typ) {
				p.rules = append(p.rules, r)
				p.opts = append(p.opts, sgverify.WithCertificateIdentity(r.id))
			}
		}
		v.policies[typ] = p
	}
	// The SCT is not among these: Verify checks it once per certificate
	// (checkSCT), after sigstore-go has accepted the rest.
	base := []sgverify.VerifierOption{
		sgverify.WithTransparencyLog(1),
		sgverify.WithObserverTimestamps(1),
	}
	var err error
	if v.plain, err = sgverify.NewVerifier(v.trust, base...); err != nil {
		return nil, err
	}
	v.stampedOpts = append(slices.Clip(base), sgverify.WithSignedTimestamps(1))
	if _, err = v.stampedVerifier(); err != nil {
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
	// SCTIgnored says why the certificate's SCT did not verify, when
	// Options.InsecureIgnoreSCT accepted it anyway; "" when it verified.
	SCTIgnored string
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

// Unwrap returns the cause.
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
//
// A commit or tag payload that repeats a header git allows once (tree,
// author, committer; object, type, tag, tagger) is refused as Bad before
// the signature is read: git and other readers would disagree about what
// it says (GHSA-7rmh-48mx-2vwc). To verify a whole object as git stores
// it, with the checks only the whole object allows, use VerifyObject.
func (v *Verifier) Verify(ctx context.Context, payload, sig []byte, objectID func() (string, error)) (*Result, error) {
	typ, _ := gitobj.Type(payload) // "" for other payloads: only rules for any object type apply
	if typ != "" {
		if err := gitobj.CheckHeaders(typ, payload); err != nil {
			return nil, fail(Bad, nil, "%v", err)
		}
	}
	return v.verify(ctx, typ, payload, sig, objectID)
}

// verify is Verify for a payload of type typ whose headers are checked.
func (v *Verifier) verify(ctx context.Context, typ string, payload, sig []byte, objectID func() (string, error)) (*Result, error) {
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
		content  content
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
	res, err := v.verifyBundle(cert, content, tle, timestamps, artifact, typ)
	if err != nil {
		return nil, err
	}
	res.Online = online
	return res, nil
}

// stampedVerifier returns a sigstore-go verifier for one signature with a
// timestamp: its trust material is the Verifier's, with timestamp
// authorities that answer each question about the token once.
func (v *Verifier) stampedVerifier() (*sgverify.Verifier, error) {
	return sgverify.NewVerifier(forOneSignature(v.trust), v.stampedOpts...)
}

func known(typ asn1.ObjectIdentifier) bool {
	for _, k := range unsignedAttributes {
		if typ.Equal(k) {
			return true
		}
	}
	return false
}
